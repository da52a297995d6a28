"""ISO501-ISO504: single-source-of-truth rules (canonical symbols, deprecated modules, copies)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import libcst as cst

from isolint.diagnostics import Diagnostic
from isolint.fixes import apply_edits
from isolint.rule import Example
from isolint.testing import lint_example, run_project, write_project
from isolint.rules import load_rules
from tests.conftest import Completed

RULES = load_rules()

CANONICAL = {"ExecutionEngine": "app.engine", "get_websocket_manager": "app.ws.manager"}
DEPRECATED = {
    "app.agents.execution_engine": "app.agents.user_execution_engine",
    "app.legacy_ws": "",
    "app.old_auth": "app.auth",
}
SSOT: tuple[tuple[str, object], ...] = (
    ("ssot", {"canonical": CANONICAL, "deprecated-modules": DEPRECATED}),
)
PROJECT = (
    ("app/__init__.py", ""),
    ("app/engine.py", "class ExecutionEngine:\n    pass\n\n\ndef helper():\n    pass\n"),
    ("app/ws/__init__.py", ""),
    ("app/ws/manager.py", "def get_websocket_manager(user_context):\n    return None\n"),
    (
        "app/legacy.py",
        (
            "from app.engine import ExecutionEngine\n"
            "from app.ws.manager import get_websocket_manager\n\nRETRIES = 3\n"
        ),
    ),
    ("app/agents/__init__.py", ""),
    ("app/agents/execution_engine.py", "class ExecutionEngine:\n    pass\n\nLIMIT = 1\n"),
    (
        "app/agents/user_execution_engine.py",
        "from app.engine import ExecutionEngine\n\nLIMIT = 2\n",
    ),
    ("app/legacy_ws.py", "MANAGERS = {}\n"),
    ("app/old_auth.py", "def get_user(token):\n    return token\n"),
    ("app/auth.py", "def current_user(request):\n    return request.user\n"),
)


def lint(
    code: str,
    rule: str,
    path: str = "app/service.py",
    files: tuple[tuple[str, str], ...] = PROJECT,
    config: tuple[tuple[str, object], ...] = SSOT,
    *,
    everywhere: bool = False,
) -> list[Diagnostic]:
    """Findings of ``rule`` in the example file (with ``everywhere``, in the whole project)."""
    example = Example(code=code, path=path, files=files, config=config)
    return [
        d
        for d in lint_example(example, RULES, [rule])
        if d.code == rule and (everywhere or d.path == path)
    ]


def lines(diagnostics: list[Diagnostic]) -> list[int]:
    return sorted(d.span.line for d in diagnostics)


def fixed(code: str, diagnostic: Diagnostic) -> str:
    """The file after applying the diagnostic's fix (the source as the example writes it)."""
    assert diagnostic.fix is not None
    result = apply_edits(textwrap.dedent(code).lstrip("\n"), diagnostic.fix.edits)
    cst.parse_module(result)  # still valid Python
    return result


# -- ISO501 canonical-redefinition ---------------------------------------------------------------


def test_iso501_reports_class_function_and_assignment_at_the_name() -> None:
    code = """
    from app.fallback import FallbackEngine

    class ExecutionEngine:
        pass

    def get_websocket_manager():
        return None

    try:
        import fancy
    except ImportError:
        ExecutionEngine = FallbackEngine
    """
    files = (*PROJECT, ("app/fallback.py", "class FallbackEngine:\n    pass\n"))
    found = lint(code, "ISO501", path="app/compat.py", files=files)
    assert [(d.span.line, d.span.column) for d in found] == [(3, 7), (6, 5), (12, 5)]
    assert "`ExecutionEngine` is defined here" in found[0].message
    assert "from app.engine import ExecutionEngine" in found[0].message
    assert "`app.ws.manager`" in found[1].message


def test_iso501_reports_definitions_in_tests_and_deprecated_modules_too() -> None:
    code = """
    class ExecutionEngine:
        pass
    """
    assert lines(lint(code, "ISO501", path="app/agents/execution_engine.py")) == [1]
    assert lines(lint(code, "ISO501", path="tests/test_engine.py")) == [1]


