"""ISO204: a mutable default argument value, one object shared by every call."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from isolint.api import Example, Rule

_MUTABLE_CONSTRUCTORS = frozenset(
    {
        "list",
        "dict",
        "set",
        "bytearray",
        "collections.defaultdict",
        "collections.OrderedDict",
        "collections.deque",
        "collections.Counter",
    }
)


class MutableDefaultArgument(Rule):
    """
    ## What it does
    Finds parameters whose default value is a mutable container: a list, dict or set literal or
    comprehension, or a call to a container constructor such as `dict()` or `defaultdict(list)`.

    ## Why is this bad?
    Python evaluates a default value once, when the function is defined. Every call that omits
    the argument receives the *same* object, for the life of the process. In a multi-user
    service, whatever one request appends to it is still there when the next user's request
    calls the function: one user's data bleeds into another user's response. Default to `None`
    and create the object inside the function, so each call gets its own.

    ## Known problems
    A default that is deliberately shared and never mutated is still reported; write a tuple,
    a `frozenset` or `None` instead to make the intent explicit.
    """

    code: ClassVar[str] = "ISO204"
    name: ClassVar[str] = "mutable-default-argument"
    summary: ClassVar[str] = "Mutable default argument value shared by every call"
    message: ClassVar[str] = (
        "Parameter `{param}` of `{function}` has a mutable default `{value}`: it is created once "
        "and shared by every call (and every user); default to `None` and create it in the body"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            def add_message(user_id, message, history=[]):
                history.append((user_id, message))
                return history
            """,
            expected_line=1,
            expected_message="Parameter `history` of `add_message` has a mutable default `[]`",
        ),
        Example(
            code="""
            def merge_settings(overrides: dict = {}):
                return overrides
            """,
            expected_line=1,
            expected_message="Parameter `overrides` of `merge_settings` has a mutable default `{}`",
        ),
        Example(
            code="""
            from collections import defaultdict

            class Inbox:
                def collect(self, items, seen=defaultdict(list), *, tags=set()):
                    return seen
            """,
            expected_line=4,
            expected_message="of `collect` has a mutable default",
        ),
        Example(
            code="""
            import collections

            def enqueue(job, pending=collections.deque()):
                pending.append(job)
                return pending
            """,
            expected_line=3,
            expected_message="Parameter `pending` of `enqueue` has a mutable default `collections.deque()`",
        ),
        Example(
            code="""
            def index(
                users,
                by_id={user.id: user for user in ()},
                names=[user.name for user in ()],
                tags={tag for tag in ()},
            ):
                return by_id
            """,
            expected_line=(3, 4, 5),
            expected_message="of `index` has a mutable default",
        ),
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        """
        def pick(keys=("a", "b"), limit=10, frozen=frozenset({1})):
            return keys[:limit]
        """,
        """
        def handler(callback=list, label: str = "x", mode=None):
            return callback()
        """,
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        """
        def add_message(user_id, message, history=None):
            history = [] if history is None else history
            history.append((user_id, message))
            return history
        """,
        """
        def merge_settings(overrides: dict | None = None):
            return {} if overrides is None else overrides
        """,
    )

    def visit_Param(self, node: cst.Param) -> None:
        default = node.default
        if default is None or not self._is_mutable(default):
            return
        function = self._function_name()
        owner = self.context.scope_name()
        qualname = function if self.context.at_module_level() else f"{owner}.{function}"
        self.report(
            default,
            sites=(qualname,) if function not in ("<lambda>", "<function>") else (),
            param=node.name.value,
            function=function,
            value=" ".join(self.context.code_for(default).split())[:40],
        )

    def _function_name(self) -> str:
        for ancestor in reversed(self.context.ancestors):
            if isinstance(ancestor, cst.FunctionDef):
                return ancestor.name.value
            if isinstance(ancestor, cst.Lambda):
                return "<lambda>"
        return "<function>"

    def _is_mutable(self, value: cst.BaseExpression) -> bool:
        if isinstance(
            value, (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)
        ):
            return True
        if isinstance(value, cst.Call):
            if isinstance(value.func, cst.Name) and value.func.value in (
                "list",
                "dict",
                "set",
                "bytearray",
            ):
                return value.func.value not in self.context.imports.bindings
            qualified = self.context.imports.qualified_name(value.func)
            return qualified in _MUTABLE_CONSTRUCTORS
        return False
