"""Candidate payloads are typed: each cross-module rule declares a frozen dataclass (``Rule.payload``),
``add_candidate`` accepts only instances of it, and the cache stores and rebuilds exactly those
classes (``payload_classes``), so a warm run reports what a cold one did."""

from __future__ import annotations

import inspect
import json
import shutil
import zlib
from collections.abc import Callable
from dataclasses import dataclass, is_dataclass
from pathlib import Path

import libcst as cst
import pytest

from isolint.cache import Cache, pack_index
from isolint.config import Settings
from isolint.diagnostics import Candidate, FileResult, Span
from isolint.errors import RuleDefinitionError
from isolint.rule import Rule, payload_classes
from isolint.runner import LintOptions, lint_many
from isolint.serial import Codec, SerialError
from isolint.rules import load_rules
from isolint.rules._aliases import AliasWrite, Origin
from isolint.rules._calls import CallShape, NoneArgument
from tests.conftest import FIXTURES, Completed

Run = Callable[..., Completed]
_MAGIC = b"ISOLINT-CACHE-2\n"


@dataclass(frozen=True)
class _Declared:
    name: str


@dataclass(frozen=True)
class _Other:
    name: str


class _WrongPayload(Rule):
    """A fake rule that declares one payload class and passes another."""

    code = "ISO097"
    name = "wrong-payload"
    summary = "never reported"
    payload = _Declared

    def visit_Module(self, node: cst.Module) -> None:
        self.add_candidate(node, _Other("x"))


class _TuplePayload(Rule):
    """A fake rule in the old style: no payload class, a positional tuple."""

    code = "ISO096"
    name = "tuple-payload"
    summary = "never reported"

    def visit_Module(self, node: cst.Module) -> None:
        self.add_candidate(node, ("module", "name"))


class _RightPayload(Rule):
    code = "ISO095"
    name = "right-payload"
    summary = "never reported"
    payload = _Declared

    def visit_Module(self, node: cst.Module) -> None:
        self.add_candidate(node, _Declared(self.context.info.module_name))


def _lint(tmp_path: Path, *rules: type[Rule]) -> FileResult:
    source = tmp_path / "app.py"
    source.write_text("x = 1\n")
    options = LintOptions.create(Settings(), rules)
    (result,) = lint_many([("app.py", str(source))], options)
    return result


def test_a_payload_of_the_wrong_class_is_a_clear_error_of_that_rule(tmp_path: Path) -> None:
    result = _lint(tmp_path, _WrongPayload, _RightPayload)
    (error,) = result.errors
    assert error.rule == "ISO097"
    assert error.message == (
        "internal error in ISO097: RuleDefinitionError: rule ISO097 "
        f"({__name__}._WrongPayload) passed a _Other to add_candidate, but "
        "declares `payload = _Declared`"
    )
    # the other rule's candidate survives, typed
    (candidate,) = result.candidates
    assert candidate.code == "ISO095"
    assert candidate.payload_as(_Declared) == _Declared("app")


def test_a_positional_tuple_without_a_payload_class_is_refused(tmp_path: Path) -> None:
    (error,) = _lint(tmp_path, _TuplePayload).errors
    assert "rule ISO096" in error.message
    assert "passed a tuple to add_candidate, but declares no `payload` class" in error.message


def test_payload_declarations_are_checked_when_the_rule_class_is_defined() -> None:
    @dataclass
    class Mutable:
        name: str

    with pytest.raises(RuleDefinitionError, match="is not a frozen dataclass"):

        class _Bad(Rule):
            code = "ISO094"
            payload = Mutable

    with pytest.raises(RuleDefinitionError, match="is not a dataclass"):

        class _Worse(Rule):
            code = "ISO093"
            payload = tuple

    @dataclass(frozen=True)
    class Local:
        name: str

    with pytest.raises(RuleDefinitionError, match="not defined at module level"):

        class _Local(Rule):
            code = "ISO092"
            payload = Local


