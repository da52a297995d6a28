"""Where isolint writes and what it reads around the sources: issue 11, items 6, 7, 8, 12, 13.

Each test is one reproduction, run through the real CLI on real files: report and baseline
files (missing directories, read-only places, FIFOs, ``/dev/fd/N``, symlinks, the umask),
non-UTF-8 file names in every format, ``.gitignore`` lines git accepts, symlinked arguments,
unreadable directories, ``--jobs``, and configuration edge cases.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest

from tests.conftest import Completed, isolint_executable, run_isolint

Make = Callable[..., Path]

SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
FINE = "def f(cache={}):\n    return cache\n"
FINE_LINE = "pkg/fine.py:1:13: ISO204"
FORMATS = ("text", "full", "json", "json-lines", "sarif", "github", "junit", "markdown")
RAW_NAME = b"caf\xe9.py"  # Latin-1 bytes: not UTF-8
# Wait for a line on stdin (the test removes the working directory meanwhile), then run argv[1:].
WAIT_THEN_EXEC = "import os, sys; sys.stdin.readline(); os.execv(sys.argv[1], sys.argv[1:])"


def run(
    *args: str,
    cwd: Path | None = None,
    umask: int = -1,
    pass_fds: Sequence[int] = (),
    prefix: Sequence[str] = (),
) -> Completed:
    """isolint on real files: in this process (tests/conftest.py ``run_isolint``), or the installed
    console script in a subprocess where the test sets what a process inherits (a umask, file
    descriptors, a ``prefix`` such as setpriv)."""
    if umask == -1 and not pass_fds and not prefix:
        return run_isolint(*args, cwd=cwd)
    proc = subprocess.run(
        [*prefix, isolint_executable(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        umask=umask,
        pass_fds=tuple(pass_fds),
        check=False,
    )
    return Completed(proc.returncode, proc.stdout, proc.stderr)


def assert_one_line_error(out: Completed, *fragments: str) -> None:
    """Exit 2 and exactly one ``isolint: error:`` line on stderr (besides warnings) that names
    each fragment."""
    assert out.returncode == 2, (out.returncode, out.stderr)
    lines = [x for x in out.stderr.splitlines() if not x.startswith("isolint: warning: ")]
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("isolint: error: "), out.stderr
    assert "internal error" not in lines[0] and "Traceback" not in out.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def without_dac_capabilities() -> list[str] | None:
    """A command prefix under which file permissions apply, or None when none can be had.

    As root, permission bits do not stop reads or writes (CAP_DAC_OVERRIDE): run isolint with
    those capabilities dropped from its bounding set, so mode 000 / 0555 mean what they say.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
    return prefix if probe.returncode == 0 else None


def permissions_prefix() -> list[str]:
    prefix = without_dac_capabilities()
    if prefix is None:
        pytest.skip("running as root without setpriv: permission bits cannot be made to apply")
    return prefix


def project(make_project: Make) -> Path:
    return make_project({"pkg/fine.py": FINE})


# -- item 6: -o FILE and baseline --baseline FILE ------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o027])
def test_new_report_file_follows_the_umask(make_project: Make, umask: int) -> None:
    root = project(make_project)
    out = run("check", "--no-cache", "-o", "report.txt", ".", cwd=root, umask=umask)
    assert out.returncode == 1, out.stderr
    assert stat.S_IMODE((root / "report.txt").stat().st_mode) == 0o666 & ~umask
    assert (root / "report.txt").read_text(encoding="utf-8").startswith(FINE_LINE)


def test_new_baseline_file_follows_the_umask(make_project: Make) -> None:
    root = project(make_project)
    out = run("baseline", "--no-cache", "--baseline", "b.json", ".", cwd=root, umask=0o022)
    assert out.returncode == 0, out.stderr
    assert stat.S_IMODE((root / "b.json").stat().st_mode) == 0o644