def test_iso501_ignores_the_canonical_module_nested_and_type_checking_definitions() -> None:
    nested = """
    from typing import TYPE_CHECKING
    import typing

    if typing.TYPE_CHECKING:
        def get_websocket_manager(): ...

    def build():
        class ExecutionEngine:
            pass
        return ExecutionEngine
    """
    assert lint(nested, "ISO501", path="app/builder.py") == []
    itself = "class ExecutionEngine:\n    pass\n"
    assert lint(itself, "ISO501", path="app/engine.py", files=PROJECT[2:]) == []


def test_iso501_else_branch_of_type_checking_is_a_runtime_definition() -> None:
    code = """
    from typing import TYPE_CHECKING

    if TYPE_CHECKING:
        from app.engine import ExecutionEngine
    else:
        ExecutionEngine = object
    """
    assert lines(lint(code, "ISO501")) == [6]


def test_iso501_re_exports_of_the_canonical_object_are_not_definitions() -> None:
    code = """
    from app import legacy
    from app.legacy import ExecutionEngine as _Engine

    ExecutionEngine = _Engine
    get_websocket_manager = legacy.get_websocket_manager
    """
    assert lint(code, "ISO501") == []


def test_iso501_implementation_module_re_exported_by_the_canonical_module_is_not_a_copy() -> None:
    files = (
        ("app/__init__.py", ""),
        ("app/api.py", "from app.impl.engine import ExecutionEngine\n"),
        ("app/impl/copy.py", "class ExecutionEngine:\n    pass\n"),
    )
    config = (("ssot", {"canonical": {"ExecutionEngine": "app.api"}}),)
    code = "class ExecutionEngine:\n    pass\n"
    assert lint(code, "ISO501", path="app/impl/engine.py", files=files, config=config) == []
    copy = lint(code, "ISO501", path="app/impl/other.py", files=files, config=config)
    assert lines(copy) == [1]


def test_iso501_nothing_without_configuration() -> None:
    assert lint("class ExecutionEngine:\n    pass\n", "ISO501", config=()) == []


def _warnings(tmp_path: Path, config: Mapping[str, object]) -> tuple[str, ...]:
    example = Example(code="x = 1\n", files=PROJECT, config=(("ssot", dict(config)),))
    write_project(tmp_path, example)
    return run_project(tmp_path, RULES, ["ISO501"]).warnings


def test_iso501_warns_about_canonical_and_replacement_modules_missing(tmp_path: Path) -> None:
    warnings = _warnings(
        tmp_path,
        {
            "canonical": {"Engine": "app.nowhere", "Missing": "app.engine", "helper": "app.engine"},
            "deprecated-modules": {"app.legacy": "app.gone", "app.legacy_ws": ""},
        },
    )
    assert warnings == (
        "[tool.isolint.ssot] canonical: module 'app.nowhere' for 'Engine' is not in the project",
        "[tool.isolint.ssot] canonical: module 'app.engine' does not define or import 'Missing'",
        (
            "[tool.isolint.ssot] deprecated-modules: replacement 'app.gone' for 'app.legacy' "
            "is not in the project"
        ),
    )


def test_iso501_valid_configuration_warns_nothing(tmp_path: Path) -> None:
    # ExecutionEngine is re-exported (imported) by app.agents.user_execution_engine
    config = {
        "canonical": {"ExecutionEngine": "app.agents.user_execution_engine"},
        "deprecated-modules": DEPRECATED,
    }
    assert _warnings(tmp_path, config) == ()


# -- ISO502 non-canonical-import -----------------------------------------------------------------


def test_iso502_fix_rewrites_only_the_module_keeping_aliases_and_comments() -> None:
    code = """
    import os
    from app.legacy import (
        ExecutionEngine as Engine,  # the per-user engine
        get_websocket_manager,
    )
    """
    found = lint(code, "ISO502")
    assert lines(found) == [3, 4]
    assert "its canonical module is `app.engine`" in found[0].message
    assert "its canonical module is `app.ws.manager`" in found[1].message
    # two canonical modules: the statement is split, which would drop the comment: no fix
    assert found[0].fix is None

    single = """
    import os
    from app.legacy import (
        ExecutionEngine as Engine,  # the per-user engine
    )
    """
    [diagnostic] = lint(single, "ISO502")
    assert diagnostic.fix is not None
    assert diagnostic.fix.title == "Import from the canonical module"
    [edit] = diagnostic.fix.edits
    assert edit.content == "app.engine"
    assert (edit.span.line, edit.span.column, edit.span.end_column) == (2, 6, 16)
    assert fixed(single, diagnostic) == (
        "import os\n"
        "from app.engine import (\n"
        "    ExecutionEngine as Engine,  # the per-user engine\n"
        ")\n"
    )


