"""Issue 15 items 1-3, 7: printed paths relative to the cwd, nearest config per file, explicit
excluded paths, and the command line's settings — through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import REPO, run_isolint

SINGLETON_AND_GLOBAL = """\
CACHE = {}


def put(key, value):
    CACHE[key] = value


class Service:
    _instance = None

    @classmethod
    def get(cls):
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance
"""


def _monorepo(tmp_path: Path) -> Path:
    """Two services with their own configuration: svc_b ignores ISO201."""
    for service, config in (("svc_a", "[tool.isolint]\n"), ("svc_b", 'ignore = ["ISO201"]\n')):
        (tmp_path / service / "app").mkdir(parents=True)
        (tmp_path / service / "app" / "m.py").write_text(SINGLETON_AND_GLOBAL)
        name = "pyproject.toml" if service == "svc_a" else "isolint.toml"
        (tmp_path / service / name).write_text(config)
    return tmp_path


def _findings(*args: str, cwd: Path) -> list[tuple[str, str, int]]:
    out = run_isolint("check", "--no-cache", "--format", "json", *args, cwd=cwd)
    assert out.returncode in (0, 1), out.stderr
    return [(d["path"], d["code"], d["line"]) for d in json.loads(out.stdout)["diagnostics"]]


def test_nearest_config_per_file_in_either_order(tmp_path: Path) -> None:
    root = _monorepo(tmp_path)
    forward = _findings("svc_a/app/m.py", "svc_b/app/m.py", cwd=root)
    backward = _findings("svc_b/app/m.py", "svc_a/app/m.py", cwd=root)
    assert forward == backward
    assert ("svc_a/app/m.py", "ISO201", 1) in forward
    assert not any(path.startswith("svc_b") and code == "ISO201" for path, code, _ in forward)


def test_monorepo_from_the_root_and_from_a_service_folder(tmp_path: Path) -> None:
    root = _monorepo(tmp_path)
    from_root = _findings(".", cwd=root)
    from_service = _findings(".", "../svc_b", cwd=root / "svc_a")

    def from_repo_root(path: str) -> str:  # the service folder's printed path, seen from root
        return path.removeprefix("../") if path.startswith("../") else f"svc_a/{path}"

    assert sorted(from_root) == sorted((from_repo_root(p), c, n) for p, c, n in from_service)
    assert {p for p, _, _ in from_service} == {"app/m.py", "../svc_b/app/m.py"}
    # every printed path opens from where the command ran
    assert all((root / p).is_file() for p, _, _ in from_root)
    assert all((root / "svc_a" / p).is_file() for p, _, _ in from_service)


def test_github_paths_exist_from_a_subdirectory() -> None:
    out = run_isolint(
        "check", "--no-cache", "--format", "github", "example_project", cwd=REPO / "fixtures"
    )
    files = [line.split("file=", 1)[1].split(",", 1)[0] for line in out.stdout.splitlines()]
    assert files and all((REPO / "fixtures" / f).is_file() for f in files)


def test_stdin_prints_the_path_as_given_and_fingerprints_do_not_move(tmp_path: Path) -> None:
    root = _monorepo(tmp_path)
    given = str(root / "svc_a" / "app" / "m.py")
    out = run_isolint(
        "check",
        "--format",
        "json",
        "--stdin-filename",
        given,
        "-",
        cwd=root.parent,
        stdin=SINGLETON_AND_GLOBAL,
    )
    diagnostics = json.loads(out.stdout)["diagnostics"]
    assert {d["path"] for d in diagnostics} == {given}
    here = json.loads(
        run_isolint("check", "--no-cache", "--format", "json", ".", cwd=root / "svc_a").stdout
    )["diagnostics"]
    assert {d["fingerprint"] for d in diagnostics} == {d["fingerprint"] for d in here}


def test_sarif_uris_are_relative_to_the_original_uri_base(tmp_path: Path) -> None:
    root = _monorepo(tmp_path)
    document = json.loads(
        run_isolint("check", "--no-cache", "--format", "sarif", "svc_a", cwd=root).stdout
    )
    run = document["runs"][0]
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base == root.resolve().as_uri() + "/"
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert uris == {"svc_a/app/m.py"}


def test_baseline_is_keyed_by_project_paths_whatever_the_cwd(tmp_path: Path) -> None:
    root = _monorepo(tmp_path)
    assert run_isolint("baseline", ".", cwd=root / "svc_a").returncode == 0
    baseline = "svc_a/.isolint-baseline.json"
    out = run_isolint("check", "--no-cache", "--baseline", baseline, "svc_a", cwd=root)
    assert out.returncode == 0, out.stdout + out.stderr


def test_extend_and_show_settings(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.isolint]\nignore = ["ISO204"]\n')
    service = tmp_path / "svc"
    service.mkdir()
    (service / "pyproject.toml").write_text(
        '[tool.isolint]\nextend = "../pyproject.toml"\nextend-select = ["ISO000"]\n'
    )
    (service / "m.py").write_text("def f(x=[]):\n    return x\n")
    assert run_isolint("check", "--no-cache", "m.py", cwd=service).returncode == 0
    shown = run_isolint("check", "--show-settings", "m.py", cwd=service)
    assert shown.returncode == 0
    assert "ignore = ['ISO204']    # ../pyproject.toml" in shown.stdout.replace('"', "'")
    assert "extend-select = ['ISO000']    # pyproject.toml" in shown.stdout.replace('"', "'")


def test_explicit_excluded_paths_are_linted_unless_force_exclude(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.isolint]\nextend-exclude = ["legacy/"]\n')
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "m.py").write_text("def f(x=[]):\n    return x\n")
    linted = run_isolint("check", "--no-cache", "legacy", cwd=tmp_path)
    assert linted.returncode == 1 and "legacy/m.py:1:" in linted.stdout
    forced = run_isolint("check", "--no-cache", "--force-exclude", "legacy", cwd=tmp_path)
    assert forced.returncode == 0 and forced.stdout == ""
    assert (
        "No Python files found under legacy (excluded by extend-exclude in pyproject.toml: "
        "'legacy/')" in forced.stderr
    )
    clean = run_isolint("check", "--no-cache", "--exclude", "legacy", ".", cwd=tmp_path)
    assert "No Python files found under ." in clean.stderr


def test_all_checks_passed_and_command_line_settings(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.isolint]\n")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "t.py").write_text("def f(x=[]):\n    return x\n")
    ignored = run_isolint(
        "check", "--no-cache", "--per-file-ignores", "scripts/**:ISO204", ".", cwd=tmp_path
    )
    assert ignored.returncode == 0 and "All checks passed (1 file checked" in (ignored.stderr)
    excluded = run_isolint("check", "--no-cache", "--extend-exclude", "scripts", ".", cwd=tmp_path)
    assert "No Python files found under ." in excluded.stderr
    alias = run_isolint("check", "--no-cache", "--output-format", "pylint", ".", cwd=tmp_path)
    assert alias.stdout.startswith("scripts/t.py:1: [ISO204] ")


def test_colour_follows_force_color_and_no_color(tmp_path: Path) -> None:
    import os
    import subprocess

    from tests.conftest import isolint_executable

    (tmp_path / "pyproject.toml").write_text("[tool.isolint]\n")
    (tmp_path / "m.py").write_text("def f(x=[]):\n    return x\n")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    forced = subprocess.run(
        [isolint_executable(), "check", "--no-cache", "."],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**env, "FORCE_COLOR": "1"},
    )
    assert "\x1b[" in forced.stdout
    both = subprocess.run(
        [isolint_executable(), "check", "--no-cache", "."],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**env, "FORCE_COLOR": "1", "NO_COLOR": "1"},
    )
    assert "\x1b[" not in both.stdout and "m.py:1:" in both.stdout


def test_rules_json_and_explain_by_name() -> None:
    rules = json.loads(run_isolint("rules", "--format", "json").stdout)
    iso201 = next(r for r in rules if r["code"] == "ISO201")
    assert iso201["name"] == "mutable-module-global" and iso201["url"].endswith("#iso201")
    by_name = run_isolint("explain", "mutable-module-global").stdout
    assert by_name == run_isolint("explain", "ISO201").stdout
    assert (
        "is not\nreported" not in by_name and "Only mutations inside the same module" not in by_name
    )
    use_instead = by_name.split("## Use instead", 1)[1].split("## Not reported", 1)[0]
    assert "ContextVar" in use_instead and "__all__" not in use_instead


def test_request_path_in_the_message_is_relative_to_the_cwd(tmp_path: Path) -> None:
    """The entry point named inside a message opens from where the command ran, like the
    finding's own path and its related locations (issue 15's paths, issue 13's request paths)."""
    import shutil

    shutil.copytree(REPO / "fixtures" / "fastapi_app", tmp_path / "fastapi_app")
    out = run_isolint("check", "--no-cache", "--format", "json", "fastapi_app", cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    found = json.loads(out.stdout)["diagnostics"]
    reached = [d for d in found if "reached from" in d["message"]]
    assert reached
    for diagnostic in reached:
        entry = diagnostic["related"][0]
        assert entry["path"].startswith("fastapi_app/")
        assert f" ({entry['path']}:{entry['line']}) via " in diagnostic["message"]
        assert (tmp_path / entry["path"]).is_file()
