"""Unit tests for the project index: per-file facts, static name resolution and signatures.

Every test builds a real mini project under ``tmp_path``, runs each file through the engine's
single walk (``lint_source`` with no rules) and merges the collected ``ModuleFacts`` into a
``ProjectIndex``.
"""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import libcst as cst
import pytest

from isolint.config import Settings
from isolint.facts import ModuleFacts, PackedFacts, ParamFacts, annotation_admits_none
from isolint.imports import ImportBinding, ImportTable, resolve_relative
from isolint.modules import module_name
from isolint.project import (
    ClassRef,
    FunctionRef,
    ModuleRef,
    ProjectIndex,
    Signature,
    Target,
    VariableRef,
)
from isolint.runner import LintOptions, lint_source
from isolint.walk import Walker
from isolint.rules._calls import CallShape, bind, resolve_call

T = TypeVar("T")

# -- helpers ---------------------------------------------------------------------------------


def collect_facts(
    root: Path, files: dict[str, str], settings: Settings | None = None
) -> dict[str, ModuleFacts]:
    """Write ``{relpath: source}`` under ``root`` and return each file's facts by relpath."""
    options = LintOptions.create(settings or Settings(), ())
    walker = Walker()
    out: dict[str, ModuleFacts] = {}
    for relpath, code in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(code).lstrip("\n"), encoding="utf-8")
    for relpath in files:
        result = lint_source((root / relpath).read_bytes(), relpath, options, walker)
        assert not result.errors, result.errors
        assert result.facts is not None
        assert isinstance(result.facts, PackedFacts)
        out[relpath] = result.facts.unpack()
    return out


def build_index(
    root: Path, files: dict[str, str], settings: Settings | None = None
) -> ProjectIndex:
    return ProjectIndex(collect_facts(root, files, settings).values())


def qualname(target: Target | None) -> str | None:
    """A comparable name for any resolution result."""
    if target is None:
        return None
    if isinstance(target, (ClassRef, FunctionRef)):
        return target.qualname
    if isinstance(target, ModuleRef):
        return f"module:{target.module}"
    return f"variable:{target.module}.{target.name}"


def names(signature: Signature | None) -> list[str] | None:
    return None if signature is None else [p.name for p in signature.params]


def param(facts: ModuleFacts, function: str, name: str) -> ParamFacts:
    func = next(f for f in facts.functions if f.name == function)
    return next(p for p in func.params if p.name == name)


def within_seconds(function: Callable[[], T], seconds: float = 5.0) -> T:
    """Run ``function`` and fail (instead of hanging the suite) if it does not return."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = function()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "resolution did not terminate"
    if "error" in box:
        raise AssertionError(f"resolution raised {box['error']!r}")
    return box["value"]  # type: ignore[return-value]


def shape(
    callee: str,
    module: str,
    positional: tuple[str, ...] = (),
    keywords: tuple[tuple[str, str], ...] = (),
    *,
    star: bool = False,
    double_star: bool = False,
) -> CallShape:
    """A call's shape, its arguments written as kinds (``none``, ``other``, ``name:x``) for
    readability: the shape keeps their number and the keywords' names."""
    names = tuple(keyword for keyword, _ in keywords)
    return CallShape(callee, module, True, len(positional), names, star, double_star)


SVC = """
class Notifier:
    def __init__(self, user_id, db=None):
        self.user_id = user_id

    @classmethod
    def create(cls, user_id, db=None):
        return cls(user_id, db)

    @staticmethod
    def build(user_id, db):
        return Notifier(user_id, db)

    def send(self, message):
        return message


def make_notifier(user_id, *, db):
    return Notifier(user_id, db)


DEFAULT_CHANNEL = "email"
"""

# -- aliases ---------------------------------------------------------------------------------


def test_import_module_as_alias_resolves_classmethod(tmp_path: Path) -> None:
    files = collect_facts(
        tmp_path,
        {"app/__init__.py": "", "app/svc.py": SVC, "app/api.py": "import app.svc as s\n"},
    )
    api = files["app/api.py"]
    assert api.imports == (ImportBinding("s", "app.svc", "app.svc"),)
    index = ProjectIndex(files.values())

    assert qualname(index.resolve_name("app.api", "s")) == "module:app.svc"
    create = index.resolve_dotted("app.api", "s.Notifier.create")
    assert isinstance(create, FunctionRef)
    assert create.qualname == "app.svc.Notifier.create"
    assert create.function.kind == "classmethod"
    assert create.owner is not None and create.owner.name == "Notifier"
    assert qualname(index.resolve_dotted("app.api", "s.make_notifier")) == "app.svc.make_notifier"
    assert qualname(index.resolve_dotted("app.api", "s.DEFAULT_CHANNEL")) == (
        "variable:app.svc.DEFAULT_CHANNEL"
    )


