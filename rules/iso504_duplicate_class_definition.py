"""ISO504: one class name defined at module level in several modules of one package."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import libcst as cst

from isolint.api import (
    STRINGS,
    Candidate,
    Example,
    Option,
    ProjectFinding,
    ProjectIndex,
    Related,
    Rule,
    Severity,
    dotted_name,
)
from isolint.rules._ssot import CANONICAL, top_package, under_type_checking

DUPLICATE_CLASS_ALLOWLIST = Option(
    "duplicate-class-allowlist",
    STRINGS,
    (),
    'class names that may be defined in several modules (`["Config", "Meta"]`)',
    expected="a list of class names",
)

_PROTOCOLS = ("typing.Protocol", "typing_extensions.Protocol", "Protocol")


@dataclass(frozen=True)
class ClassDefinition:
    """ISO504's candidate: module-level class ``name`` defined in ``path`` under top-level
    package ``package``. Not ``counted``: a class this rule exempts, recorded so that the index
    facts of the same file, which list every module-level class, do not count it either."""

    package: str
    name: str
    path: str
    counted: bool


_MANAGER = """
class WebSocketManager:
    def __init__(self, user_id):
        self.user_id = user_id
"""


class DuplicateClassDefinition(Rule):
    """
    ## What it does
    Finds a class name defined at module level in two or more non-test modules of the same
    top-level package. When `[tool.isolint.ssot] canonical` names the class's module, every
    other definition is reported; otherwise every definition is, since none of them is known to
    be the original. Each finding names the other definitions (as related locations too).
    Classes nested in functions or classes, classes under `if TYPE_CHECKING:` and
    `Protocol` classes are not counted. Off by default: enable it with `select = ["ISO504"]`.

    ## Why is this bad?
    Two classes with one name in one code base are usually one service implemented twice (a
    copy kept "for compatibility", a rewrite next to the original). The copies drift apart: a
    user-isolation fix made in one (per-user state instead of shared state, a required user
    context) is missing in the other, and whichever callers import the other copy keep leaking
    data between users. Keep one implementation (with the fix) and import it everywhere, the
    old module included.

    ## Known problems
    Unrelated classes that share a common name (`Config`, `Settings`) are reported too; list
    them in `duplicate-class-allowlist`. When only some files are checked, the others are
    known from the project index, where a class under `if TYPE_CHECKING:` or a generic
    `Protocol[T]` still counts as a definition.
    """

    code: ClassVar[str] = "ISO504"
    name: ClassVar[str] = "duplicate-class-definition"
    options: ClassVar[tuple[Option[Any], ...]] = (CANONICAL, DUPLICATE_CLASS_ALLOWLIST)
    summary: ClassVar[str] = "Class defined in several modules of one package"
    message: ClassVar[str] = (
        "class `{cls}` is also defined in {others}: keep one implementation and import it "
        "everywhere (or list `{cls}` in `duplicate-class-allowlist` if the classes are unrelated)"
    )
    severity: ClassVar[Severity] = Severity.WARNING
    default_enabled: ClassVar[bool] = False
    bad: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            class WebSocketManager:
                def __init__(self):
                    self.connections = {}
            """,
            path="app/websocket/manager.py",
            files=(("app/legacy/websocket.py", _MANAGER),),
        ),
        Example(
            code="""
            import sys

            if sys.version_info >= (3, 11):
                class UserSession:
                    pass
            """,
            path="app/sessions.py",
            files=(("app/auth/session.py", "class UserSession:\n    pass\n"),),
        ),
        Example(
            code="""
            from typing import Protocol

            class EventSink(Protocol):
                def send(self, event): ...

            class WebSocketManager:
                pass
            """,
            path="app/services/ws.py",
            files=(
                ("app/legacy/websocket.py", _MANAGER),
                ("app/websocket/manager.py", _MANAGER),
            ),
        ),
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            class WebSocketManager:
                pass
            """,
            path="app/websocket/manager.py",
            files=(
                ("tests/test_manager.py", _MANAGER),
                ("other/websocket.py", _MANAGER),
                (
                    "app/websocket/factory.py",
                    "from app.websocket.manager import WebSocketManager\n",
                ),
            ),
        ),
        Example(
            code="""
            from typing import TYPE_CHECKING, Protocol
            import typing

            if TYPE_CHECKING:
                class WebSocketManager:
                    pass

            class Sink(typing.Protocol):
                pass

            class Emitter(Protocol):
                pass

            def build():
                class Sink:
                    pass
                return Sink
            """,
            path="app/routes.py",
            files=(
                ("app/websocket/manager.py", _MANAGER),
                ("app/sinks.py", "class Sink:\n    pass\n\nclass Emitter:\n    pass\n"),
            ),
        ),
        Example(
            code="""
            class Config:
                env = "prod"
            """,
            path="app/settings.py",
            files=(("app/db.py", "class Config:\n    url = ''\n"),),
            config=(("duplicate-class-allowlist", ["Config"]),),
        ),
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            class WebSocketManager:
                def __init__(self, user_id):
                    self.user_id = user_id
                    self.connections = {}
            """,
            path="app/websocket/manager.py",
            files=(
                ("app/legacy/websocket.py", "from app.websocket.manager import WebSocketManager\n"),
            ),
        ),
    )

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        info = self.context.info
        if info.is_test or not self.context.at_module_level() or not info.module_name:
            return
        name = node.name.value
        if name in self.context.option(DUPLICATE_CLASS_ALLOWLIST):
            return
        counted = not (under_type_checking(self.context) or self._is_protocol(node))
        package = top_package(info.module_name)
        self.add_candidate(node.name, ClassDefinition(package, name, info.path, counted))

    def _is_protocol(self, node: cst.ClassDef) -> bool:
        for arg in node.bases:
            if arg.keyword is not None:
                continue
            base = arg.value.value if isinstance(arg.value, cst.Subscript) else arg.value
            written = self.context.imports.qualified_name(base) or dotted_name(base)
            if written in _PROTOCOLS:
                return True
        return False

    payload = ClassDefinition

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        sites: dict[tuple[str, str, str], Candidate] = {}
        linted: set[str] = set()
        for candidate in candidates:
            definition = candidate.payload_as(ClassDefinition)
            linted.add(definition.path)
            if definition.counted:
                key = (definition.package, definition.name, definition.path)
                sites.setdefault(key, candidate)
        defined: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
        for (package, name, path), candidate in sites.items():
            where = (candidate.span.line, candidate.span.column)
            defined.setdefault((package, name), {})[path] = where
        for package, name, path in _unlinted_definitions(index, linted):
            defined.setdefault((package, name), {}).setdefault(path, (1, 1))
        canonical = dict(index.option(CANONICAL))
        for (package, name, path), candidate in sorted(sites.items()):
            copies = defined[(package, name)]
            if len(copies) < 2:
                continue
            home = next(
                (p for p in sorted(copies) if _is_canonical(index, canonical, name, p)), None
            )
            if path == home:
                continue  # the configured canonical definition: the others are the copies
            others = sorted(copies, key=lambda p: (p != home, p))
            others.remove(path)
            related = tuple(
                Related(
                    other,
                    *copies[other],
                    "the canonical definition" if other == home else "another definition",
                )
                for other in others
            )
            listed = ", ".join(f"`{p}`" for p in others)
            yield ProjectFinding(
                candidate, cls.message.format(cls=name, others=listed), related=related
            )


def _is_canonical(index: ProjectIndex, canonical: dict[str, str], name: str, path: str) -> bool:
    """Is ``path`` the canonical module configured for class ``name`` (ISO5 ssot config)?"""
    module = canonical.get(name)
    facts = index.module(module) if module else None
    return facts is not None and facts.path == path


def _unlinted_definitions(index: ProjectIndex, linted: set[str]) -> Iterable[tuple[str, str, str]]:
    """(package, class, path) from the facts of project files this run did not lint (a partial
    run sees the rest of the project only through the index)."""
    allowlist = index.option(DUPLICATE_CLASS_ALLOWLIST)
    for facts in index.modules.values():
        if facts.is_test or facts.path in linted or not facts.module:
            continue
        for cls in facts.classes:
            if cls.name in allowlist or any(base in _PROTOCOLS for base in cls.bases):
                continue
            yield top_package(facts.module), cls.name, facts.path
