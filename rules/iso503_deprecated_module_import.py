"""ISO503: an import of a module listed in ``[tool.isolint.ssot] deprecated-modules``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import libcst as cst

from isolint.api import (
    Candidate,
    Example,
    Option,
    ProjectFinding,
    ProjectIndex,
    Rule,
    RuleContext,
    dotted_name,
)
from isolint.rules._ssot import (
    DEPRECATED_MODULES,
    alias_asname,
    alias_name,
    block_indent,
    deprecated_match,
    has_comment,
    is_within,
    module_expression,
    reindent,
    without_semicolon,
)

_SSOT = (
    (
        "ssot",
        {
            "deprecated-modules": {
                "app.agents.execution_engine": "app.agents.user_execution_engine",
                "app.legacy_ws": "",
                "app.old_auth": "app.auth",
            }
        },
    ),
)
_FILES = (
    ("app/agents/execution_engine.py", "class ExecutionEngine:\n    pass\n"),
    ("app/agents/user_execution_engine.py", "class ExecutionEngine:\n    pass\n"),
    ("app/legacy_ws/__init__.py", "from app.legacy_ws.registry import MANAGERS\n"),
    ("app/legacy_ws/registry.py", "MANAGERS = {}\n"),
    ("app/old_auth.py", "def get_user(token):\n    return token\n"),
    ("app/auth.py", "def current_user(request):\n    return request.user\n"),
)

# candidate kinds: ``from D import names``; ``import D [as x]``; ``from P import d`` (d is D)
_FROM, _IMPORT, _MEMBER = "from", "import", "member"


@dataclass(frozen=True)
class DeprecatedImport:
    """ISO503's candidate: an import of ``kind`` (above) of ``imported``, a deprecated module
    whose replacement is ``mapped`` ("" when none is configured); ``names``, what a ``from``
    import takes; ``fix_text``, the source replacing the candidate's node ("" for none);
    ``blocker``, why there is no fix (``bare``, ``star``, ``shared``) or ""."""

    kind: str
    imported: str
    mapped: str
    names: tuple[str, ...]
    fix_text: str
    blocker: str


class DeprecatedModuleImport(Rule):
    """
    ## What it does
    Finds imports of a module listed in `[tool.isolint.ssot] deprecated-modules`, or of one of
    its submodules: `from old import Name`, `import old`, `import old as alias` and
    `from package import old`. Modules inside the deprecated module itself are not reported.
    The fix rewrites the import to the replacement module when that module defines or
    re-exports every imported name (`import old as alias` when the replacement is in the
    project); bare `import old`, star imports and deprecated modules without a replacement are
    reported without a fix, with the reason in the message.

    ## Why is this bad?
    A deprecated module is the old implementation of a service that now lives elsewhere. The
    two drift apart: a user-isolation fix (per-user state, a required user context) lands in the
    replacement, and every caller still importing the old module keeps sharing state between
    users. Deprecating a module only works if nothing keeps importing it: import from the
    replacement module (`isolint check --fix` rewrites the import when the replacement defines
    the same names), and port code that has no replacement to the new API.
    """

    code: ClassVar[str] = "ISO503"
    name: ClassVar[str] = "deprecated-module-import"
    options: ClassVar[tuple[Option[Any], ...]] = (DEPRECATED_MODULES,)
    summary: ClassVar[str] = "Import of a deprecated module"
    message: ClassVar[str] = "`{module}` is deprecated: import {names} from `{replacement}` instead"
    fix_title: ClassVar[str | None] = "Import from the replacement module"
    bad: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app.agents.execution_engine import ExecutionEngine
            """,
            files=_FILES,
            config=_SSOT,
            expected_line=1,
            expected_message="import `ExecutionEngine` from `app.agents.user_execution_engine` instead",
            expected_fix="""
            from app.agents.user_execution_engine import ExecutionEngine
            """,
        ),
        Example(
            code="""
            import app.legacy_ws

            def managers():
                return app.legacy_ws.MANAGERS
            """,
            files=_FILES,
            config=_SSOT,
            expected_line=1,
            expected_message="`app.legacy_ws` is deprecated and has no replacement configured",
        ),
        Example(
            code="""
            def authenticate(token):
                from app.old_auth import get_user

                return get_user(token)
            """,
            files=_FILES,
            config=_SSOT,
            expected_line=2,
            expected_message="`app.auth` does not define `get_user`",
        ),
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app.agents.user_execution_engine import ExecutionEngine
            import app.auth as auth
            """,
            files=_FILES,
            config=_SSOT,
        ),
        Example(
            code="""
            from app.legacy_ws.registry import MANAGERS
            from . import registry
            """,
            path="app/legacy_ws/handlers.py",
            files=_FILES,
            config=_SSOT,
        ),
        Example(
            code="""
            import app.agents.execution_engine_v2
            from app.old_authz import check
            from app.agents import user_execution_engine
            """,
            files=(
                *_FILES,
                ("app/agents/execution_engine_v2.py", ""),
                ("app/old_authz.py", "def check():\n    pass\n"),
            ),
            config=_SSOT,
        ),
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app.agents.user_execution_engine import ExecutionEngine
            """,
            files=_FILES,
            config=_SSOT,
        ),
        Example(
            code="""
            def authenticate(request):
                from app.auth import current_user

                return current_user(request)
            """,
            files=_FILES,
            config=_SSOT,
        ),
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._deprecated = context.option(DEPRECATED_MODULES)
        self._module = context.info.module_name

    def _match(self, imported: str) -> tuple[str, str, str] | None:
        """(entry, replacement, ``imported`` mapped onto it) unless this module is inside it."""
        match = deprecated_match(imported, self._deprecated)
        if match is None or is_within(self._module, match[0]):
            return None
        return match

    def visit_Import(self, node: cst.Import) -> None:
        if not self._deprecated:
            return
        for alias in node.names:
            imported = alias_name(alias)
            match = self._match(imported) if imported is not None else None
            if match is None or imported is None:
                continue
            _, _, mapped = match
            asname = alias_asname(alias)
            fix_text = mapped if asname and mapped else ""
            blocker = "" if asname else "bare"
            payload = DeprecatedImport(_IMPORT, imported, mapped, (), fix_text, blocker)
            self.add_candidate(alias.name, payload)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not self._deprecated:
            return
        source = self.context.imports.from_module(node)
        if source is None:
            return
        match = self._match(source)
        if match is not None:
            self._from_deprecated(node, source, match)
        elif not isinstance(node.names, cst.ImportStar):
            self._deprecated_member(node, source)

    def _from_deprecated(
        self, node: cst.ImportFrom, source: str, match: tuple[str, str, str]
    ) -> None:
        _, _, mapped = match
        if isinstance(node.names, cst.ImportStar):
            self.add_candidate(node, DeprecatedImport(_FROM, source, mapped, ("*",), "", "star"))
            return
        names = tuple(alias_name(a) or "" for a in node.names)
        target: cst.CSTNode = node
        fix_text = ""
        if mapped:
            target, fix_text = self._module_rewrite(node, source, mapped)
        self.add_candidate(target, DeprecatedImport(_FROM, source, mapped, names, fix_text, ""))

    def _module_rewrite(
        self, node: cst.ImportFrom, source: str, mapped: str
    ) -> tuple[cst.CSTNode, str]:
        """The node to replace and its new source: just the module name where possible, so
        the names, parentheses and comments of the statement stay as they are."""
        written = node.module
        if written is not None and not node.relative:
            return written, mapped
        if written is not None:
            base = source.removesuffix("." + (dotted_name(written) or ""))
            if mapped.startswith(base + "."):
                return written, mapped[len(base) + 1 :]  # stays relative to the same package
        absolute = node.with_changes(relative=(), module=module_expression(mapped))
        text = self.context.code_for(without_semicolon(absolute))
        return node, reindent(text, block_indent(self.context))

    def _deprecated_member(self, node: cst.ImportFrom, source: str) -> None:
        """``from app import legacy``: the imported name is the deprecated module itself."""
        assert not isinstance(node.names, cst.ImportStar)
        for alias in node.names:
            name = alias_name(alias)
            match = self._match(f"{source}.{name}") if name is not None else None
            if match is None or name is None:
                continue
            _, _, mapped = match
            local = alias_asname(alias) or name
            if len(node.names) == 1 and mapped and not has_comment(self.context, node):
                target: cst.CSTNode = node
                fix_text, blocker = f"import {mapped} as {local}", ""
            else:
                target, fix_text, blocker = alias.name, "", "shared"
            imported = f"{source}.{name}"
            payload = DeprecatedImport(_MEMBER, imported, mapped, (), fix_text, blocker)
            self.add_candidate(target, payload)

    payload = DeprecatedImport
    independent_candidates = True

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        for candidate in candidates:
            found = candidate.payload_as(DeprecatedImport)
            mapped, fix_text = found.mapped, found.fix_text
            message, fixable = _decide(
                found.kind, found.imported, mapped, found.names, found.blocker, index
            )
            yield ProjectFinding(
                candidate,
                message,
                replacement=fix_text if fixable and fix_text else None,
                fix_title=f"Import from `{mapped}`" if fixable and fix_text else None,
            )