@pytest.mark.parametrize(
    "command",
    [
        ("check", "--no-cache", "-o", "no/such/dir/report.txt", "."),
        ("baseline", "--no-cache", "--baseline", "no/such/dir/report.txt", "."),
    ],
    ids=["check-o", "baseline"],
)
def test_missing_parent_directory_is_one_line_exit_2(
    make_project: Make, command: tuple[str, ...]
) -> None:
    root = project(make_project)
    out = run(*command, cwd=root)
    assert_one_line_error(out, "no/such/dir/report.txt", "No such file or directory")
    assert not (root / "no").exists()


def test_file_under_a_regular_file_is_one_line_exit_2(make_project: Make) -> None:
    root = project(make_project)
    out = run("check", "--no-cache", "-o", "pkg/fine.py/report.txt", ".", cwd=root)
    assert_one_line_error(out, "pkg/fine.py/report.txt", "Not a directory")
    assert (root / "pkg/fine.py").read_text(encoding="utf-8") == FINE


@pytest.mark.parametrize("command", ["check", "baseline"])
def test_read_only_directory_is_one_line_exit_2(make_project: Make, command: str) -> None:
    prefix = permissions_prefix()
    root = project(make_project)
    locked = root / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        option = "-o" if command == "check" else "--baseline"
        out = run(command, "--no-cache", option, "locked/out.txt", ".", cwd=root, prefix=prefix)
        assert_one_line_error(out, "locked/out.txt", "Permission denied")
        assert os.listdir(locked) == []  # no stray temp file either
    finally:
        locked.chmod(0o755)


def test_read_only_existing_report_is_refused(make_project: Make) -> None:
    prefix = permissions_prefix()
    root = project(make_project)
    report = root / "report.txt"
    report.write_text("keep me\n", encoding="utf-8")
    report.chmod(0o444)
    out = run("check", "--no-cache", "-o", "report.txt", ".", cwd=root, prefix=prefix)
    assert_one_line_error(out, "report.txt", "Permission denied")
    assert report.read_text(encoding="utf-8") == "keep me\n"


def test_symlinked_report_stays_a_symlink_and_its_target_is_written(make_project: Make) -> None:
    root = project(make_project)
    target = root / "reports" / "real.txt"
    target.parent.mkdir()
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o640)
    link = root / "report.txt"
    link.symlink_to(Path("reports") / "real.txt")
    out = run("check", "--no-cache", "-o", "report.txt", ".", cwd=root, umask=0o022)
    assert out.returncode == 1, out.stderr
    assert link.is_symlink() and os.readlink(link) == os.path.join("reports", "real.txt")
    assert target.read_text(encoding="utf-8").startswith(FINE_LINE)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the existing mode is kept
    assert sorted(os.listdir(target.parent)) == ["real.txt"]


def test_symlinked_baseline_stays_a_symlink(make_project: Make) -> None:
    root = project(make_project)
    target = root / "real.json"
    target.write_text("{}", encoding="utf-8")
    (root / "link.json").symlink_to("real.json")
    out = run("baseline", "--no-cache", "--baseline", "link.json", ".", cwd=root)
    assert out.returncode == 0, out.stderr
    assert (root / "link.json").is_symlink()
    assert json.loads(target.read_text(encoding="utf-8"))["findings"][0]["path"] == "pkg/fine.py"
    again = run("check", "--no-cache", "--baseline", "link.json", ".", cwd=root)
    assert again.returncode == 0, again.stderr


def test_hard_linked_report_is_written_in_place(make_project: Make) -> None:
    root = project(make_project)
    (root / "report.txt").write_text("old\n", encoding="utf-8")
    os.link(root / "report.txt", root / "other-name.txt")
    out = run("check", "--no-cache", "-o", "report.txt", ".", cwd=root)
    assert out.returncode == 1, out.stderr
    assert (root / "other-name.txt").read_text(encoding="utf-8").startswith(FINE_LINE)
    assert (root / "report.txt").stat().st_nlink == 2


def _read_fifo(path: Path, into: list[bytes]) -> None:
    with open(path, "rb") as handle:
        into.append(handle.read())


