"""ISO501: a symbol with a configured canonical module defined in another module."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import libcst as cst

from isolint.api import Candidate, Example, Option, ProjectFinding, ProjectIndex, Rule, RuleContext
from isolint.rules._ssot import CANONICAL, DEPRECATED_MODULES, canonical_map, under_type_checking

_ENGINE = """
class ExecutionEngine:
    def __init__(self, user_context):
        self.user_context = user_context
"""
_SSOT = (
    (
        "ssot",
        {
            "canonical": {
                "ExecutionEngine": "app.engine",
                "get_websocket_manager": "app.ws",
            }
        },
    ),
)
_WS = """
def get_websocket_manager(user_context):
    return {"user": user_context}
"""


@dataclass(frozen=True)
class Redefinition:
    """ISO501's candidate: ``module`` binds ``symbol``, whose canonical home is ``canonical``;
    ``alias_of`` is the qualified name of the object it is bound to (``X = other.X``), else ""."""

    symbol: str
    canonical: str
    module: str
    alias_of: str


class CanonicalRedefinition(Rule):
    """
    ## What it does
    Finds a module-level class, function or assignment that defines a symbol listed in
    `[tool.isolint.ssot] canonical` in a module other than its canonical one, e.g. a second
    `class ExecutionEngine` in a legacy module. Definitions under `if TYPE_CHECKING:`, nested
    definitions, re-exports of the canonical object (`Engine = canonical.Engine`) and the module
    the canonical module itself imports the symbol from (a package re-exporting its
    implementation) are not reported.

    ## Why is this bad?
    Two implementations of one service drift apart. When a user-isolation bug (state shared
    between users, a missing per-user context) is fixed in the canonical implementation, the copy
    keeps the bug, and every caller that still reaches the copy keeps leaking one user's data to
    another. A single definition means a fix lands everywhere at once: delete the copy and
    import the canonical object; a module that must keep the old name for its callers
    re-exports it (`from app.engine import ExecutionEngine`).

    ## Options
    Besides `ssot.canonical`, this rule reads `ssot.deprecated-modules` to check the configuration:
    it warns when a configured canonical module is not in the project or does not define or
    import its symbol, and when a deprecated module's replacement is not in the project.
    """

    code: ClassVar[str] = "ISO501"
    name: ClassVar[str] = "canonical-redefinition"
    options: ClassVar[tuple[Option[Any], ...]] = (CANONICAL, DEPRECATED_MODULES)
    summary: ClassVar[str] = "Symbol with a canonical module defined again in another module"
    message: ClassVar[str] = (
        "`{symbol}` is defined here, but its canonical module is `{canonical}`: delete this "
        "copy and use `from {canonical} import {symbol}`"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            class ExecutionEngine:
                def __init__(self):
                    self.results = {}
            """,
            path="app/legacy/engine.py",
            files=(("app/engine.py", _ENGINE), ("app/ws.py", _WS)),
            config=_SSOT,
        ),
        Example(
            code="""
            _manager = None

            def get_websocket_manager(user_context=None):
                global _manager
                if _manager is None:
                    _manager = object()
                return _manager
            """,
            path="app/routes/ws.py",
            files=(("app/engine.py", _ENGINE), ("app/ws.py", _WS)),
            config=_SSOT,
        ),
        Example(
            code="""
            from app.fallback import FallbackEngine

            ExecutionEngine = FallbackEngine
            """,
            path="app/compat.py",
            files=(
                ("app/engine.py", _ENGINE),
                ("app/ws.py", _WS),
                ("app/fallback.py", "class FallbackEngine:\n    pass\n"),
            ),
            config=_SSOT,
        ),
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app import engine
            from app.ws import get_websocket_manager as _get_manager

            ExecutionEngine = engine.ExecutionEngine
            get_websocket_manager = _get_manager
            """,
            path="app/legacy/engine.py",
            files=(("app/engine.py", _ENGINE), ("app/ws.py", _WS)),
            config=_SSOT,
        ),
        Example(
            code="""
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                class ExecutionEngine:
                    user_context: object

            class Runner:
                class ExecutionEngine:
                    pass

                def get_websocket_manager(self):
                    return None
            """,
            path="app/runner.py",
            files=(("app/engine.py", _ENGINE), ("app/ws.py", _WS)),
            config=_SSOT,
        ),
        Example(
            code="""
            class ExecutionEngine:
                def __init__(self, user_context):
                    self.user_context = user_context
            """,
            path="app/engine/core.py",
            files=(
                ("app/engine/__init__.py", "from app.engine.core import ExecutionEngine\n"),
                ("app/ws.py", _WS),
            ),
            config=(("ssot", {"canonical": {"ExecutionEngine": "app.engine"}}),),
        ),
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app.engine import ExecutionEngine  # re-exported for old callers, not copied
            """,
            path="app/legacy/engine.py",
            files=(("app/engine.py", _ENGINE), ("app/ws.py", _WS)),
            config=_SSOT,
        ),
        Example(
            code="""
            from app.ws import get_websocket_manager

            def connect(user_context):
                return get_websocket_manager(user_context)  # the per-user canonical one
            """,
            path="app/routes/ws.py",
            files=(("app/engine.py", _ENGINE), ("app/ws.py", _WS)),
            config=_SSOT,
        ),
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._canonical = canonical_map(context)
        self._module = context.info.module_name

    def _defines(
        self, name: cst.Name, value: cst.BaseExpression | None = None, *, assigned: bool = False
    ) -> None:
        canonical = self._canonical.get(name.value)
        if canonical is None or canonical == self._module:
            return
        if not self.context.at_module_level() or under_type_checking(self.context):
            return
        alias_of = ""
        if assigned and value is not None:
            alias_of = self.context.imports.qualified_name(value) or ""
            if alias_of == f"{canonical}.{name.value}":
                return  # a re-export of the canonical object
        self.add_candidate(name, Redefinition(name.value, canonical, self._module, alias_of))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._defines(node.name)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._defines(node.name)

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self._canonical:
            return
        for target in node.targets:
            for name in _names(target.target):
                self._defines(name, node.value, assigned=True)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None and isinstance(node.target, cst.Name):
            self._defines(node.target, node.value, assigned=True)

    payload = Redefinition
    independent_candidates = True

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        for candidate in candidates:
            found = candidate.payload_as(Redefinition)
            symbol, canonical, alias_of = found.symbol, found.canonical, found.alias_of
            target = index.resolve_name(canonical, symbol)
            if target is not None and target.module == found.module:
                continue  # the canonical module re-exports this very definition
            if alias_of and target is not None and index.resolve_absolute(alias_of) == target:
                continue  # bound to the canonical object itself
            yield ProjectFinding(candidate, cls.message.format(symbol=symbol, canonical=canonical))

    @classmethod
    def check_configuration(cls, index: ProjectIndex) -> Iterable[str]:
        return list(_configuration_problems(index))


def _names(target: cst.BaseExpression) -> Iterator[cst.Name]:
    if isinstance(target, cst.Name):
        yield target
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _names(element.value)


def _configuration_problems(index: ProjectIndex) -> Iterator[str]:
    for symbol, module in index.option(CANONICAL):
        if index.module(module) is None:
            yield (
                f"[tool.isolint.ssot] canonical: module '{module}' for '{symbol}' "
                "is not in the project"
            )
        elif index.resolve_name(module, symbol) is None:
            yield (
                f"[tool.isolint.ssot] canonical: module '{module}' does not define or "
                f"import '{symbol}'"
            )
    for old, new in index.option(DEPRECATED_MODULES):
        if new and index.module(new) is None:
            yield (
                f"[tool.isolint.ssot] deprecated-modules: replacement '{new}' for '{old}' "
                "is not in the project"
            )