def _code_list(names: Iterable[object]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def _decide(
    kind: str,
    imported: str,
    mapped: str,
    names: tuple[object, ...],
    blocker: str,
    index: ProjectIndex,
) -> tuple[str, bool]:
    """The finding's message, and whether its fix may be applied."""
    head = f"`{imported}` is deprecated"
    if not mapped:
        reason = (
            " and has no replacement configured: stop using it (move what you need to its "
            "canonical module and import it from there)"
        )
        return head + reason, False
    if kind == _FROM:
        if blocker == "star":
            return f"{head}: import the names you use from `{mapped}` instead of `*`", False
        missing = [n for n in names if index.resolve_absolute(f"{mapped}.{n}") is None]
        if missing:
            reason = (
                f", but `{mapped}` does not define {_code_list(missing)}: move it there first, "
                f"then import it from `{mapped}`"
            )
            return head + reason, False
        message = DeprecatedModuleImport.message.format(
            module=imported, names=_code_list(names), replacement=mapped
        )
        return message, True
    if index.resolve_absolute(mapped) is None:
        reason = f", but its replacement `{mapped}` is not in the project: create it first"
        return head + reason, False
    instead = f"{head}: import `{mapped}` instead"
    if blocker == "bare":
        reason = (
            f" (not fixed automatically: the code refers to the module as `{imported}`, "
            "rename those uses too)"
        )
        return instead + reason, False
    if blocker == "shared":
        reason = " (not fixed automatically: the statement imports other names too)"
        return instead + reason, False
    return instead, True
