"""ISO502: a canonical symbol imported from a module other than its canonical one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import libcst as cst

from isolint.api import Example, NodeEdit, NodeFix, Option, Rule, RuleContext
from isolint.rules._ssot import (
    CANONICAL,
    alias_asname,
    alias_name,
    block_indent,
    canonical_map,
    has_comment,
    is_within,
    module_edits,
    reindent,
    render_import_from,
    top_package,
    without_semicolon,
)

_SSOT = (
    (
        "ssot",
        {
            "canonical": {
                "ExecutionEngine": "app.engine",
                "get_websocket_manager": "app.ws.manager",
            }
        },
    ),
)
_FILES = (
    ("app/engine.py", "class ExecutionEngine:\n    pass\n"),
    ("app/ws/manager.py", "def get_websocket_manager(user_context):\n    return user_context\n"),
    ("app/legacy.py", "from app.engine import ExecutionEngine\n\nRETRIES = 3\n"),
)

Move = tuple[cst.ImportAlias, str]


class NonCanonicalImport(Rule):
    """
    ## What it does
    Finds `from module import Symbol` where `Symbol` is listed in `[tool.isolint.ssot]
    canonical` and `module` is not its canonical module: an old location, a module that happens
    to re-export it, or a relative import of either. The canonical module itself, and modules
    inside a canonical package importing from its submodules, are not reported.

    ## Why is this bad?
    Two implementations of one service drift apart. An import from an old location keeps
    working while the code there is a copy (or a shim that will become one): when a
    user-isolation fix lands in the canonical implementation, callers that import the copy
    still share state between users. Importing from one place makes the fix reach every caller:
    import the symbol from its canonical module (`isolint check --fix` rewrites the import).

    ## Known problems
    Only imports from the project are reported: the source module must be relative or share
    its top-level package with the canonical module or with the importing module, so a
    third-party class that happens to have a canonical name is left alone. `import old` followed
    by `old.Symbol` is not checked.
    """

    code: ClassVar[str] = "ISO502"
    name: ClassVar[str] = "non-canonical-import"
    options: ClassVar[tuple[Option[Any], ...]] = (CANONICAL,)
    summary: ClassVar[str] = "Canonical symbol imported from a module other than its canonical one"
    message: ClassVar[str] = (
        "`{symbol}` is imported from `{module}`, but its canonical module is `{canonical}`: "
        "import it from `{canonical}`"
    )
    fix_title: ClassVar[str | None] = "Import from the canonical module"
    bad: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app.legacy import ExecutionEngine

            def run(user_context):
                return ExecutionEngine(user_context)
            """,
            files=_FILES,
            config=_SSOT,
            expected_line=1,
            expected_message="`ExecutionEngine` is imported from `app.legacy`, but its canonical module",
            expected_fix="""
            from app.engine import ExecutionEngine

            def run(user_context):
                return ExecutionEngine(user_context)
            """,
        ),
        Example(
            code="""
            from .legacy import ExecutionEngine as Engine, RETRIES
            """,
            files=_FILES,
            config=_SSOT,
            expected_line=1,
            expected_message="its canonical module is `app.engine`",
            expected_fix="""
            from app.engine import ExecutionEngine as Engine
            from .legacy import RETRIES
            """,
        ),
        Example(
            code="""
            def connect(user_context):
                from app.routes.ws import get_websocket_manager

                return get_websocket_manager(user_context)
            """,
            files=(
                *_FILES,
                ("app/routes/ws.py", "def get_websocket_manager(ctx):\n    return {}\n"),
            ),
            config=_SSOT,
            expected_line=2,
            expected_message="from `app.routes.ws`, but its canonical module is `app.ws.manager`",
            expected_fix="""
            def connect(user_context):
                from app.ws.manager import get_websocket_manager

                return get_websocket_manager(user_context)
            """,
        ),
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app.engine import ExecutionEngine
            from app.legacy import RETRIES
            from app.ws.manager import get_websocket_manager as manager_for
            """,
            files=_FILES,
            config=_SSOT,
        ),
        Example(
            code="""
            from celery.worker import ExecutionEngine
            from starlette.websockets import get_websocket_manager
            """,
            files=_FILES,
            config=_SSOT,
        ),
        Example(
            code="""
            from app.ws.manager.registry import get_websocket_manager
            """,
            path="app/ws/manager/__init__.py",
            files=(
                ("app/engine.py", "class ExecutionEngine:\n    pass\n"),
                (
                    "app/ws/manager/registry.py",
                    "def get_websocket_manager(user_context):\n    return user_context\n",
                ),
            ),
            config=_SSOT,
        ),
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app.engine import ExecutionEngine

            def run(user_context):
                return ExecutionEngine(user_context)
            """,
            files=_FILES,
            config=_SSOT,
        ),
        Example(
            code="""
            def connect(user_context):
                from app.ws.manager import get_websocket_manager

                return get_websocket_manager(user_context)
            """,
            files=(
                *_FILES,
                ("app/routes/ws.py", "def get_websocket_manager(ctx):\n    return {}\n"),
            ),
            config=_SSOT,
        ),
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._canonical = canonical_map(context)
        self._module = context.info.module_name

    def _misplaced(self, source: str, canonical: str, relative: bool) -> bool:
        module = self._module
        if source == canonical or module == canonical:
            return False
        if is_within(source, canonical) and is_within(module, canonical):
            return False  # inside the canonical package, its submodules are the way in
        if relative:
            return True
        return top_package(source) in (top_package(canonical), top_package(module))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not self._canonical or isinstance(node.names, cst.ImportStar):
            return
        source = self.context.imports.from_module(node)
        if source is None:
            return
        moves: list[Move] = []
        for alias in node.names:
            name = alias_name(alias)
            canonical = self._canonical.get(name) if name is not None else None
            if canonical is not None and self._misplaced(source, canonical, bool(node.relative)):
                moves.append((alias, canonical))
        if not moves:
            return
        fix = self._fix(node, moves)
        for alias, canonical in moves:
            self.report(
                alias.name, fix=fix, symbol=alias_name(alias), module=source, canonical=canonical
            )

    # -- the fix ----------------------------------------------------------------------------
    def _fix(self, node: cst.ImportFrom, moves: Sequence[Move]) -> NodeFix | None:
        assert not isinstance(node.names, cst.ImportStar)
        moving = [alias for alias, _ in moves]
        remaining = [alias for alias in node.names if all(alias is not m for m in moving)]
        groups: dict[str, list[cst.ImportAlias]] = {}
        for alias, canonical in moves:
            groups.setdefault(canonical, []).append(alias)
        line = self.context.parent
        chain = self.context.ancestors
        top_level = (
            isinstance(line, cst.SimpleStatementLine)
            and len(chain) >= 2
            and isinstance(chain[-2], cst.Module)
        )
        deletable = (
            isinstance(line, cst.SimpleStatementLine)
            and top_level
            and len(line.body) == 1
            and line.trailing_whitespace.comment is None
            and not has_comment(self.context, node)
        )
        targets = self._merge_targets(line, groups) if top_level else {}
        new_groups = [c for c in groups if c not in targets]
        if not remaining and not new_groups and not deletable:
            targets, new_groups = {}, list(groups)
        edits: list[NodeEdit] = []
        for canonical, target in targets.items():
            edit = self._merged(target, groups[canonical])
            if edit is not None:
                edits.append(edit)
        if not remaining and not new_groups:
            assert line is not None
            edits.append(NodeEdit(line, "", whole_lines=True))
        elif not remaining and not targets and len(new_groups) == 1:
            edits.extend(module_edits(node, new_groups[0]))
        elif has_comment(self.context, node):
            return None  # splitting the statement would lose a comment inside it
        else:
            edits.append(NodeEdit(node, self._split(node, remaining, new_groups, groups)))
        assert self.fix_title is not None
        return NodeFix(self.fix_title, tuple(edits))

    def _merge_targets(
        self, line: cst.CSTNode | None, groups: dict[str, list[cst.ImportAlias]]
    ) -> dict[str, cst.ImportFrom]:
        """Comment-free module-level ``from <canonical> import ...`` statements before ``line``."""
        targets: dict[str, cst.ImportFrom] = {}
        for statement in self.context.module.body:
            if statement is line:
                break
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if not isinstance(small, cst.ImportFrom) or isinstance(small.names, cst.ImportStar):
                    continue
                source = self.context.imports.from_module(small)
                if (
                    source in groups
                    and source not in targets
                    and not has_comment(self.context, small)
                ):
                    targets[source] = small
        return targets

    def _merged(
        self, target: cst.ImportFrom, aliases: Sequence[cst.ImportAlias]
    ) -> NodeEdit | None:
        """``target`` with ``aliases`` appended (those it does not import already)."""
        assert not isinstance(target.names, cst.ImportStar)
        names = list(target.names)
        present = {(alias_name(a), alias_asname(a)) for a in names}
        new = [a for a in aliases if (alias_name(a), alias_asname(a)) not in present]
        if not new:
            return None
        separator = names[-2].comma if len(names) >= 2 else cst.MaybeSentinel.DEFAULT
        if not isinstance(separator, cst.Comma):
            separator = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        last_comma = names[-1].comma
        names[-1] = names[-1].with_changes(comma=separator)
        names.extend(a.with_changes(comma=separator) for a in new)
        names[-1] = names[-1].with_changes(comma=last_comma)
        merged = without_semicolon(target.with_changes(names=names))
        return NodeEdit(target, self.context.code_for(merged))

    def _split(
        self,
        node: cst.ImportFrom,
        remaining: Sequence[cst.ImportAlias],
        new_groups: Sequence[str],
        groups: dict[str, list[cst.ImportAlias]],
    ) -> str:
        """One import per new canonical module, then the statement without the moved names (last,
        so a trailing comment on the line, such as a suppression, stays with what it was about)."""
        assert not isinstance(node.names, cst.ImportStar)
        indent = block_indent(self.context)
        parts: list[str] = []
        for canonical in new_groups:
            pairs = [(alias_name(a) or "", alias_asname(a)) for a in groups[canonical]]
            parts.append(render_import_from(canonical, pairs))
        if remaining:
            names = list(remaining)
            names[-1] = names[-1].with_changes(comma=node.names[-1].comma)
            kept = without_semicolon(node.with_changes(names=names))
            parts.append(reindent(self.context.code_for(kept), indent))
        newline = self.context.module.default_newline
        separator = (
            "; " if isinstance(self.context.parent, cst.SimpleStatementSuite) else newline + indent
        )
        return separator.join(parts)