def test_from_import_as_alias(tmp_path: Path) -> None:
    index = build_index(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/svc.py": SVC,
            "app/api.py": "from app.svc import Notifier as N, make_notifier as mk\n",
        },
    )
    n = index.resolve_name("app.api", "N")
    assert isinstance(n, ClassRef)
    assert n.qualname == "app.svc.Notifier"
    assert qualname(index.resolve_dotted("app.api", "N.create")) == "app.svc.Notifier.create"
    assert qualname(index.resolve_dotted("app.api", "mk")) == "app.svc.make_notifier"
    # The original name is not bound by an aliased import.
    assert index.resolve_name("app.api", "Notifier") is None


def test_plain_dotted_import_binds_top_package(tmp_path: Path) -> None:
    files = collect_facts(
        tmp_path,
        {"app/__init__.py": "", "app/svc.py": SVC, "app/api.py": "import app.svc\n"},
    )
    assert files["app/api.py"].imports == (ImportBinding("app", "app", "app"),)
    index = ProjectIndex(files.values())
    assert qualname(index.resolve_dotted("app.api", "app.svc.Notifier.create")) == (
        "app.svc.Notifier.create"
    )


def test_unresolvable_names_are_none(tmp_path: Path) -> None:
    index = build_index(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/svc.py": SVC,
            "app/api.py": "import requests\nimport app.svc as s\nfrom os.path import join\n",
        },
    )
    assert index.resolve_name("app.api", "undefined") is None
    assert index.resolve_name("no.such.module", "Notifier") is None
    assert index.resolve_name("app.api", "requests") is None  # third-party: not in the project
    assert index.resolve_name("app.api", "join") is None
    assert index.resolve_dotted("app.api", "requests.get") is None
    assert index.resolve_dotted("app.api", "s.Missing") is None
    assert index.resolve_dotted("app.api", "s.Notifier.missing") is None
    assert index.resolve_dotted("app.api", "s.make_notifier.attr") is None  # functions have none
    assert index.resolve_dotted("app.api", "s.DEFAULT_CHANNEL.upper") is None
    assert index.resolve_absolute("app.svc.Nope") is None
    assert index.resolve_absolute("elsewhere.Thing") is None


# -- relative imports ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "is_package", "level", "name", "expected"),
    [
        ("app.api", False, 1, "svc", "app.svc"),
        ("app.api", False, 1, None, "app"),
        ("app.api.handlers", False, 2, "core", "app.core"),
        ("app.api.handlers", False, 2, None, "app"),
        ("app", True, 1, "svc", "app.svc"),
        ("app", True, 1, None, "app"),
        ("app.api", True, 2, "core", "app.core"),
        ("app.api", False, 3, "x", None),
        ("app.api", False, 2, None, None),
        ("app", True, 3, "x", None),
    ],
)
def test_resolve_relative(
    module: str, is_package: bool, level: int, name: str | None, expected: str | None
) -> None:
    assert resolve_relative(module, is_package, level, name) == expected


def test_resolve_relative_beyond_top_level_package_with_name() -> None:
    # Python: package 'app', level 2 -> "attempted relative import beyond top-level package".
    assert resolve_relative("app.api", False, 2, "core") is None


def test_import_table_relative_from_imports() -> None:
    table = ImportTable("app.api.handlers", is_package=False)
    for line in (
        "from .svc import Notifier",
        "from ..core import x as core_x",
        "from . import sibling",
        "from ..core.db import *",
    ):
        statement = cst.parse_statement(line)
        assert isinstance(statement, cst.SimpleStatementLine)
        small = statement.body[0]
        assert isinstance(small, cst.ImportFrom)
        table.add(small)
    assert table.bindings == {
        "Notifier": ImportBinding("Notifier", "app.api.svc.Notifier", "app.api.svc"),
        "core_x": ImportBinding("core_x", "app.core.x", "app.core"),
        "sibling": ImportBinding("sibling", "app.api.sibling", "app.api"),
    }
    assert table.star_modules == ["app.core.db"]


