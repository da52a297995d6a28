"""Function-local imports are visible in their function only, whatever order the walk takes."""

from __future__ import annotations

import libcst as cst
import pytest

from isolint.imports import ImportBinding, ImportTable
from isolint.rule import Example
from isolint.testing import lint_example
from isolint.rules import load_rules

RULES = load_rules()


def _import(source: str) -> cst.Import | cst.ImportFrom:
    statement = cst.parse_statement(source)
    assert isinstance(statement, cst.SimpleStatementLine)
    node = statement.body[0]
    assert isinstance(node, (cst.Import, cst.ImportFrom))
    return node


def test_scope_layer_restores_what_it_hid() -> None:
    table = ImportTable("app.service", False)
    table.add(_import("from collections import OrderedDict as deque"))
    table.enter_scope()
    table.add(_import("from collections import deque"))
    table.add(_import("import json"))
    assert table.qualified_name(cst.Name("deque")) == "collections.deque"
    assert "json" in table.bindings
    table.exit_scope()
    assert table.qualified_name(cst.Name("deque")) == "collections.OrderedDict"
    assert "json" not in table.bindings
    # The project index still hears of local imports, after the module-level ones.
    assert table.module_bindings() == (
        ImportBinding("deque", "collections.OrderedDict", "collections"),
        ImportBinding("deque", "collections.deque", "collections"),
        ImportBinding("json", "json", "json"),
    )


LOCAL_IMPORT_BEFORE = """
def g():
    from collections import deque
    return deque()


def f(x=deque()):
    return x
"""

LOCAL_IMPORT_AFTER = """
def f(x=deque()):
    return x


def g():
    from collections import deque
    return deque()
"""


@pytest.mark.parametrize("code", [LOCAL_IMPORT_BEFORE, LOCAL_IMPORT_AFTER], ids=["before", "after"])
def test_local_import_does_not_leak_into_other_functions(code: str) -> None:
    found = lint_example(Example(code), RULES, ["ISO204"])
    assert [d for d in found if d.code == "ISO204"] == []


def test_local_import_is_seen_by_the_functions_nested_in_it() -> None:
    code = """
    def g():
        from collections import deque

        def f(x=deque()):
            return x
        return f


    def h(y=deque()):
        return y
    """
    found = [d for d in lint_example(Example(code), RULES, ["ISO204"]) if d.code == "ISO204"]
    assert [(d.span.line, "`f`" in d.message) for d in found] == [(4, True)]


def test_module_level_import_wins_over_a_local_one_of_the_same_name() -> None:
    code = """
    from collections import deque


    def g():
        from mylib import deque
        return deque()


    def f(x=deque()):
        return x
    """
    found = [d for d in lint_example(Example(code), RULES, ["ISO204"]) if d.code == "ISO204"]
    assert [d.span.line for d in found] == [9]
