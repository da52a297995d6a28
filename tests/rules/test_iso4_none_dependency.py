"""ISO401-ISO404: calls checked against resolved callees only, as a type checker would (issue 12)."""

from __future__ import annotations

import pytest

from isolint.rule import Example
from isolint.testing import lint_example
from isolint.rules import load_rules

FACTORY = """
from dataclasses import dataclass, field
from typing import Optional, overload


class Emitter:
    def send(self, event: str) -> None: ...


class KVStore: ...


class Factory:
    def create(self, emitter: Emitter, block_id: str = "b") -> None: ...

    def create_optional(self, emitter: Optional[Emitter] = None) -> None: ...


class Notifier:
    @classmethod
    def create_for_user(cls, emitter, exec_context):
        return cls()


@dataclass
class Scope:
    kv: KVStore
    name: str = "default"


class Agent:
    def __init__(self, llm: Emitter) -> None:
        self.llm = llm

    @classmethod
    def offline(cls) -> "Agent":
        return cls(llm=None)


class Blocks:
    def render(self, block_id: str) -> None: ...


class Link:
    @overload
    def __init__(self, *, href: str) -> None: ...
    @overload
    def __init__(self, *, href_route_name: str) -> None: ...
    def __init__(self, *, href=None, href_route_name=None) -> None: ...


manager = Factory()
"""
FILES = (("app/__init__.py", ""), ("app/core.py", FACTORY))


def _found(code: str, select: str, path: str = "app/use.py") -> list[tuple[str, int, str]]:
    example = Example(code=code, path=path, files=FILES)
    return [
        (d.path, d.span.line, d.message)
        for d in lint_example(example, load_rules(), [select])
        if d.code == select and d.path == path
    ]


def _lines(code: str, select: str = "ISO401") -> list[int]:
    return [line for _, line, _ in _found(code, select)]


# -- 1. dependencies, not values ------------------------------------------------------------------
def test_none_for_value_parameter_is_not_reported() -> None:
    assert _lines("from app.core import Blocks\n\nBlocks().render(block_id=None)\n") == []


def test_none_for_annotated_collaborator_is_reported() -> None:
    assert _lines("from app.core import Factory\n\nFactory().create(emitter=None)\n") == [3]


def test_unannotated_dependency_name_is_reported() -> None:
    code = (
        "from app.core import Notifier\n\nNotifier.create_for_user(emitter=None, exec_context=1)\n"
    )
    found = _found(code, "ISO401")
    assert [line for _, line, _ in found] == [3]
    assert "dependency `emitter`" in found[0][2]


def test_unannotated_value_name_is_not_reported() -> None:
    code = "from app.core import Notifier\n\nNotifier.create_for_user(1, exec_context=None)\n"
    assert _lines(code.replace("exec_context=None", "exec_context=None")) == [3]
    other = "def make(cls, user_id): ...\n\nmake(1, user_id=None)\n"
    assert _lines(other) == []


# -- 2. resolution: instances, annotated parameters, dataclasses, cls(...) -------------------------
def test_method_on_instance_built_in_scope_points_at_definition() -> None:
    code = "from app.core import Factory\n\ndef go():\n    f = Factory()\n    f.create(None)\n"
    found = _found(code, "ISO401")
    assert [line for _, line, _ in found] == [5]
    assert "app/core.py:13" in found[0][2] and "create(emitter: Emitter" in found[0][2]


def test_method_on_annotated_parameter_is_reported() -> None:
    code = "from app.core import Factory\n\ndef handler(f: Factory):\n    f.create(emitter=None)\n"
    assert _lines(code) == [4]


def test_optional_parameter_on_instance_is_not_reported() -> None:
    code = "from app.core import Factory\n\ndef handler(f: Factory):\n    f.create_optional(None)\n"
    assert _lines(code) == []


def test_module_level_instance_is_resolved() -> None:
    assert _lines("from app.core import manager\n\nmanager.create(None)\n") == [3]


def test_comprehension_variable_does_not_hide_the_function_local_of_the_same_name() -> None:
    """A comprehension's ``for`` target lives in the comprehension's own scope (isolint.scopes):
    after it, and in its first iterable, the function's ``f`` is still the ``Factory``."""
    code = (
        "from app.core import Factory\n\n"
        "def go(items):\n"
        "    f = Factory()\n"
        "    names = [f for f in items]\n"
        "    f.create(None)\n"
        "    [f.create(None) for f in items]\n"
        "    [g for g in f.create(None)]\n"
    )
    assert _lines(code) == [6, 8]
    walrus = (  # a walrus in a comprehension binds in the function
        "from app.core import Factory\n\n"
        "def go(items):\n"
        "    if any((f := Factory()) for _ in items):\n"
        "        f.create(None)\n"
    )
    assert _lines(walrus) == [5]


def test_unknown_receiver_is_not_reported() -> None:
    assert _lines("def handler(f):\n    f.create(emitter=None)\n") == []


def test_dataclass_field_dependency_is_reported() -> None:
    assert _lines("from app.core import Scope\n\nScope(kv=None)\n") == [3]
    assert _lines("from app.core import Scope, KVStore\n\nScope(KVStore(), name=None)\n") == []


def test_cls_call_in_classmethod_is_reported() -> None:
    example = Example(code="import app.core\n", path="app/use.py", files=FILES)
    found = [
        (d.path, d.span.line)
        for d in lint_example(example, load_rules(), ["ISO401"])
        if d.code == "ISO401"
    ]
    assert ("app/core.py", 36) in found