def test_relative_imports_resolve_through_the_index(tmp_path: Path) -> None:
    files = collect_facts(
        tmp_path,
        {
            "app/__init__.py": "from . import svc\n",
            "app/svc.py": SVC,
            "app/api.py": "from .svc import Notifier\n",
            "app/core/__init__.py": "",
            "app/core/settings.py": "x = 1\ndef load(): ...\n",
            "app/web/__init__.py": "",
            "app/web/views.py": "from ..core import settings\nfrom ..core.settings import x, load\n",
        },
    )
    init = files["app/__init__.py"]
    assert init.module == "app" and init.is_package
    assert init.imports == (ImportBinding("svc", "app.svc", "app"),)
    views = files["app/web/views.py"]
    assert views.module == "app.web.views" and not views.is_package
    assert {b.local: b.target for b in views.imports} == {
        "settings": "app.core.settings",
        "x": "app.core.settings.x",
        "load": "app.core.settings.load",
    }

    index = ProjectIndex(files.values())
    assert qualname(index.resolve_name("app.api", "Notifier")) == "app.svc.Notifier"
    assert qualname(index.resolve_name("app", "svc")) == "module:app.svc"
    assert qualname(index.resolve_dotted("app", "svc.Notifier.create")) == (
        "app.svc.Notifier.create"
    )
    assert qualname(index.resolve_name("app.web.views", "settings")) == "module:app.core.settings"
    assert qualname(index.resolve_name("app.web.views", "x")) == "variable:app.core.settings.x"
    assert qualname(index.resolve_name("app.web.views", "load")) == "app.core.settings.load"


# -- re-exports ------------------------------------------------------------------------------


def test_package_reexport_from_test_module(tmp_path: Path) -> None:
    files = collect_facts(
        tmp_path,
        {
            "app/__init__.py": 'from .notify import Notifier\n\n__all__ = ["Notifier"]\n',
            "app/notify.py": SVC,
            "tests/integration/test_x.py": "from app import Notifier\n",
        },
    )
    test_facts = files["tests/integration/test_x.py"]
    assert test_facts.module == "tests.integration.test_x"
    assert test_facts.is_test
    assert files["app/__init__.py"].all_names == ("Notifier",)
    assert files["app/notify.py"].all_names is None

    index = ProjectIndex(files.values())
    target = index.resolve_name("tests.integration.test_x", "Notifier")
    assert isinstance(target, ClassRef)
    assert target.qualname == "app.notify.Notifier"
    assert target.module == "app.notify"
    assert qualname(index.resolve_absolute("app.Notifier.create")) == "app.notify.Notifier.create"
    signature = index.signature(target)
    assert signature is not None and signature.path == "app/notify.py"


def test_reexport_chain_of_two(tmp_path: Path) -> None:
    index = build_index(
        tmp_path,
        {
            "app/__init__.py": "from app.core import Notifier as PublicNotifier\n",
            "app/core/__init__.py": "from .impl.notify import Notifier\n",
            "app/core/impl/__init__.py": "",
            "app/core/impl/notify.py": SVC,
            "main.py": "from app import PublicNotifier\n",
        },
    )
    assert qualname(index.resolve_name("main", "PublicNotifier")) == (
        "app.core.impl.notify.Notifier"
    )
    assert qualname(index.resolve_dotted("main", "PublicNotifier.create")) == (
        "app.core.impl.notify.Notifier.create"
    )
    assert qualname(index.resolve_absolute("app.core.Notifier")) == (
        "app.core.impl.notify.Notifier"
    )


def test_all_names_recorded(tmp_path: Path) -> None:
    files = collect_facts(
        tmp_path,
        {
            "lst.py": '__all__ = ["A", "b", 3]\nA = b = 1\n',
            "tpl.py": "__all__ = ('A',)\nA = 1\n",
            "none.py": "A = 1\n",
            "dyn.py": "__all__ = names()\n",
        },
    )
    assert files["lst.py"].all_names == ("A", "b")
    assert files["lst.py"].variables == ("__all__", "A", "b")
    assert files["tpl.py"].all_names == ("A",)
    assert files["none.py"].all_names is None
    assert files["dyn.py"].all_names is None


# -- cycles ----------------------------------------------------------------------------------


def test_import_cycle_resolves_to_none(tmp_path: Path) -> None:
    index = build_index(
        tmp_path,
        {
            "a/__init__.py": "from b import X\n",
            "b/__init__.py": "from a import X\n",
            "c.py": "from a import X\nimport a\n",
        },
    )
    assert within_seconds(lambda: index.resolve_name("a", "X")) is None
    assert within_seconds(lambda: index.resolve_name("b", "X")) is None
    assert within_seconds(lambda: index.resolve_name("c", "X")) is None
    assert within_seconds(lambda: index.resolve_dotted("c", "a.X.method")) is None
    assert within_seconds(lambda: index.resolve_absolute("b.X")) is None