@pytest.mark.parametrize("command", ["check", "baseline"])
def test_fifo_is_written_not_replaced(make_project: Make, command: str) -> None:
    root = project(make_project)
    fifo = root / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=_read_fifo, args=(fifo, received), daemon=True)
    reader.start()
    option = "-o" if command == "check" else "--baseline"
    out = run(command, "--no-cache", option, "pipe", ".", cwd=root)
    reader.join(timeout=60)
    assert not reader.is_alive()
    assert out.returncode == (1 if command == "check" else 0), out.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    text = received[0].decode("utf-8")
    if command == "check":
        assert text.startswith(FINE_LINE)
    else:
        assert json.loads(text)["findings"][0]["path"] == "pkg/fine.py"
    assert sorted(p.name for p in root.iterdir()) == ["pipe", "pkg", "pyproject.toml"]


def test_dev_fd_n_is_written(make_project: Make) -> None:
    root = project(make_project)
    read_end, write_end = os.pipe()
    try:
        out = run(
            "check",
            "--no-cache",
            "-o",
            f"/dev/fd/{write_end}",
            ".",
            cwd=root,
            pass_fds=[write_end],
        )
        os.close(write_end)
        write_end = -1
        with os.fdopen(read_end, "rb") as handle:
            read_end = -1
            data = handle.read()
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)
    assert out.returncode == 1, out.stderr
    assert data.decode("utf-8").startswith(FINE_LINE)


def test_character_device_is_written(make_project: Make) -> None:
    root = project(make_project)
    out = run("check", "--no-cache", "-o", os.devnull, ".", cwd=root)
    assert out.returncode == 1, out.stderr
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_report_into_a_directory_is_exit_2(make_project: Make) -> None:
    root = project(make_project)
    (root / "out").mkdir()
    out = run("baseline", "--no-cache", "--baseline", "out", ".", cwd=root)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "internal error" not in out.stderr


# -- item 7: non-UTF-8 file names ------------------------------------------------------------------


def non_utf8_project(make_project: Make) -> Path:
    root = project(make_project)
    try:
        with open(os.path.join(os.fsencode(root), b"pkg", RAW_NAME), "wb") as handle:
            handle.write(FINE.encode())
    except (OSError, UnicodeError) as exc:
        pytest.skip(f"the file system refuses non-UTF-8 names: {exc}")
    return root