def test_payload_as_names_the_rule_on_a_mismatch() -> None:
    candidate = Candidate("ISO401", "app/x.py", Span(3, 1, 3, 5), "f", _Other("x"))
    with pytest.raises(TypeError, match=r"ISO401 candidate at app/x.py:3 carries a _Other"):
        candidate.payload_as(_Declared)


def test_every_rule_that_records_candidates_declares_its_payload() -> None:
    for rule in load_rules():
        records = "self.add_candidate(" in inspect.getsource(inspect.getmodule(rule))  # type: ignore[arg-type]
        assert (rule.payload is not None) == records, rule.code


def test_payload_classes_follow_nested_dataclasses() -> None:
    classes = payload_classes(load_rules())
    assert {AliasWrite, Origin, NoneArgument, CallShape} <= set(classes)
    assert all(is_dataclass(cls) for cls in classes)


def test_typed_payloads_round_trip_and_unknown_classes_fail_closed() -> None:
    shape = CallShape("Notifier", "app.views", True, 1, ("emitter",), False, False)
    values = (
        NoneArgument(shape, "emitter"),
        NoneArgument(shape, 0),
        AliasWrite(
            "app.views", Origin("plugins", "item", "plugins.get(slug)", 1), "`user`", "x", False
        ),
    )
    codec = Codec.create(payload_classes(load_rules()))
    for value in values:
        result = FileResult(
            "app/views.py", candidates=(Candidate("ISO401", "p", Span(1, 1, 1, 2), "f", value),)
        )
        assert codec.loads(codec.dumps(result)) == result
    # without the rules' classes nothing is written, and a stored tag is not trusted
    plain = Codec.create()
    with pytest.raises(SerialError):
        plain.dumps(values[0])
    with pytest.raises(SerialError, match="unknown type"):
        plain.loads(codec.dumps(values[0]))


def test_a_cache_reads_back_what_the_rules_stored(tmp_path: Path) -> None:
    cache = Cache.open(tmp_path / "cache", "configuration", payload_classes(load_rules()))
    shape = CallShape("f", "app", False, 0, (), False, False)
    result = FileResult(
        "a.py", candidates=(Candidate("ISO404", "a.py", Span(1, 1, 1, 2), "x", shape),)
    )
    key = cache.key("a.py", b"f()\n")
    cache.put(key, result)
    assert cache.get(key) == result
    other = Cache.open(tmp_path / "cache", "configuration")  # the rules' classes unknown here
    assert other.get(key) is None  # a miss, not an error or an import by name


def _entries(cache_dir: Path) -> list[Path]:
    """The packs, which hold the per-file entries."""
    return [p for p in cache_dir.rglob("*.pack") if p.is_file()]


def _stored(pack: Path) -> bytes:
    """The decompressed parts of a pack's entries (each: its facts, then the rest)."""
    index = pack_index(pack)
    assert index is not None
    data = pack.read_bytes()
    parts: list[bytes] = []
    for start, length in index.values():
        body = data[start : start + length].split(b"\n", 2)[2]
        end = 8 + int.from_bytes(body[:8], "big")
        parts += [zlib.decompress(body[8:end])] if end > 8 else []
        parts.append(zlib.decompress(body[end:]))
    return b"".join(parts)


@pytest.mark.parametrize("fixture", ["multi_package", "request_bleed", "ssot_migration"])
def test_cold_and_warm_runs_give_identical_json(isolint: Run, tmp_path: Path, fixture: str) -> None:
    root = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, root, ignore=shutil.ignore_patterns(".isolint_cache"))
    cold = isolint("check", "--format", "json", ".", cwd=root)
    assert cold.returncode == 1, cold.stderr
    entries = _entries(root / ".isolint_cache")
    assert entries
    stored = b"".join(_stored(p) for p in entries)
    assert b'"isolint.rules.' in stored  # the typed payloads went into the cache
    written = {p: p.stat().st_mtime_ns for p in entries}
    warm = isolint("check", "--format", "json", ".", cwd=root)
    assert warm.stdout == cold.stdout
    assert json.loads(warm.stdout)["diagnostics"]
    assert all(p.stat().st_mtime_ns == mtime for p, mtime in written.items())  # read, not redone