def test_self_import_and_star_cycles_terminate(tmp_path: Path) -> None:
    index = build_index(
        tmp_path,
        {
            "selfish.py": "from selfish import Y\n",
            "s1.py": "from s2 import *\n",
            "s2.py": "from s1 import *\n",
        },
    )
    assert within_seconds(lambda: index.resolve_name("selfish", "Y")) is None
    assert within_seconds(lambda: index.resolve_name("s1", "Z")) is None


def test_inheritance_cycle_terminates(tmp_path: Path) -> None:
    index = build_index(tmp_path, {"m.py": "class A(B):\n    pass\nclass B(A):\n    pass\n"})
    a = index.resolve_name("m", "A")
    assert isinstance(a, ClassRef)
    assert within_seconds(lambda: index.member(a, "__init__")) is None
    assert within_seconds(lambda: index.signature(a)) is None
    bases = within_seconds(lambda: index.base_classes(a))
    assert [b.qualname for b in bases] == ["m.B"]


# -- star imports ----------------------------------------------------------------------------


def test_star_import(tmp_path: Path) -> None:
    files = collect_facts(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/notify.py": SVC,
            "app/api.py": "from app.notify import *\n",
            "app/rel.py": "from .notify import *\n",
        },
    )
    assert files["app/api.py"].star_imports == ("app.notify",)
    assert files["app/api.py"].imports == ()
    assert files["app/rel.py"].star_imports == ("app.notify",)
    index = ProjectIndex(files.values())
    assert qualname(index.resolve_name("app.api", "Notifier")) == "app.notify.Notifier"
    assert qualname(index.resolve_name("app.rel", "make_notifier")) == "app.notify.make_notifier"
    assert qualname(index.resolve_dotted("app.api", "Notifier.create")) == (
        "app.notify.Notifier.create"
    )
    assert index.resolve_name("app.api", "Missing") is None


def test_star_import_honours_all(tmp_path: Path) -> None:
    index = build_index(
        tmp_path,
        {
            "lib.py": "__all__ = ['A']\nclass A: pass\nclass B: pass\n",
            "user.py": "from lib import *\n",
        },
    )
    assert qualname(index.resolve_name("user", "A")) == "lib.A"
    assert index.resolve_name("user", "B") is None


def test_later_star_import_wins(tmp_path: Path) -> None:
    index = build_index(
        tmp_path,
        {
            "one.py": "class N: pass\n",
            "two.py": "class N: pass\n",
            "user.py": "from one import *\nfrom two import *\n",
        },
    )
    assert qualname(index.resolve_name("user", "N")) == "two.N"


# -- module names, src layout, namespace packages -------------------------------------------


@pytest.mark.parametrize(
    ("relpath", "roots", "expected"),
    [
        ("src/app/notify.py", ("src", "."), ("app.notify", False)),
        ("src/app/__init__.py", ("src", "."), ("app", True)),
        ("app/notify.py", ("src", "."), ("app.notify", False)),
        ("src/ns/inner/mod.py", ("src", "."), ("ns.inner.mod", False)),  # no __init__ anywhere
        ("tests/integration/test_x.py", ("src", "."), ("tests.integration.test_x", False)),
        ("libs/core/src/core/db.py", ("src", "libs/core/src"), ("core.db", False)),
        ("libs/core/src/core/db.py", ("libs", "libs/core/src"), ("core.db", False)),
        ("__init__.py", (".",), ("", True)),
    ],
)
def test_module_name(relpath: str, roots: tuple[str, ...], expected: tuple[str, bool]) -> None:
    assert module_name(relpath, roots) == expected


def test_src_layout_facts_and_resolution(tmp_path: Path) -> None:
    files = collect_facts(
        tmp_path,
        {
            "src/app/__init__.py": "",
            "src/app/notify.py": SVC,
            "src/nsapp/svc.py": SVC,  # namespace package: no __init__.py
            "tests/test_x.py": "from app.notify import Notifier\nfrom nsapp.svc import make_notifier\n",
        },
    )
    assert files["src/app/notify.py"].module == "app.notify"
    assert files["src/app/__init__.py"].module == "app"
    assert files["src/app/__init__.py"].is_package
    assert files["src/nsapp/svc.py"].module == "nsapp.svc"
    assert not files["src/nsapp/svc.py"].is_package
    assert files["tests/test_x.py"].module == "tests.test_x"

    index = ProjectIndex(files.values())
    assert set(index.modules) == {"app", "app.notify", "nsapp.svc", "tests.test_x"}
    notifier = index.resolve_name("tests.test_x", "Notifier")
    assert qualname(notifier) == "app.notify.Notifier"
    assert notifier is not None
    signature = index.signature(notifier)
    assert signature is not None and signature.path == "src/app/notify.py"
    assert qualname(index.resolve_name("tests.test_x", "make_notifier")) == (
        "nsapp.svc.make_notifier"
    )
    assert qualname(index.resolve_absolute("nsapp.svc.Notifier.create")) == (
        "nsapp.svc.Notifier.create"
    )