def test_iso502_merges_into_an_existing_canonical_import_and_deletes_the_old_line() -> None:
    code = """
    import os
    from app.engine import (
        helper,
    )
    from app.legacy import ExecutionEngine as Engine

    engine = Engine()
    """
    [diagnostic] = lint(code, "ISO502")
    assert diagnostic.fix is not None
    merge, delete = diagnostic.fix.edits
    assert merge.content == "from app.engine import (\n    helper, ExecutionEngine as Engine,\n)"
    assert (merge.span.line, merge.span.end_line) == (2, 4)
    assert delete.content == ""
    assert (delete.span.line, delete.span.column, delete.span.end_line) == (5, 1, 6)
    assert fixed(code, diagnostic) == (
        "import os\n"
        "from app.engine import (\n"
        "    helper, ExecutionEngine as Engine,\n"
        ")\n"
        "\n"
        "engine = Engine()\n"
    )


def test_iso502_merge_keeps_the_layout_of_a_multi_line_import() -> None:
    code = """
    from app.engine import (
        helper,
        other,
    )
    from app.legacy import ExecutionEngine
    """
    files = (
        *PROJECT,
        ("app/engine.py", "class ExecutionEngine: ...\ndef helper(): ...\nother = 1\n"),
    )
    [diagnostic] = lint(code, "ISO502", files=files)
    assert fixed(code, diagnostic) == (
        "from app.engine import (\n    helper,\n    other,\n    ExecutionEngine,\n)\n"
    )


def test_iso502_trailing_comment_on_the_import_line_is_kept_by_rewriting_in_place() -> None:
    code = """
    from app.engine import helper
    from app.legacy import ExecutionEngine  # noqa: F401 - used by plugins
    """
    [diagnostic] = lint(code, "ISO502")
    assert fixed(code, diagnostic) == (
        "from app.engine import helper\n"
        "from app.engine import ExecutionEngine  # noqa: F401 - used by plugins\n"
    )


def test_iso502_canonical_import_after_the_old_one_is_not_a_merge_target() -> None:
    code = """
    from app.legacy import ExecutionEngine
    from app.engine import helper
    """
    [diagnostic] = lint(code, "ISO502")
    assert fixed(code, diagnostic) == (
        "from app.engine import ExecutionEngine\nfrom app.engine import helper\n"
    )


def test_iso502_mixed_import_is_split_and_other_names_stay() -> None:
    code = """
    from app.engine import helper
    from app.legacy import RETRIES, ExecutionEngine, get_websocket_manager as manager_for
    """
    found = lint(code, "ISO502")
    assert lines(found) == [2, 2]
    assert fixed(code, found[0]) == (
        "from app.engine import helper, ExecutionEngine\n"
        "from app.ws.manager import get_websocket_manager as manager_for\n"
        "from app.legacy import RETRIES\n"
    )


def test_iso502_split_inside_a_function_keeps_indentation() -> None:
    code = """
    def run():
        if True:
            from app.legacy import (
                ExecutionEngine,
                RETRIES,
            )
        if run: from app.legacy import RETRIES, ExecutionEngine; x = 1
    """
    found = lint(code, "ISO502")
    assert lines(found) == [4, 7]
    assert fixed(code, found[0]) == textwrap.dedent(
        """\
        def run():
            if True:
                from app.engine import ExecutionEngine
                from app.legacy import (
                    RETRIES,
                )
            if run: from app.legacy import RETRIES, ExecutionEngine; x = 1
        """
    )
    assert fixed(code, found[1]).splitlines()[-1] == (
        "    if run: from app.engine import ExecutionEngine; from app.legacy import RETRIES; x = 1"
    )


def test_iso502_relative_imports_are_resolved_and_made_absolute() -> None:
    code = """
    from .. import legacy
    from ..legacy import ExecutionEngine as E
    from . import get_websocket_manager
    """
    files = (*PROJECT, ("app/routes/__init__.py", "from app.ws.manager import *\n"))
    found = lint(code, "ISO502", path="app/routes/users.py", files=files)
    assert lines(found) == [2, 3]
    assert fixed(code, found[0]).splitlines()[1] == "from app.engine import ExecutionEngine as E"
    assert fixed(code, found[1]).splitlines()[2] == (
        "from app.ws.manager import get_websocket_manager"
    )