def sarif_validator() -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator_class: Any = jsonschema.validators.validator_for(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def check_non_utf8_report(fmt: str, report: str) -> None:
    """The name is there, spelled as the format allows; the rest of the report is intact."""
    if fmt in ("json", "json-lines"):
        docs = (
            [json.loads(report)]
            if fmt == "json"
            else [{"diagnostics": [json.loads(line)]} for line in report.splitlines()]
        )
        paths = [d["path"] for doc in docs for d in doc["diagnostics"]]
        assert os.fsencode("pkg/" + os.fsdecode(RAW_NAME)) in [os.fsencode(p) for p in paths]
        assert "pkg/fine.py" in paths
    elif fmt == "sarif":
        doc = json.loads(report)
        problems = [e.message for e in sarif_validator().iter_errors(doc)]
        assert problems == []
        uris = [
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in doc["runs"][0]["results"]
        ]
        assert "pkg/caf%E9.py" in uris  # percent-encoded raw bytes
        assert unquote_to_bytes("pkg/caf%E9.py") == b"pkg/" + RAW_NAME
        assert "pkg/fine.py" in uris
    else:
        assert "caf\\xe9.py" in report  # backslash-escaped byte
        assert "fine.py" in report


@pytest.mark.parametrize("fmt", FORMATS)
def test_non_utf8_file_name_in_every_format(make_project: Make, fmt: str) -> None:
    root = non_utf8_project(make_project)
    out = run("check", "--no-cache", "--format", fmt, ".", cwd=root)
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr and "internal error" not in out.stderr
    check_non_utf8_report(fmt, out.stdout)
    written = run("check", "--no-cache", "--format", fmt, "-o", "report.out", ".", cwd=root)
    assert written.returncode == 1, written.stderr
    data = (root / "report.out").read_bytes()
    check_non_utf8_report(fmt, data.decode("utf-8"))  # the file is valid UTF-8


def test_non_utf8_file_name_in_the_baseline(make_project: Make) -> None:
    root = non_utf8_project(make_project)
    out = run("baseline", "--no-cache", ".", cwd=root)
    assert out.returncode == 0, out.stderr
    saved = (root / ".isolint-baseline.json").read_text(encoding="utf-8")
    paths = [e["path"] for e in json.loads(saved)["findings"]]
    assert [os.fsencode(p) for p in paths] == [b"pkg/" + RAW_NAME, b"pkg/fine.py"]
    again = run("check", "--no-cache", "--baseline", ".isolint-baseline.json", ".", cwd=root)
    assert again.returncode == 0, again.stderr
    assert "2 known" in again.stderr


# -- item 8: .gitignore lines git accepts, bad configured patterns ----------------------------------


def test_gitignore_with_lines_git_ignores_as_invalid(make_project: Make) -> None:
    root = make_project({"pkg/fine.py": FINE, "bin/tool.py": FINE, "gen/out.py": FINE})
    (root / ".gitignore").write_text("!\nbin\\\n\\\n/\n!/\ngen/\n", encoding="utf-8")
    out = run("check", "--no-cache", "--format", "json", ".", cwd=root)
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    # As git: the invalid lines and `/` match nothing; `gen/` still applies.
    assert sorted({d["path"] for d in doc["diagnostics"]}) == ["bin/tool.py", "pkg/fine.py"]
    assert doc["summary"]["files"] == 2


@pytest.mark.parametrize(
    ("key", "toml"),
    [
        ("extend-exclude", 'extend-exclude = ["ok/", "bin\\\\"]'),
        ("extend-exclude", 'extend-exclude = ["!"]'),
        ("integration-tests", 'integration-tests = ["!"]'),
        ("per-file-ignores", 'per-file-ignores = {"x\\\\" = ["ISO204"]}'),
    ],
)
def test_bad_configured_pattern_is_a_config_error(make_project: Make, key: str, toml: str) -> None:
    root = make_project({"pkg/fine.py": FINE}, pyproject=f"[tool.isolint]\n{toml}\n")
    out = run("check", "--no-cache", ".", cwd=root)
    assert_one_line_error(out, "pyproject.toml", f"'{key}'", "invalid pattern")


# -- item 12: symlinked arguments, unreadable directories, --jobs ----------------------------------


def test_symlinked_file_uses_the_config_of_its_own_directory(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a/pyproject.toml").write_text("[tool.isolint]\n", encoding="utf-8")
    (tmp_path / "b/pyproject.toml").write_text(
        '[tool.isolint]\nignore = ["ISO204"]\n', encoding="utf-8"
    )
    (tmp_path / "b/real.py").write_text(FINE, encoding="utf-8")
    (tmp_path / "a/link.py").symlink_to(Path("..") / "b" / "real.py")
    out = run("check", "--no-cache", "a/link.py", cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert out.stdout.startswith("a/link.py:1:13: ISO204")  # a's config, path as given
    inside = run("check", "--no-cache", "link.py", cwd=tmp_path / "a")
    assert inside.stdout == out.stdout.replace("a/link.py", "link.py")
    target = run("check", "--no-cache", "b/real.py", cwd=tmp_path)
    assert target.returncode == 0 and target.stdout == ""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_unreadable_directory_is_reported(make_project: Make, jobs: str) -> None:
    prefix = permissions_prefix()
    root = make_project({"pkg/fine.py": FINE, "pkg/secret/hidden.py": FINE})
    (root / "pkg/secret").chmod(0)
    try:
        out = run(
            "check", "--no-cache", "-j", jobs, "--format", "json", ".", cwd=root, prefix=prefix
        )
    finally:
        (root / "pkg/secret").chmod(0o755)
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    assert [(e["path"], e["message"]) for e in doc["errors"]] == [
        ("pkg/secret", "cannot list directory: Permission denied")
    ]
    assert [d["path"] for d in doc["diagnostics"]] == ["pkg/fine.py"]
    assert "(1 file could not be analysed)" in out.stderr


@pytest.mark.parametrize("value", ["-1", "-8"])
def test_negative_jobs_is_a_usage_error(make_project: Make, value: str) -> None:
    root = project(make_project)
    out = run("check", "--no-cache", "-j", value, ".", cwd=root)
    assert_one_line_error(out, "--jobs", value)


def test_jobs_zero_and_above_the_files_and_cpus(make_project: Make) -> None:
    root = make_project({f"pkg/m{i}.py": FINE for i in range(20)})
    one = run("check", "--no-cache", "-j", "1", "--format", "json", ".", cwd=root)
    assert one.returncode == 1, one.stderr
    for value in ("0", "64", "100000"):
        out = run("check", "--no-cache", "-j", value, "--format", "json", ".", cwd=root)
        assert out.returncode == 1, out.stderr
        assert json.loads(out.stdout) == json.loads(one.stdout), value


def test_jobs_help_documents_zero() -> None:
    out = run("check", "--help")
    assert "0: the available CPUs" in " ".join(out.stdout.split())


# -- item 13: configuration ------------------------------------------------------------------------


def test_lowercase_codes_in_config_work_as_on_the_command_line(make_project: Make) -> None:
    root = make_project(
        {"pkg/fine.py": FINE, "pkg/other.py": FINE},
        pyproject=(
            '[tool.isolint]\nselect = ["iso2"]\nper-file-ignores = {"pkg/other.py" = ["iso204"]}\n'
        ),
    )
    out = run("check", "--no-cache", ".", cwd=root)
    cli = run("check", "--no-cache", "--select", "iso2", ".", cwd=root)
    assert out.returncode == 1, out.stderr
    assert out.stdout == cli.stdout
    assert [line.split(": ")[0] for line in out.stdout.splitlines()] == ["pkg/fine.py:1:13"]


def test_unknown_lowercase_code_in_config_is_still_an_error(make_project: Make) -> None:
    root = make_project({"pkg/fine.py": FINE}, pyproject='[tool.isolint]\nselect = ["iso9"]\n')
    out = run("check", "--no-cache", ".", cwd=root)
    assert_one_line_error(out, "select", "ISO9")


def test_pyproject_with_a_utf8_bom_is_read(make_project: Make) -> None:
    root = project(make_project)
    (root / "pyproject.toml").write_bytes(b'\xef\xbb\xbf[tool.isolint]\nignore = ["ISO204"]\n')
    out = run("check", "--no-cache", ".", cwd=root)
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""


def test_empty_select_warns_that_no_rule_is_enabled(make_project: Make) -> None:
    root = make_project({"pkg/fine.py": FINE}, pyproject="[tool.isolint]\nselect = []\n")
    out = run("check", "--no-cache", ".", cwd=root)
    assert out.returncode == 0, out.stderr
    warnings = [line for line in out.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("isolint: warning: no rule is enabled")


@pytest.mark.parametrize(
    "command",
    [("check",), ("baseline",), ("check", "/"), ("rules",), ("explain", "ISO503"), ("test-rule", "/")],
)
def test_deleted_working_directory_is_one_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-c", WAIT_THEN_EXEC, isolint_executable(), *command],
        cwd=gone,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    gone.rmdir()  # the shell is already inside it; isolint starts only after the next line
    stdout, stderr = proc.communicate("go\n", timeout=120)
    assert_one_line_error(Completed(proc.returncode, stdout, stderr), str(gone))


def test_deeply_nested_baseline_is_one_line(make_project: Make) -> None:
    root = project(make_project)
    (root / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    out = run("check", "--no-cache", "--baseline", "deep.json", ".", cwd=root)
    assert_one_line_error(out, "deep.json", "nested too deeply")