def test_custom_src_roots(tmp_path: Path) -> None:
    files = collect_facts(
        tmp_path,
        {"lib/pkg/mod.py": "def f(): ...\n", "main.py": "from pkg.mod import f\n"},
        Settings(src=("lib", ".")),
    )
    assert files["lib/pkg/mod.py"].module == "pkg.mod"
    index = ProjectIndex(files.values())
    assert qualname(index.resolve_name("main", "f")) == "pkg.mod.f"


def test_plain_import_through_namespace_package(tmp_path: Path) -> None:
    index = build_index(tmp_path, {"src/nsapp/svc.py": SVC, "main.py": "import nsapp.svc\n"})
    assert qualname(index.resolve_dotted("main", "nsapp.svc.Notifier")) == "nsapp.svc.Notifier"


# -- signatures: methods vs functions --------------------------------------------------------


@pytest.fixture
def svc_index(tmp_path: Path) -> ProjectIndex:
    return build_index(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/svc.py": SVC + "\nclass Bare:\n    pass\n",
            "app/api.py": "from app.svc import Notifier, make_notifier, Bare, DEFAULT_CHANNEL\n",
        },
    )


def test_signature_classmethod_drops_cls(svc_index: ProjectIndex) -> None:
    target = svc_index.resolve_dotted("app.api", "Notifier.create")
    assert target is not None
    signature = svc_index.signature(target)
    assert signature is not None
    assert signature.qualname == "app.svc.Notifier.create"
    assert signature.path == "app/svc.py"
    assert names(signature) == ["user_id", "db"]


def test_signature_staticmethod_and_function_keep_all(svc_index: ProjectIndex) -> None:
    static = svc_index.resolve_dotted("app.api", "Notifier.build")
    assert isinstance(static, FunctionRef) and static.function.kind == "staticmethod"
    assert names(svc_index.signature(static)) == ["user_id", "db"]

    function = svc_index.resolve_dotted("app.api", "make_notifier")
    assert isinstance(function, FunctionRef) and function.function.kind == "function"
    assert function.owner is None
    signature = svc_index.signature(function)
    assert names(signature) == ["user_id", "db"]
    assert signature is not None
    assert [p.kind for p in signature.params] == ["positional", "keyword_only"]


def test_signature_class_call_uses_init_without_self(svc_index: ProjectIndex) -> None:
    cls = svc_index.resolve_name("app.api", "Notifier")
    assert isinstance(cls, ClassRef)
    signature = svc_index.signature(cls)
    assert signature is not None
    assert signature.qualname == "app.svc.Notifier.__init__"
    assert names(signature) == ["user_id", "db"]


def test_signature_none_when_not_provable(svc_index: ProjectIndex) -> None:
    send = svc_index.resolve_dotted("app.api", "Notifier.send")
    assert isinstance(send, FunctionRef) and send.function.kind == "method"
    assert svc_index.signature(send) is None  # instance method called through the class
    bare = svc_index.resolve_name("app.api", "Bare")
    assert isinstance(bare, ClassRef)
    assert svc_index.signature(bare) is None  # no __init__ anywhere in the project
    assert svc_index.signature(ModuleRef("app.svc")) is None
    variable = svc_index.resolve_name("app.api", "DEFAULT_CHANNEL")
    assert isinstance(variable, VariableRef)
    assert svc_index.signature(variable) is None


BASE = """
class Base:
    def __init__(self, user_id, db=None):
        self.user_id = user_id

    @classmethod
    def create(cls, user_id, *, db):
        return cls(user_id, db=db)
"""