def test_iso502_ignores_third_party_canonical_package_and_module_imports() -> None:
    third_party = """
    from celery.worker import ExecutionEngine
    from app.engine import ExecutionEngine as E
    import app.legacy
    from app.legacy import *
    """
    assert lint(third_party, "ISO502") == []
    # inside the canonical package its submodules are imported directly (no import cycle)
    files = (
        ("app/__init__.py", ""),
        ("app/ws/manager/__init__.py", "from .core import get_websocket_manager\n"),
        ("app/ws/manager/core.py", "def get_websocket_manager():\n    pass\n"),
    )
    inside = "from app.ws.manager.core import get_websocket_manager\n"
    assert lint(inside, "ISO502", path="app/ws/manager/routes.py", files=files) == []
    # ...but from outside the package the canonical path is the way in
    outside = lint(inside, "ISO502", path="app/service.py", files=files)
    assert lines(outside) == [1]


def test_iso502_the_canonical_module_itself_may_import_from_anywhere() -> None:
    code = "from app.impl import ExecutionEngine\n"
    assert lint(code, "ISO502", path="app/engine.py", files=PROJECT[2:]) == []


# -- ISO503 deprecated-module-import -------------------------------------------------------------


def test_iso503_fix_only_when_the_replacement_provides_every_name() -> None:
    code = """
    from app.agents.execution_engine import ExecutionEngine, LIMIT as limit
    from app.agents.execution_engine import helper_only_in_old
    """
    files = (
        *PROJECT,
        (
            "app/agents/execution_engine.py",
            "class ExecutionEngine: ...\nLIMIT = 1\ndef helper_only_in_old(): ...\n",
        ),
    )
    first, second = lint(code, "ISO503", files=files)
    assert first.fix is not None
    assert first.fix.title == "Import from `app.agents.user_execution_engine`"
    [edit] = first.fix.edits
    assert edit.content == "app.agents.user_execution_engine"
    assert (edit.span.line, edit.span.column, edit.span.end_column) == (1, 6, 33)
    assert "import `ExecutionEngine`, `LIMIT` from `app.agents.user_execution_engine`" in (
        first.message
    )
    assert fixed(code, first).splitlines()[0] == (
        "from app.agents.user_execution_engine import ExecutionEngine, LIMIT as limit"
    )
    assert second.fix is None
    assert "`app.agents.user_execution_engine` does not define `helper_only_in_old`" in (
        second.message
    )
    assert "move it there first" in second.message


def test_iso503_no_replacement_configured_is_reported_without_fix() -> None:
    code = """
    import app.legacy_ws as ws
    from app.legacy_ws import MANAGERS
    """
    found = lint(code, "ISO503")
    assert lines(found) == [1, 2]
    assert all(d.fix is None for d in found)
    assert all("no replacement configured" in d.message for d in found)


def test_iso503_module_imports_fixable_only_with_an_alias() -> None:
    code = """
    import app.agents.execution_engine as engine_module
    import app.agents.execution_engine
    from app.agents import execution_engine
    from app.agents import execution_engine as legacy, user_execution_engine
    """
    aliased, bare, member, shared = lint(code, "ISO503")
    assert fixed(code, aliased).splitlines()[0] == (
        "import app.agents.user_execution_engine as engine_module"
    )
    assert bare.fix is None and "rename those uses" in bare.message
    assert fixed(code, member).splitlines()[2] == (
        "import app.agents.user_execution_engine as execution_engine"
    )
    assert shared.fix is None and "imports other names too" in shared.message


def test_iso503_relative_import_and_submodules() -> None:
    code = """
    from .execution_engine import ExecutionEngine  # keep me
    from app.legacy_ws.registry import MANAGERS
    """
    files = tuple(f for f in PROJECT if f[0] != "app/legacy_ws.py")
    files += (("app/legacy_ws/registry.py", "MANAGERS = {}\n"),)
    relative, submodule = lint(code, "ISO503", path="app/agents/service.py", files=files)
    assert fixed(code, relative).splitlines()[0] == (
        "from .user_execution_engine import ExecutionEngine  # keep me"
    )
    assert "`app.legacy_ws.registry` is deprecated" in submodule.message
    assert submodule.fix is None


