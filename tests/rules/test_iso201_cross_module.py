"""ISO201 across modules: a container defined in one module and mutated from another."""

from __future__ import annotations

from isolint.rule import Example
from isolint.testing import lint_example
from isolint.rules import load_rules

CFG = "CACHE = {}\nREGISTRY = []\nLOOKUP = {'a': 1}\n"
FILES = (("app/__init__.py", "from app.cfg import CACHE\n"), ("app/cfg.py", CFG))


def _found(code: str, extra: tuple[tuple[str, str], ...] = ()) -> list[tuple[str, int, str]]:
    example = Example(code=code, path="app/use.py", files=FILES + extra)
    return [
        (d.path, d.span.line, d.message)
        for d in lint_example(example, load_rules(), ["ISO201"])
        if d.code == "ISO201"
    ]


def test_subscript_assignment_through_from_import() -> None:
    found = _found("from app.cfg import CACHE\n\ndef remember(k, v):\n    CACHE[k] = v\n")
    assert [(p, line) for p, line, _ in found] == [("app/cfg.py", 1)]
    assert "`app.use`" in found[0][2] and "`remember()`" in found[0][2]


def test_method_call_through_module_attribute() -> None:
    found = _found("from app import cfg\n\ndef add(x):\n    cfg.REGISTRY.append(x)\n")
    assert [(p, line) for p, line, _ in found] == [("app/cfg.py", 2)]


def test_through_a_package_re_export() -> None:
    found = _found("from app import CACHE\n\ndef forget(k):\n    del CACHE[k]\n")
    assert [(p, line) for p, line, _ in found] == [("app/cfg.py", 1)]


def test_read_only_use_is_not_reported() -> None:
    assert (
        _found(
            "from app.cfg import LOOKUP, CACHE\n\ndef get(k):\n    return LOOKUP[k], CACHE.get(k)\n"
        )
        == []
    )


def test_parameter_shadowing_the_import_is_not_the_container() -> None:
    assert _found("from app.cfg import CACHE\n\ndef fill(CACHE, k):\n    CACHE[k] = 1\n") == []


def test_import_time_mutation_is_not_reported() -> None:
    assert _found("from app.cfg import REGISTRY\n\nREGISTRY.append('plugin')\n") == []
