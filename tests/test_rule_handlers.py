"""Handler names are validated when a rule class is defined: a typo is an error, not silence."""

from __future__ import annotations

import libcst as cst
import pytest

from isolint.callgraph import FlowCollector
from isolint.config import Settings
from isolint.context import RuleContext
from isolint.errors import IsolintError, RuleDefinitionError
from isolint.facts import FactCollector
from isolint.imports import ImportTable
from isolint.rule import NODE_TYPES, Rule, handler_problems
from isolint.rules import load_rules
from isolint.runner import LintOptions, file_info
from isolint.walk import Walker


def test_misspelt_visit_handler_is_an_error_naming_rule_and_method() -> None:
    with pytest.raises(RuleDefinitionError) as caught:

        class Typo(Rule):
            code = "ISO999"

            def visit_FunctionDefn(self, node: cst.FunctionDef) -> None:
                pass

    message = str(caught.value)
    assert "ISO999" in message and "Typo" in message
    assert "`visit_FunctionDefn`" in message
    assert "did you mean `visit_FunctionDef`?" in message
    assert isinstance(caught.value, IsolintError)


def test_abstract_node_types_and_leave_handlers_are_checked_too() -> None:
    with pytest.raises(RuleDefinitionError, match="leave_BaseExpression"):

        class Abstract(Rule):
            code = "ISO998"

            def leave_BaseExpression(self, node: cst.BaseExpression) -> None:
                pass


def test_inherited_bad_handler_is_reported_on_the_subclass_too() -> None:
    class Mixin:
        def visit_Clasdef(self, node: cst.ClassDef) -> None:
            pass

    with pytest.raises(RuleDefinitionError, match="visit_Clasdef"):

        class Mixed(Mixin, Rule):
            code = "ISO997"


def test_valid_handlers_pass() -> None:
    class Fine(Rule):
        code = "ISO996"

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            pass

        def leave_MatchList(self, node: cst.MatchList) -> None:
            pass

    assert handler_problems(Fine) == []
    assert {"FunctionDef", "Module", "MatchList"} <= NODE_TYPES
    assert "BaseExpression" not in NODE_TYPES


def test_every_shipped_rule_and_engine_collector_has_valid_handlers() -> None:
    for visitor in (*load_rules(), FactCollector, FlowCollector):
        assert handler_problems(visitor) == [], visitor


class _Recorder:
    """A visitor with a method handler and a leave handler."""

    code = "ISO097"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.seen.append(f"visit {node.value}")

    def leave_Call(self, node: cst.Call) -> None:
        self.seen.append("leave call")


class _Static:
    """A visitor whose handler is a staticmethod: not a plain function of its class."""

    code = "ISO096"
    seen: list[str] = []

    @staticmethod
    def visit_Name(node: cst.Name) -> None:
        _Static.seen.append(node.value)


def _walk(walker: Walker, visitors: list[object]) -> None:
    options = LintOptions.create(Settings(), ())
    info = file_info("pkg/mod.py", options)
    module = cst.parse_module("f(a, b)\n")
    context = RuleContext(info, module, options.settings, ImportTable(info.module_name, False))
    assert walker.walk(context, visitors) == []  # type: ignore[arg-type]


def test_walks_reuse_the_dispatch_table_and_bind_each_files_visitors() -> None:
    walker = Walker()
    first, second = _Recorder(), _Recorder()
    _walk(walker, [first])
    _walk(walker, [second])  # the same class: the cached table, called with this visitor
    assert first.seen == second.seen == ["visit f", "visit a", "visit b", "leave call"]


def test_a_handler_that_is_not_a_plain_function_is_still_called() -> None:
    _Static.seen.clear()
    walker = Walker()
    recorder = _Recorder()
    for _ in range(2):
        _walk(walker, [recorder, _Static()])
    assert _Static.seen == ["f", "a", "b"] * 2
    assert recorder.seen == ["visit f", "visit a", "visit b", "leave call"] * 2