def test_iso503_relative_import_to_another_package_is_rewritten_absolute() -> None:
    config: tuple[tuple[str, object], ...] = (
        ("ssot", {"deprecated-modules": {"app.agents.execution_engine": "app.engine"}}),
    )
    code = """
    def build():
        from .execution_engine import (
            ExecutionEngine,
        )
        return ExecutionEngine
    """
    [diagnostic] = lint(code, "ISO503", path="app/agents/service.py", config=config)
    assert fixed(code, diagnostic) == textwrap.dedent(
        """\
        def build():
            from app.engine import (
                ExecutionEngine,
            )
            return ExecutionEngine
        """
    )


def test_iso503_star_import_and_missing_replacement_module_are_not_fixed() -> None:
    config: tuple[tuple[str, object], ...] = (
        (
            "ssot",
            {
                "deprecated-modules": {
                    "app.agents.execution_engine": "app.agents.user_execution_engine",
                    "app.old_auth": "app.auth_v2",
                }
            },
        ),
    )
    code = """
    from app.agents.execution_engine import *
    import app.old_auth as auth
    """
    star, missing = lint(code, "ISO503", config=config)
    assert star.fix is None and "instead of `*`" in star.message
    assert missing.fix is None and "`app.auth_v2` is not in the project" in missing.message


def test_iso503_ignores_the_deprecated_package_itself_and_look_alike_names() -> None:
    inside = """
    from app.legacy_ws import MANAGERS
    from . import MANAGERS as M
    """
    assert lint(inside, "ISO503", path="app/legacy_ws/handlers.py") == []
    look_alike = """
    import app.agents.execution_engine_v2
    from app.old_authz import check
    from app.agents import user_execution_engine
    """
    files = (
        *PROJECT,
        ("app/agents/execution_engine_v2.py", ""),
        ("app/old_authz.py", "def check(): ...\n"),
    )
    assert lint(look_alike, "ISO503", files=files) == []
    assert lint("import app.legacy_ws\n", "ISO503", config=()) == []


# -- ISO504 duplicate-class-definition ----------------------------------------------------------

_COPY = "class WebSocketManager:\n    pass\n"


def test_iso504_is_off_by_default_and_enabled_by_its_code() -> None:
    example = Example(code=_COPY, path="app/ws.py", files=(("app/legacy/ws.py", _COPY),))
    assert [d for d in lint_example(example, RULES, ["ISO"]) if d.code == "ISO504"] == []
    assert [d for d in lint_example(example, RULES, ["ISO5"]) if d.code == "ISO504"]
    reported = {d.path: d for d in lint_example(example, RULES, ["ISO504"]) if d.code == "ISO504"}
    assert sorted(reported) == ["app/legacy/ws.py", "app/ws.py"]
    found = reported["app/ws.py"]
    assert found.severity.value == "warning"
    assert "also defined in `app/legacy/ws.py`" in found.message


def test_iso504_without_a_canonical_module_reports_every_copy_naming_the_others() -> None:
    files = (("app/a.py", _COPY), ("app/c/z.py", _COPY))
    example = Example(code=_COPY, path="app/b.py", files=files)
    everything = [d for d in lint_example(example, RULES, ["ISO504"]) if d.code == "ISO504"]
    assert sorted(d.path for d in everything) == ["app/a.py", "app/b.py", "app/c/z.py"]
    by_path = {d.path: d for d in everything}
    assert "`app/a.py`, `app/c/z.py`" in by_path["app/b.py"].message
    assert "`app/a.py`, `app/b.py`" in by_path["app/c/z.py"].message
    assert [(r.path, r.line, r.column, r.note) for r in by_path["app/a.py"].related] == [
        ("app/b.py", 1, 7, "another definition"),
        ("app/c/z.py", 1, 7, "another definition"),
    ]


def test_iso504_with_a_canonical_module_reports_each_other_copy() -> None:
    files = (("app/a.py", _COPY), ("app/c/z.py", _COPY))
    canonical = {"canonical": {"WebSocketManager": "app.b"}}
    config: tuple[tuple[str, object], ...] = (("ssot", canonical),)
    example = Example(code=_COPY, path="app/b.py", files=files, config=config)
    everything = [d for d in lint_example(example, RULES, ["ISO504"]) if d.code == "ISO504"]
    assert sorted(d.path for d in everything) == ["app/a.py", "app/c/z.py"]
    first = next(d for d in everything if d.path == "app/a.py")
    assert "also defined in `app/b.py`, `app/c/z.py`" in first.message
    assert [(r.path, r.note) for r in first.related] == [
        ("app/b.py", "the canonical definition"),
        ("app/c/z.py", "another definition"),
    ]


