"""One import name: installed, isolint adds the top-level package ``isolint`` only (the
repository keeps ``linter/`` and ``rules/``; pyproject.toml maps them), so a project with its own
``rules`` or ``linter`` package lints fine, also with ``PYTHONPATH=.``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, isolint_executable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

WHEELHOUSE = Path(os.environ.get("ISOLINT_WHEELHOUSE", REPO / ".wheelhouse"))
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))

# A project whose own top-level packages are named as isolint's source directories are: its
# ``rules.load_rules`` would have been imported by isolint before, and crashed the run.
_OWN_PACKAGES = {
    "pyproject.toml": "[tool.isolint]\n",
    "rules/__init__.py": """
        def load_rules():
            raise RuntimeError("this project's rules package, not isolint's")
        """,
    "rules/perms.py": """
        CAN_EDIT = ("admin", "owner")
        """,
    "linter/__init__.py": """
        raise RuntimeError("this project's linter package, not isolint's")
        """,
    "app/__init__.py": "",
    "app/views.py": """
        from rules.perms import CAN_EDIT

        _seen = {}


        def handle(request):
            _seen[request.user] = request.body
            return CAN_EDIT
        """,
}


def _own_project(root: Path) -> Path:
    for relpath, content in _OWN_PACKAGES.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def _run(
    args: list[str], cwd: Path, pythonpath: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "PYTHONPATH")
    }
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _package_dirs(top: Path, name: str) -> set[str]:
    return {
        ".".join((name, *init.parent.relative_to(top).parts))
        for init in top.rglob("__init__.py")
        if "__pycache__" not in init.parts
    }


def test_pyproject_maps_the_source_directories_onto_one_import_name() -> None:
    setuptools = PYPROJECT["tool"]["setuptools"]
    assert setuptools["package-dir"] == {"isolint": "linter", "isolint.rules": "rules"}
    expected = _package_dirs(REPO / "linter", "isolint") | _package_dirs(
        REPO / "rules", "isolint.rules"
    )
    assert set(setuptools["packages"]) == expected  # a new subpackage must be listed there
    assert PYPROJECT["project"]["scripts"] == {"isolint": "isolint.cli:main"}
    assert {"isolint", "isolint.rules"} <= set(setuptools["package-data"])


def test_only_isolint_is_importable_outside_the_checkout(tmp_path: Path) -> None:
    probe = (
        "import importlib.util as u, isolint, isolint.rules, isolint.server\n"
        "print(u.find_spec('linter'), u.find_spec('rules'))\n"
        "print(len(isolint.rules.load_rules()) > 0)\n"
    )
    result = _run([sys.executable, "-c", probe], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "None", "True"]


def test_python_m_isolint(tmp_path: Path) -> None:
    result = _run([sys.executable, "-m", "isolint", "--version"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"isolint {PYPROJECT['project']['version']}"


@pytest.mark.parametrize("how", ["script", "module"])
def test_a_project_with_its_own_rules_package_lints_with_pythonpath_dot(
    tmp_path: Path, how: str
) -> None:
    project = _own_project(tmp_path / "proj")
    command = [isolint_executable()] if how == "script" else [sys.executable, "-m", "isolint"]
    result = _run([*command, "check", "--no-cache", "."], cwd=project, pythonpath=".")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    assert "app/views.py" in result.stdout and "ISO" in result.stdout, result.stdout


def _build_wheel(tmp_path: Path) -> Path:
    if not any(WHEELHOUSE.glob("setuptools-*.whl")):
        pytest.skip(f"no setuptools wheel in {WHEELHOUSE} (see the README's Quick start)")
    backend = tmp_path / "backend"
    install = _run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--find-links",
         str(WHEELHOUSE), "--target", str(backend), "setuptools>=77", "wheel"],
        cwd=tmp_path,
    )  # fmt: skip
    if install.returncode != 0:
        pytest.skip(f"the wheelhouse has no setuptools>=77: {install.stderr[-300:]}")
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".isolint_cache")
    for name in ("linter", "rules"):
        shutil.copytree(REPO / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        shutil.copy2(REPO / name, source / name)
    out = tmp_path / "dist"
    build = _run(
        [sys.executable, "-c",
         "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))",
         str(out)],
        cwd=source, pythonpath=str(backend),
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-2000:]
    return out / build.stdout.split()[-1]


@pytest.mark.slow
def test_the_wheel_installs_one_top_level_name_and_runs(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        files = archive.namelist()
        top_level = next(n for n in files if n.endswith(".dist-info/top_level.txt"))
        assert archive.read(top_level).decode().split() == ["isolint"]
        record = next(n for n in files if n.endswith(".dist-info/RECORD"))
        recorded = [line.split(",")[0] for line in archive.read(record).decode().splitlines()]
    assert {path.split("/")[0] for path in files} == {"isolint", top_level.split("/")[0]}
    assert {path.split("/")[0] for path in recorded} == {"isolint", top_level.split("/")[0]}
    assert {"isolint/__main__.py", "isolint/py.typed", "isolint/rules/py.typed",
            "isolint/rules/__init__.py", "isolint/server/__init__.py"} <= set(files)  # fmt: skip

    site = tmp_path / "site"  # the wheel alone; its dependencies come from this environment
    install = _run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
         str(site), str(wheel)],
        cwd=tmp_path,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    installed = {p.name for p in site.iterdir() if not p.name.endswith(".dist-info")}
    assert installed - {"bin"} == {"isolint"}  # bin/: the console script

    probe = "import isolint, isolint.cache as c; print(isolint.__file__); print(c._rules_dir())"
    where = _run([sys.executable, "-c", probe], cwd=tmp_path, pythonpath=str(site))
    assert where.returncode == 0, where.stderr
    assert where.stdout.split() == [
        str(site / "isolint" / "__init__.py"),
        str(site / "isolint" / "rules"),
    ]

    version = _run(
        [sys.executable, "-m", "isolint", "--version"], cwd=tmp_path, pythonpath=str(site)
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"isolint {PYPROJECT['project']['version']}"

    project = _own_project(tmp_path / "proj")
    checked = _run(
        [sys.executable, "-m", "isolint", "check", "."],
        cwd=project,
        pythonpath=os.pathsep.join([".", str(site)]),
    )
    assert "Traceback" not in checked.stderr, checked.stderr
    assert checked.returncode == 1 and "app/views.py" in checked.stdout, (
        checked.stdout + checked.stderr
    )
