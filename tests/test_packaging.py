"""Packaging: metadata (SPDX license, classifiers, py.typed), an sdist that carries its tests and
fixtures, and a CLI that starts without the engine (``--version`` does not import LibCST)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

WHEELHOUSE = Path(os.environ.get("ISOLINT_WHEELHOUSE", REPO / ".wheelhouse"))
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))

_PROBE = """
import sys
sys.argv = ["isolint", *sys.argv[1:]]
from isolint.cli import main
try:
    main()
except SystemExit:
    pass
heavy = sorted(
    m for m in ("libcst", "isolint.check", "isolint.runner", "isolint.rules") if m in sys.modules
)
print("HEAVY:", ",".join(heavy))
"""


@pytest.mark.parametrize("args", [("--version",), ("--help",), ("check", "--help")])
def test_a_no_op_command_does_not_import_the_engine(args: tuple[str, ...]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "HEAVY: \n" in result.stdout, result.stdout


def test_version_matches_the_project() -> None:
    from isolint import __version__

    assert __version__ == PYPROJECT["project"]["version"]
    result = subprocess.run(
        [sys.executable, "-m", "isolint", "--version"], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == f"isolint {__version__}"


def test_metadata_is_spdx_and_complete() -> None:
    project = PYPROJECT["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert "Copyright (c) isolint authors" in (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Typing :: Typed" in project["classifiers"]
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # SPDX instead
    requires = PYPROJECT["build-system"]["requires"]
    assert any(r.replace(" ", "").startswith("setuptools>=77") for r in requires), requires
    assert (REPO / "linter" / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["isolint"]


def test_readme_rev_matches_the_version() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"rev: v{PYPROJECT['project']['version']}" in readme


def _snapshot(target: Path) -> Path:
    """The checkout as it is on disk: tracked and untracked files, not ignored ones."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        source = REPO / os.fsdecode(raw)
        if not source.is_file():
            continue  # deleted in the work tree
        destination = target / os.fsdecode(raw)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(source.read_bytes())
    return target


@pytest.mark.slow
def test_sdist_and_wheel_build_offline_with_tests_fixtures_license_and_py_typed(
    tmp_path: Path,
) -> None:
    if not any(WHEELHOUSE.glob("setuptools-*.whl")):
        pytest.skip(f"no setuptools wheel in {WHEELHOUSE} (see the README's Quick start)")
    backend = tmp_path / "backend"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--find-links",
         str(WHEELHOUSE), "--target", str(backend), "setuptools>=77", "wheel"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if install.returncode != 0:
        pytest.skip(f"the wheelhouse has no setuptools>=77: {install.stderr[-300:]}")
    source = _snapshot(tmp_path / "src")
    out = tmp_path / "dist"
    built = []
    for hook in ("build_sdist", "build_wheel"):  # one process each, as build frontends do
        build = subprocess.run(
            [sys.executable, "-c",
             f"import sys; from setuptools import build_meta; print(build_meta.{hook}(sys.argv[1]))",
             str(out)],
            cwd=source, env={**os.environ, "PYTHONPATH": str(backend)},
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert build.returncode == 0, build.stderr[-2000:]
        built.append(build.stdout.split()[-1])
    sdist_name, wheel_name = built
    with tarfile.open(out / sdist_name) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    tracked = subprocess.run(
        ["git", "ls-files", "fixtures", "tests"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    missing = [path for path in tracked if (REPO / path).is_file() and path not in names]
    assert not missing, f"the sdist lacks test files: {missing[:10]}"
    assert {"LICENSE", "README.md", "pyproject.toml", "linter/py.typed"} <= names
    assert not [n for n in names if "__pycache__" in n or ".isolint_cache" in n]
    with zipfile.ZipFile(out / wheel_name) as wheel:
        files = wheel.namelist()
        info = next(n for n in files if n.endswith(".dist-info/METADATA"))
        metadata = wheel.read(info).decode()
    assert "isolint/py.typed" in files
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in files)
    assert "License-Expression: MIT" in metadata
    assert "Classifier: Typing :: Typed" in metadata
    assert not any(n.startswith(("tests/", "fixtures/")) for n in files)