def test_iso504_exempts_protocols_allowlist_tests_and_other_packages() -> None:
    code = """
    import typing
    import typing_extensions
    from typing import Protocol, TypeVar

    T = TypeVar("T")

    class Sink(Protocol[T]):
        pass

    class Source(typing_extensions.Protocol):
        pass

    class Config:
        pass
    """
    files = (
        ("app/other.py", "class Sink:\n    pass\n\nclass Source:\n    pass\n"),
        ("app/settings.py", "class Config:\n    pass\n"),
        ("tests/test_x.py", "class Config:\n    pass\n"),
        ("lib/config.py", "class Config:\n    pass\n"),
    )
    config: tuple[tuple[str, object], ...] = (("duplicate-class-allowlist", ["Config"]),)
    assert lint(code, "ISO504", path="app/z.py", files=files, config=config, everywhere=True) == []
    assert lines(lint(code, "ISO504", path="app/z.py", files=files, config=())) == [13]
    test_copy = lint(_COPY, "ISO504", path="tests/test_ws.py", files=(("app/ws.py", _COPY),))
    assert test_copy == []
    assert lint(_COPY, "ISO504", path="lib/ws.py", files=(("app/ws.py", _COPY),)) == []


def test_iso504_same_module_and_nested_or_type_checking_classes_are_not_duplicates() -> None:
    code = """
    import sys
    from typing import TYPE_CHECKING

    if sys.version_info >= (3, 11):
        class Clock:
            pass
    else:
        class Clock:
            pass

    if TYPE_CHECKING:
        class WebSocketManager:
            pass

    def build():
        class Handler:
            pass
    """
    files = (("app/a.py", "class Handler:\n    pass\n"), ("app/aa.py", _COPY))
    assert lint(code, "ISO504", path="app/z.py", files=files, config=(), everywhere=True) == []


def test_iso504_partial_run_finds_the_copy_through_the_index(
    isolint: Callable[..., Completed], make_project: Callable[..., Path]
) -> None:
    root = make_project(
        {"app/a.py": _COPY, "app/b.py": _COPY, "app/c.py": "x = 1\n"},
        "[tool.isolint]\nselect = ['ISO504']\n",
    )
    out = isolint("check", "--no-cache", str(root / "app" / "b.py"), cwd=root)
    assert out.returncode == 1, out.stderr
    assert "ISO504" in out.stdout and "app/a.py" in out.stdout
    # without a canonical module every copy is reported, the first by path too
    first = isolint("check", "--no-cache", str(root / "app" / "a.py"), cwd=root)
    assert first.returncode == 1 and "app/b.py" in first.stdout, first.stdout


# -- the fixes end to end -----------------------------------------------------------------------


def test_fix_end_to_end_leaves_a_clean_project(
    isolint: Callable[..., Completed], make_project: Callable[..., Path]
) -> None:
    pyproject = (
        "[tool.isolint]\n"
        "select = ['ISO5']\n"
        "[tool.isolint.ssot]\n"
        "canonical = { ExecutionEngine = 'app.engine' }\n"
        "deprecated-modules = { 'app.agents.execution_engine' = "
        "'app.agents.user_execution_engine' }\n"
    )
    files = dict(PROJECT)
    files["app/agents/execution_engine.py"] = "from app.engine import *\n\nLIMIT = 1\n"
    files["app/service.py"] = (
        "import os\n"
        "from app.engine import helper\n"
        "from app.legacy import ExecutionEngine, RETRIES\n"
        "from app.agents.execution_engine import LIMIT  # per user\n"
    )
    root = make_project(files, pyproject)
    out = isolint("check", "--no-cache", "--fix", str(root), cwd=root)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (root / "app" / "service.py").read_text(encoding="utf-8") == (
        "import os\n"
        "from app.engine import helper, ExecutionEngine\n"
        "from app.legacy import RETRIES\n"
        "from app.agents.user_execution_engine import LIMIT  # per user\n"
    )