def test_inherited_init_and_classmethod_through_module_import(tmp_path: Path) -> None:
    index = build_index(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/base.py": BASE,
            "app/child.py": "import app.base\n\nclass Child(app.base.Base):\n    pass\n",
            "app/grand.py": "import app.child\n\nclass Grand(app.child.Child):\n    pass\n",
        },
    )
    child = index.resolve_name("app.child", "Child")
    assert isinstance(child, ClassRef)
    assert child.cls.bases == ("app.base.Base",)
    assert [b.qualname for b in index.base_classes(child)] == ["app.base.Base"]

    signature = index.signature(child)
    assert signature is not None
    assert signature.qualname == "app.base.Base.__init__"
    assert signature.path == "app/base.py"
    assert names(signature) == ["user_id", "db"]

    create = index.member(child, "create")
    assert isinstance(create, FunctionRef)
    assert create.qualname == "app.base.Base.create"
    assert names(index.signature(create)) == ["user_id", "db"]

    grand = index.resolve_name("app.grand", "Grand")
    assert isinstance(grand, ClassRef)
    assert [b.qualname for b in index.base_classes(grand)] == [
        "app.child.Child",
        "app.base.Base",
    ]
    assert qualname(index.member(grand, "__init__")) == "app.base.Base.__init__"


def test_overridden_init_wins_over_base(tmp_path: Path) -> None:
    index = build_index(
        tmp_path,
        {
            "m.py": BASE
            + "\nclass Child(Base):\n    def __init__(self, tenant, user_id):\n        pass\n",
        },
    )
    child = index.resolve_name("m", "Child")
    assert isinstance(child, ClassRef)
    assert names(index.signature(child)) == ["tenant", "user_id"]
    assert qualname(index.member(child, "create")) == "m.Base.create"


@pytest.mark.parametrize(
    "child_source",
    [
        "from app.base import Base\n\nclass Child(Base):\n    pass\n",
        "from .base import Base\n\nclass Child(Base):\n    pass\n",
        "import app.base as ab\n\nclass Child(ab.Base):\n    pass\n",
    ],
    ids=["from-import", "relative-import", "aliased-module"],
)
def test_inherited_init_and_classmethod_through_from_import(
    tmp_path: Path, child_source: str
) -> None:
    index = build_index(
        tmp_path,
        {"app/__init__.py": "", "app/base.py": BASE, "app/child.py": child_source},
    )
    child = index.resolve_name("app.child", "Child")
    assert isinstance(child, ClassRef)
    assert [b.qualname for b in index.base_classes(child)] == ["app.base.Base"]
    assert qualname(index.member(child, "create")) == "app.base.Base.create"
    signature = index.signature(child)
    assert signature is not None and signature.qualname == "app.base.Base.__init__"
    assert names(signature) == ["user_id", "db"]


# -- binding calls to signatures (isolint.rules._calls.bind) ----------------------------------------

CALLS = """
class Service:
    @classmethod
    def create(cls, user_id, db, *, cache=None):
        ...


def spread(first, *args, key):
    ...


def open_kw(name, **kwargs):
    ...


def posonly(a, b=None, /, c=None):
    ...
"""


@pytest.fixture
def calls_index(tmp_path: Path) -> ProjectIndex:
    return build_index(
        tmp_path,
        {"app/__init__.py": "", "app/calls.py": CALLS, "app/use.py": "from app import calls\n"},
    )


def signature_of(index: ProjectIndex, call: CallShape) -> Signature:
    signature = resolve_call(index, call)
    assert signature is not None
    return signature


def test_bind_positional_after_cls(calls_index: ProjectIndex) -> None:
    call = shape("calls.Service.create", "app.use", ("name:uid", "none"))
    signature = signature_of(calls_index, call)
    assert signature.qualname == "app.calls.Service.create"
    binding = bind(signature, call)
    assert {k: p.name for k, p in binding.by_argument.items()} == {0: "user_id", 1: "db"}
    assert binding.missing == ()
    assert binding.unknown_keywords == ()


def test_bind_keyword_only_only_by_keyword(calls_index: ProjectIndex) -> None:
    # A third positional argument does not land on the keyword-only ``cache``.
    call = shape("calls.Service.create", "app.use", ("other", "other", "none"))
    binding = bind(signature_of(calls_index, call), call)
    assert {k: p.name for k, p in binding.by_argument.items()} == {0: "user_id", 1: "db"}

    call = shape("calls.Service.create", "app.use", ("other",), (("db", "none"), ("cache", "none")))
    binding = bind(signature_of(calls_index, call), call)
    assert {k: p.name for k, p in binding.by_argument.items()} == {
        0: "user_id",
        "db": "db",
        "cache": "cache",
    }
    assert binding.missing == ()

    call = shape("calls.spread", "app.use", ("other",))
    binding = bind(signature_of(calls_index, call), call)
    assert [p.name for p in binding.missing] == ["key"]


