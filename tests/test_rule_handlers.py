"""Handler names are validated when a rule class is defined: a typo is an error, not silence."""

from __future__ import annotations

import libcst as cst
import pytest

from isolint.callgraph import FlowCollector
from isolint.errors import IsolintError, RuleDefinitionError
from isolint.facts import FactCollector
from isolint.rule import NODE_TYPES, Rule, handler_problems
from isolint.rules import load_rules


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