# -- 2. overloads, *args, decorators ---------------------------------------------------------------
def test_call_matching_second_overload_is_not_reported() -> None:
    assert _lines('from app.core import Link\n\nLink(href_route_name="home")\n', "ISO404") == []


def test_call_matching_no_overload_and_failing_at_run_time_is_reported() -> None:
    found = _found('from app.core import Link\n\nLink(route="home")\n', "ISO404")
    assert [line for _, line, _ in found] == [3]
    assert "raises `TypeError`" in found[0][2]


def test_varargs_callee_is_uncheckable() -> None:
    code = "def build_it(*args, **kwargs): ...\n\nbuild_it(emitter=None, other=1)\n"
    assert _lines(code, "ISO404") == [] and _lines(code) == []


def test_unknown_decorator_makes_the_call_uncheckable() -> None:
    code = (
        "from somewhere import task\nfrom app.core import Emitter\n\n@task\n"
        "def create_job(emitter: Emitter): ...\n\ncreate_job(None)\ncreate_job(wrong=1)\n"
    )
    assert _lines(code) == [] and _lines(code, "ISO404") == []


def test_known_decorator_keeps_the_call_checkable() -> None:
    code = (
        "import functools\nfrom app.core import Emitter\n\n@functools.lru_cache\n"
        "def create_job(emitter: Emitter): ...\n\ncreate_job(None)\n"
    )
    assert _lines(code) == [7]


# -- 3. ISO402 is off by default and honest ------------------------------------------------------
def test_alembic_style_none_is_not_reported_by_default() -> None:
    example = Example(code="from alembic import op\n\nop.create_foreign_key(None, 'a', 'b')\n")
    assert [d for d in lint_example(example, load_rules(), []) if d.code.startswith("ISO4")] == []


def test_iso402_when_selected_says_it_could_not_check() -> None:
    example = Example(code="from vendor import ws\n\nws.create_client(None)\n")
    found = [d for d in lint_example(example, load_rules(), ["ISO402"]) if d.code == "ISO402"]
    assert len(found) == 1 and found[0].message.startswith("isolint could not check this call")


# -- 4. ISO404 wording ----------------------------------------------------------------------------
def test_iso404_says_dependency_only_for_dependencies() -> None:
    dep = _found("from app.core import Scope\n\nScope(name='x')\n", "ISO404")
    assert len(dep) == 1 and "the dependency `kv` never arrives" in dep[0][2]
    value = _found("from app.core import Blocks\n\nBlocks().render()\n", "ISO404")
    assert value == []  # not a factory-like or constructor call
    ctor = _found("from app.core import Scope, KVStore\n\nScope(KVStore(), nme='x')\n", "ISO404")
    assert len(ctor) == 1 and "dependency" not in ctor[0][2] and "TypeError" in ctor[0][2]


# -- 5. error assertions are exempt ---------------------------------------------------------------
@pytest.mark.parametrize(
    "code",
    [
        (
            "import pytest\nfrom app.core import Scope\n\ndef test_x():\n"
            "    with pytest.raises(TypeError):\n        Scope(kv=None)\n"
        ),
        (
            "import unittest\nfrom app.core import Scope\n\nclass T(unittest.TestCase):\n"
            "    def test_x(self):\n        with self.assertRaises(TypeError):\n"
            "            Scope(kv=None)\n"
        ),
        (
            "import unittest\nfrom app.core import Scope\n\nclass T(unittest.TestCase):\n"
            "    def test_x(self):\n        self.assertRaisesRegex(TypeError, 'kv', lambda: Scope(kv=None))\n"
        ),
        (
            "import pytest\nfrom app.core import Scope\n\ndef test_x():\n"
            "    pytest.raises(TypeError, lambda: Scope(kv=None))\n"
        ),
    ],
)
def test_error_assertions_are_exempt(code: str) -> None:
    found = _found(code, "ISO401", path="tests/test_scope.py")
    assert [f for f in found if f[0] == "tests/test_scope.py"] == []


def test_outside_error_assertion_is_reported_in_tests() -> None:
    code = "from app.core import Scope\n\ndef test_x():\n    Scope(kv=None)\n"
    found = _found(code, "ISO401", path="tests/test_scope.py")
    assert [line for p, line, _ in found if p == "tests/test_scope.py"] == [4]


# -- 6. every message points at the definition ------------------------------------------------------
def test_messages_and_related_point_at_the_definition() -> None:
    example = Example(
        code="from app.core import Scope\n\nScope(kv=None)\n", path="app/use.py", files=FILES
    )
    found = [d for d in lint_example(example, load_rules(), ["ISO401"]) if d.path == "app/use.py"]
    assert len(found) == 1
    assert "app/core.py:25" in found[0].message and "__init__(kv: KVStore" in found[0].message
    assert [(r.path, r.line) for r in found[0].related] == [("app/core.py", 25)]


def test_dependency_names_are_configurable() -> None:
    example = Example(
        code="def make(cls, user_id, broker): ...\n\nmake(1, 2, broker=None)\n",
        config=(("dependency-names", ["broker"]),),
    )
    found = [d for d in lint_example(example, load_rules(), ["ISO401"]) if d.code == "ISO401"]
    assert [d.span.line for d in found] == [3]