def test_bind_varargs_absorb_extra_positionals(calls_index: ProjectIndex) -> None:
    call = shape("calls.spread", "app.use", ("other", "none", "none"), (("key", "none"),))
    binding = bind(signature_of(calls_index, call), call)
    assert {k: p.name for k, p in binding.by_argument.items()} == {0: "first", "key": "key"}
    assert binding.missing == ()
    assert binding.unknown_keywords == ()


def test_bind_varkw_accepts_unknown_keywords(calls_index: ProjectIndex) -> None:
    call = shape("calls.open_kw", "app.use", (), (("name", "other"), ("anything", "none")))
    binding = bind(signature_of(calls_index, call), call)
    assert {k: p.name for k, p in binding.by_argument.items()} == {"name": "name"}
    assert binding.unknown_keywords == ()

    call = shape("calls.Service.create", "app.use", ("other", "other"), (("anything", "none"),))
    assert bind(signature_of(calls_index, call), call).unknown_keywords == ("anything",)


def test_bind_missing_required(calls_index: ProjectIndex) -> None:
    call = shape("calls.Service.create", "app.use", ("other",))
    binding = bind(signature_of(calls_index, call), call)
    assert [p.name for p in binding.missing] == ["db"]

    # A splat might supply anything: nothing is reported missing.
    starred = shape("calls.Service.create", "app.use", ("other",), star=True)
    assert bind(signature_of(calls_index, starred), starred).missing == ()
    double = shape("calls.Service.create", "app.use", (), double_star=True)
    assert bind(signature_of(calls_index, double), double).missing == ()


def test_bind_positional_only(calls_index: ProjectIndex) -> None:
    call = shape("calls.posonly", "app.use", ("none", "other", "none"))
    signature = signature_of(calls_index, call)
    assert [p.kind for p in signature.params] == [
        "positional_only",
        "positional_only",
        "positional",
    ]
    binding = bind(signature, call)
    assert {k: p.name for k, p in binding.by_argument.items()} == {0: "a", 1: "b", 2: "c"}

    # Positional-only parameters cannot be passed by keyword.
    call = shape("calls.posonly", "app.use", (), (("a", "none"), ("c", "none")))
    binding = bind(signature_of(calls_index, call), call)
    assert {k: p.name for k, p in binding.by_argument.items()} == {"c": "c"}
    assert binding.unknown_keywords == ("a",)
    assert [p.name for p in binding.missing] == ["a"]


def test_resolve_call_unresolvable_is_none(calls_index: ProjectIndex) -> None:
    assert resolve_call(calls_index, shape("calls.nope", "app.use")) is None
    assert resolve_call(calls_index, shape("unknown.thing", "app.use")) is None
    assert resolve_call(calls_index, shape("calls", "app.use")) is None  # a module


# -- annotations admitting None --------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        ("Optional[Session]", True),
        ("typing.Optional[Session]", True),
        ("Session | None", True),
        ("None | Session", True),
        ("Union[Session, None]", True),
        ("typing.Union[None, Session]", True),
        ("Union[Session, Engine]", False),
        ('"Optional[Session]"', True),
        ("'Session | None'", True),
        ('"Session"', False),
        ("Any", True),
        ("typing.Any", True),
        ("object", True),
        ("None", True),
        ("Session", False),
        ("app.db.Session", False),
        ("list[Optional[Session]]", False),
        ("Session | Engine", False),
        ("Annotated[Optional[Session], 'dep']", True),
        ("Annotated[Session, 'dep']", False),
    ],
)
def test_annotation_admits_none(annotation: str, expected: bool) -> None:
    assert annotation_admits_none(cst.parse_expression(annotation)) is expected


def test_literal_none_admits_none() -> None:
    assert annotation_admits_none(cst.parse_expression("Literal[None]")) is True


def test_param_facts_admits_none(tmp_path: Path) -> None:
    source = """
    from typing import Optional, Union

    def f(
        *,
        plain,
        plain_none=None,
        typed: Session,
        typed_none: Session = None,
        opt: Optional[Session],
        union: Union[Session, Engine],
        pipe: Session | None,
        text: "Optional[Session]",
        other_default: Session = DEFAULT,
    ): ...
    """
    facts = collect_facts(tmp_path, {"m.py": source})["m.py"]

    plain = param(facts, "f", "plain")
    assert plain.annotation is None and plain.annotation_admits_none is None
    assert plain.admits_none
    plain_none = param(facts, "f", "plain_none")
    assert plain_none.has_default and plain_none.default_is_none and plain_none.admits_none

    typed = param(facts, "f", "typed")
    assert typed.annotation == "Session"
    assert typed.annotation_admits_none is False
    assert not typed.admits_none
    assert param(facts, "f", "typed_none").admits_none

    opt = param(facts, "f", "opt")
    assert opt.annotation == "Optional[Session]" and opt.annotation_admits_none is True
    assert opt.admits_none
    assert not param(facts, "f", "union").admits_none
    assert param(facts, "f", "pipe").admits_none
    assert param(facts, "f", "text").admits_none
    other_default = param(facts, "f", "other_default")
    assert other_default.has_default and not other_default.default_is_none
    assert not other_default.admits_none


def test_param_kinds(tmp_path: Path) -> None:
    facts = collect_facts(tmp_path, {"m.py": "def g(a, /, b, *args, c, d=1, **kw): ...\n"})["m.py"]
    (g,) = facts.functions
    assert [(p.name, p.kind, p.has_default) for p in g.params] == [
        ("a", "positional_only", False),
        ("b", "positional", False),
        ("args", "vararg", False),
        ("c", "keyword_only", False),
        ("d", "keyword_only", True),
        ("kw", "varkw", False),
    ]


# -- classes with per-instance mutable state -------------------------------------------------


def class_state(tmp_path: Path, body: str) -> bool:
    facts = collect_facts(tmp_path, {"m.py": body})["m.py"]
    (cls,) = facts.classes
    return cls.has_mutable_state


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            """
            class C:
                def __init__(self):
                    self.x = 0
                    self.items = []
                    self.items.append(1)
            """,
            False,
        ),
        (
            """
            class C:
                def __init__(self):
                    self.x = 0

                def bump(self):
                    self.x = 1
            """,
            True,
        ),
        (
            """
            class C:
                def __init__(self):
                    self.items = []

                def add(self, item):
                    self.items.append(item)
            """,
            True,
        ),
        (
            """
            class C:
                def bump(self):
                    self.count += 1
            """,
            True,
        ),
        (
            """
            class C:
                def set(self, value):
                    self.cache[value] = value
            """,
            True,
        ),
        (
            """
            class C:
                def set(self, value):
                    self.value: int = value
            """,
            True,
        ),
        (
            """
            from dataclasses import dataclass

            @dataclass
            class C:
                items: list = None

                def __post_init__(self):
                    self.items = []

                def read(self):
                    local = []
                    local.append(self.items)
                    return local
            """,
            False,
        ),
        (
            """
            class C:
                registry = {}

                def get(self, key):
                    return self.registry.get(key)
            """,
            False,
        ),
    ],
    ids=[
        "init-only",
        "assign-in-method",
        "append-in-method",
        "augassign-in-method",
        "subscript-store-in-method",
        "annassign-in-method",
        "post-init-and-local-mutation",
        "read-only-methods",
    ],
)
def test_has_mutable_state(tmp_path: Path, body: str, expected: bool) -> None:
    assert class_state(tmp_path, body) is expected


def test_class_and_method_facts(tmp_path: Path) -> None:
    facts = collect_facts(tmp_path, {"app/svc.py": SVC})["app/svc.py"]
    assert facts.module == "app.svc" and facts.path == "app/svc.py"
    assert not facts.is_package and not facts.is_test
    (notifier,) = facts.classes
    assert [(m.name, m.kind) for m in notifier.methods] == [
        ("__init__", "method"),
        ("create", "classmethod"),
        ("build", "staticmethod"),
        ("send", "method"),
    ]
    create = notifier.method("create")
    assert create is not None and create.decorators == ("classmethod",)
    assert notifier.method("missing") is None
    assert [f.name for f in facts.functions] == ["make_notifier"]
    assert facts.variables == ("DEFAULT_CHANNEL",)


def test_index_first_path_wins_for_duplicate_modules(tmp_path: Path) -> None:
    files = collect_facts(
        tmp_path,
        {"src/app/mod.py": "class FromSrc: pass\n", "app/mod.py": "class FromRoot: pass\n"},
    )
    index = ProjectIndex(reversed(list(files.values())))
    facts = index.module("app.mod")
    assert facts is not None and facts.path == "app/mod.py"  # sorted by path, first kept
    assert qualname(index.resolve_absolute("app.mod.FromRoot")) == "app.mod.FromRoot"
    assert index.resolve_absolute("app.mod.FromSrc") is None
