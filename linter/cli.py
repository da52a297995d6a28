"""The command line: parse options -> request -> runner -> reporter -> exit code."""

from __future__ import annotations

import dataclasses
import functools
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from isolint import __version__, baseline
from isolint.diagnostics import Diagnostic, ExitCode, FileError, RunResult
from isolint.errors import IsolintError, UsageError
from isolint.output import write_output
from isolint.reporters import ReportContext, reporters
from isolint.safe_write import WriteRefused, replace_content

# The engine (and LibCST) is imported inside the commands that need it: `isolint --version`
# and `--help` start without it (tests/test_packaging.py checks).
if TYPE_CHECKING:
    from isolint.check import CheckRequest
    from isolint.fixes import FixOutcome
    from isolint.rule import Rule
    from isolint.session import Options, Prepared
    from isolint.workspace import Group

F = TypeVar("F", bound=Callable[..., Any])
_FIX_ROUNDS = 4


def load_rules() -> tuple[type[Rule], ...]:
    """The built-in rules plus the installed team rules (``isolint.rules`` entry points); a
    configuration's ``rule-paths`` add theirs in ``prepare``."""
    from isolint.plugins import combine, entry_point_rules
    from isolint.rules import load_rules as builtin_rules

    try:
        return combine(builtin_rules(), entry_point_rules())
    except IsolintError as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits


def _rules_here() -> tuple[type[Rule], ...]:
    """Every rule known in the current directory: ``load_rules`` plus its configuration's
    ``rule-paths`` (for ``isolint rules`` and ``explain``)."""
    from isolint.config import load_config
    from isolint.session import with_rule_paths

    rules = load_rules()
    try:
        return with_rule_paths(rules, load_config(None, Path(".")))
    except IsolintError as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits


def _fail(message: str) -> None:
    click.echo(f"isolint: error: {message}", err=True)
    sys.exit(ExitCode.USAGE)


def _warn(warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        click.echo(f"isolint: warning: {warning}", err=True)


def _summary(result: RunResult) -> str:
    findings = len(result.diagnostics)
    noun = "finding" if findings == 1 else "findings"
    files = result.files_with_findings
    file_noun = "file" if files == 1 else "files"
    bad = len({e.path for e in result.errors})
    bad_noun = "file" if bad == 1 else "files"
    text = f"{findings} {noun} in {files} {file_noun} ({bad} {bad_noun} could not be analysed)"
    if result.suppressed:
        text += f"; {result.suppressed} suppressed"
    return text


def selection_options(function: F) -> F:
    """Options shared by ``check`` and ``baseline``: what to lint and how."""
    decorators = [
        click.argument("paths", nargs=-1, type=click.Path(path_type=Path)),
        click.option("--select", help="Comma-separated rule codes or prefixes (e.g. ISO1,ISO201)."),
        click.option(
            "--extend-select", help="Codes or prefixes to enable on top of the selection."
        ),
        click.option("--ignore", help="Comma-separated rule codes or prefixes to disable."),
        click.option(
            "--config",
            "config_file",
            type=click.Path(path_type=Path),
            help="Use this pyproject.toml (or isolint.toml) instead of discovering one.",
        ),
        click.option(
            "-j",
            "--jobs",
            type=int,
            default=None,
            help=(
                "Worker processes (default and 0: the available CPUs). Capped at one per CPU "
                "and per 8 files; negative is an error."
            ),
        ),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache."),
        click.option(
            "--cache-dir",
            type=click.Path(path_type=Path, file_okay=False),
            help="Cache directory (default: .isolint_cache at the project root).",
        ),
        click.option(
            "--debug",
            is_flag=True,
            help="Show the traceback of each rule failure; re-raise other internal errors.",
        ),
        click.option(
            "--exclude",
            multiple=True,
            help="Gitignore-style patterns not to lint (comma-separated; replaces extend-exclude).",
        ),
        click.option(
            "--extend-exclude",
            multiple=True,
            help="Patterns not to lint, on top of the configuration's extend-exclude.",
        ),
        click.option(
            "--per-file-ignores",
            multiple=True,
            help="GLOB:CODES, e.g. 'tests/**:ISO2,ISO3' (repeatable; adds to the configuration's).",
        ),
        click.option(
            "--force-exclude",
            is_flag=True,
            default=None,
            help="Apply excludes to paths named on the command line too (the pre-commit hook).",
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def _jobs(requested: int | None) -> int:
    """``--jobs``: None or 0 mean every available CPU; negative is a usage error."""
    from isolint.check import default_jobs

    if requested is not None and requested < 0:
        _fail(f"--jobs: must be 0 (all CPUs) or a positive number of processes, got {requested}")
    return requested or default_jobs()


def _options(params: dict[str, Any], stdin_data: bytes | None = None) -> Options:
    from isolint.session import Options

    quiet = bool(params.get("quiet"))
    return Options(
        paths=tuple(params["paths"]),
        select=params["select"],
        extend_select=params["extend_select"],
        ignore=params["ignore"],
        config_file=params["config_file"],
        jobs=_jobs(params["jobs"]),
        use_cache=not params["no_cache"],
        cache_dir=params["cache_dir"],
        stdin_filename=params.get("stdin_filename"),
        stdin_data=stdin_data,
        progress=not quiet,
        exclude=_patterns(params["exclude"]) if params["exclude"] else None,
        extend_exclude=_patterns(params["extend_exclude"]),
        per_file_ignores=tuple(_per_file_ignore(value) for value in params["per_file_ignores"]),
        force_exclude=bool(params["force_exclude"]),
    )


def _patterns(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(p.strip() for value in values for p in value.split(",") if p.strip())


def _per_file_ignore(value: str) -> tuple[str, tuple[str, ...]]:
    """``GLOB:CODES`` from ``--per-file-ignores``."""
    glob, sep, codes = value.rpartition(":")
    parsed = tuple(c.strip().upper() for c in codes.split(",") if c.strip())
    if not sep or not glob.strip() or not parsed:
        _fail(f"--per-file-ignores: expected GLOB:CODES (e.g. 'tests/**:ISO2'), got {value!r}")
    return glob.strip(), parsed


def _print_tracebacks(result: RunResult) -> None:
    """``--debug``: the traceback of each rule failure (``internal error in ISOxxx``), on stderr."""
    for error in result.errors:
        if error.detail:
            click.echo(f"isolint: debug: {error.path}: {error.message}", err=True)
            click.echo(error.detail.rstrip("\n"), err=True)


def _guarded(debug: bool, action: Callable[[], Any]) -> Any:
    """The top-level catch: user errors exit 2 with one line; bugs too, unless --debug."""
    try:
        return action()
    except IsolintError as exc:
        _fail(str(exc))
    except Exception as exc:
        if debug:
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc}")


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so the run unwinds (and kills its workers)."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


class _StoppableGroup(click.Group):
    """Ctrl-C (SIGINT) and SIGTERM stop any command at once: one line, exit 130 or 143.

    Worker processes ignore SIGINT and die with the parent (isolint.pool), so nothing outlives
    the run; cache entries of the files already done stay (the cache writes the ones it holds
    as the run unwinds)."""

    def invoke(self, ctx: click.Context) -> Any:
        previous = signal.signal(signal.SIGTERM, _terminate)
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            after_echoed_ctrl_c = "\n" if sys.stderr.isatty() else ""
            click.echo(f"{after_echoed_ctrl_c}isolint: interrupted", err=True)
            sys.exit(ExitCode.INTERRUPTED)
        except _Terminated:
            click.echo("isolint: terminated", err=True)
            sys.exit(ExitCode.TERMINATED)
        finally:
            signal.signal(signal.SIGTERM, previous)


@click.group(cls=_StoppableGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="isolint", message="%(prog)s %(version)s")
@click.pass_context
def main(ctx: click.Context) -> None:
    """isolint: find user-isolation violations (session bleeding) in multi-user Python backends."""
    if ctx.invoked_subcommand in ("check", "baseline", "cache", "rules", "explain", "test-rule"):
        _require_working_directory()


def _require_working_directory() -> None:
    """Relative paths, config discovery and the project root all start from it."""
    try:
        os.getcwd()
    except OSError as exc:
        try:  # Linux names a deleted directory "<path> (deleted)"
            where = os.readlink("/proc/self/cwd").removesuffix(" (deleted)")
        except OSError:
            where = os.environ.get("PWD") or "the current directory"
        _fail(f"{where}: working directory is not accessible ({exc.strerror}); cd elsewhere")


@main.command()
@selection_options
@click.option(
    "--format",
    "--output-format",
    "output_format",
    type=click.Choice(sorted(reporters())),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "-o",
    "--output-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report to this file.",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option(
    "-q", "--quiet", is_flag=True, help="Print the report only: no summary or warnings on stderr."
)
@click.option("--fix", is_flag=True, help="Apply the safe fixes of fixable findings.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option(
    "--include-dependents",
    is_flag=True,
    help=(
        "Also report findings the given files' changes cause in other files (compared with "
        "their git HEAD version; the pre-commit hook)."
    ),
)
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Report only findings not in this baseline.",
)
@click.option("--show-known", is_flag=True, help="With a baseline, also list the known findings.")
@click.option("--statistics", is_flag=True, help="Print counts per rule instead of the findings.")
@click.option("--stdin-filename", help="Lint source read from stdin ('-') as this path.")
@click.option(
    "--report-unused-ignores",
    is_flag=True,
    help="Report suppression comments that suppress nothing (ISO000).",
)
@click.option(
    "--show-settings",
    is_flag=True,
    help="Print the settings that apply to PATHS and where each came from; lint nothing.",
)
@click.option(
    "--max-chars",
    type=click.IntRange(min=1000),
    default=None,
    help=(
        "markdown: cap the report at N characters with an 'N more findings' line (default "
        "1048576, GitHub's step-summary limit; 65536 fits a pull-request comment)."
    ),
)
def check(**params: Any) -> None:
    """Lint PATHS (default: the current directory) for isolation violations."""
    from isolint.check import run_check
    from isolint.session import prepare

    quiet = bool(params["quiet"])
    stdin_data = None
    if params["stdin_filename"] is not None or any(str(p) == "-" for p in params["paths"]):
        if params["stdin_filename"] is None:
            _fail("--stdin-filename: required when reading source from stdin ('-')")
        stdin_data = _read_stdin()
    if params["report_unused_ignores"]:
        params["extend_select"] = ",".join(filter(None, [params["extend_select"], "ISO000"]))
    if params["include_dependents"] and (params["fix"] or params["diff"] or stdin_data):
        _fail("--include-dependents: not with --fix, --diff or stdin (it judges committed files)")
    options = _options(params, stdin_data)
    all_rules = load_rules()
    debug = params["debug"]
    lint = _with_dependents if params["include_dependents"] else run_check
    if params["show_settings"]:
        _guarded(debug, lambda: _show_settings(options))
        return
    groups: tuple[Group, ...] = _guarded(debug, lambda: _groups(options))
    runs: list[_GroupRun] = []
    warned: set[str] = set()
    for group in groups:
        group_options = dataclasses.replace(
            options, paths=group.targets, skip=group.skip, discovered=group.config
        )
        prepared: Prepared = _guarded(debug, functools.partial(prepare, group_options, all_rules))
        if not quiet:
            _warn(tuple(w for w in prepared.warnings if w not in warned))
        warned.update(prepared.warnings)
        request = prepared.request
        runs.append(_GroupRun(prepared, _guarded(debug, functools.partial(lint, request))))
    if params["diff"]:
        _guarded(debug, lambda: _print_diff(runs, params["exit_zero"]))
        return
    from isolint.paths import merge
    from isolint.reporters import format_json_statistics
    from isolint.terminal import use_color

    stdin_fix = bool(params["fix"]) and stdin_data is not None
    cwd = os.getcwd()
    finished = [_finish_group(run, params, stdin_fix, cwd) for run in runs]
    result = merge([r for r, _ in finished])
    comparisons = [c for _, c in finished if c is not None]
    if not quiet:
        _warn(tuple(result.warnings))
    if debug:
        _print_tracebacks(result)
    stdin_shown = {
        str(params["stdin_filename"]): data.decode("utf-8", errors="replace")
        for run in runs
        for _, data in run.prepared.request.overrides
    }
    output_format = params["output_format"]
    to_file = params["output_file"] is not None and not stdin_fix
    context = ReportContext(
        rules=_known_rules(all_rules, [run.prepared for run in runs]),
        show_known=params["show_known"],
        read_source=lambda path: stdin_shown[path] if path in stdin_shown else _read_text(path),
        color=not to_file and use_color(sys.stdout),
        max_chars=params["max_chars"],
        base_uri=Path(cwd).as_uri().rstrip("/") + "/",
    )
    if stdin_fix:
        report = ""  # stdout carries the fixed source
    elif params["statistics"]:
        report = (
            format_json_statistics(result, context)
            if output_format == "json"
            else _statistics(result)
        )
    else:
        report = reporters()[output_format](result, context)
    if to_file:
        output = Path(params["output_file"])
        data = report.encode("utf-8", "backslashreplace")
        _guarded(debug, lambda: write_output(output, data, "the report"))
    else:
        click.echo(report, nl=False, color=context.color)
    if not params["quiet"]:
        _print_summary(result, comparisons, bool(params["fix"]), runs, options.paths)
    failed = bool(result.diagnostics or result.errors)
    sys.exit(ExitCode.FINDINGS if failed and not params["exit_zero"] else ExitCode.CLEAN)


@dataclasses.dataclass(frozen=True)
class _GroupRun:
    """One configuration's part of the run (isolint.workspace): its request and result."""

    prepared: Prepared
    result: RunResult

    def show(self, cwd: str, stdin_filename: str | None) -> Callable[[str], str]:
        from isolint.paths import displayer

        request = self.prepared.request
        given = {relpath: stdin_filename or relpath for relpath, _ in request.overrides}
        return displayer(request.root, cwd, given)


def _groups(options: Options) -> tuple[Group, ...]:
    """One group per nearest configuration; ``--config`` and stdin use one configuration."""
    from isolint.session import with_command_line
    from isolint.workspace import Group, plan

    targets = tuple(p for p in options.paths if str(p) != "-")
    if options.config_file is not None or options.stdin_filename is not None:
        return (Group(None, options.paths),)
    for target in targets:
        if not target.exists() and not target.is_symlink():
            raise UsageError(f"path '{target}' does not exist")
    return plan(targets or (Path("."),), lambda loaded: with_command_line(loaded, options))


def _finish_group(
    run: _GroupRun, params: dict[str, Any], stdin_fix: bool, cwd: str
) -> tuple[RunResult, baseline.Comparison | None]:
    """Fixes, then the baseline (both keyed by project-relative paths), then printed paths."""
    from isolint.paths import relocate

    debug = params["debug"]
    request = run.prepared.request
    result = run.result
    if params["fix"]:
        result = _guarded(debug, lambda: _fix_loop(request, result, stdin=stdin_fix))
    loaded = run.prepared.loaded
    baseline_path = params["baseline_file"] or (
        loaded.root / loaded.settings.baseline if loaded.settings.baseline else None
    )
    comparison = None
    if baseline_path is not None:
        entries = _guarded(debug, lambda: baseline.load(Path(baseline_path)))
        comparison = baseline.compare(result.diagnostics, entries)
        result = dataclasses.replace(
            result,
            diagnostics=comparison.new,
            known=comparison.known,
            fixed_in_baseline=tuple(e.fingerprint for e in comparison.fixed),
        )
    return relocate(result, run.show(cwd, params["stdin_filename"])), comparison


def _print_summary(
    result: RunResult,
    comparisons: Sequence[baseline.Comparison],
    fixing: bool,
    runs: Sequence[_GroupRun],
    paths: Sequence[Path],
) -> None:
    linted = sum(len(run.prepared.request.files) for run in runs)
    if linted == 0 and not result.errors:
        click.echo(_nothing_linted(runs, paths), err=True)
        return
    if not result.diagnostics and not result.errors and not comparisons and not fixing:
        checked = "file" if linted == 1 else "files"
        suppressed = f"; {result.suppressed} suppressed" if result.suppressed else ""
        click.echo(f"All checks passed ({linted} {checked} checked{suppressed})", err=True)
        return
    summary = _summary(result)
    if comparisons:
        new = sum(len(c.new) for c in comparisons)
        fixed = sum(len(c.fixed) for c in comparisons)
        known = sum(len(c.known) for c in comparisons)
        summary += f"; {new} new, {fixed} fixed, {known} known"
    fixable = sum(1 for d in result.diagnostics if d.fix is not None)
    if fixing:
        summary += f"; fixed {result.fixes_applied}, {fixable} fixable remaining"
    click.echo(summary, err=True)
    if fixable and not fixing:
        click.echo(f"[*] {fixable} fixable with `--fix`", err=True)


def _nothing_linted(runs: Sequence[_GroupRun], paths: Sequence[Path]) -> str:
    """Why a run linted no file: each path named, excluded (and by which key) or empty."""
    from isolint.discovery import excluded_by

    named = [p for p in paths if str(p) != "-"] or [Path(".")]
    reasons = []
    for path in named:
        reason = ""
        for run in runs:
            loaded = run.prepared.loaded
            rel = Path(os.path.relpath(os.path.abspath(path), loaded.root)).as_posix()
            pattern = excluded_by(rel, loaded.settings.extend_exclude, path.is_dir())
            if pattern is not None and loaded.settings.force_exclude:
                where = dict(loaded.sources).get("extend-exclude", "the configuration")
                reason = f" (excluded by extend-exclude in {where}: '{pattern}')"
                break
        reasons.append(f"No Python files found under {path}{reason}")
    return "\n".join(reasons)


def _show_settings(options: Options) -> None:
    """``--show-settings PATH``: the settings that apply to each path and where each came from."""
    from isolint.config import (
        find_config,
        load_config,
        load_discovered,
        settings_report,
        with_rule_options,
    )
    from isolint.rule import rule_options
    from isolint.session import with_command_line, with_rule_paths

    targets = tuple(p for p in options.paths if str(p) != "-") or (
        (Path(options.stdin_filename),) if options.stdin_filename else (Path("."),)
    )
    for target in targets:
        if options.config_file is not None:
            base = load_config(options.config_file, target)
        else:
            found = find_config(target)
            base = load_discovered(found) if found is not None else load_config(None, target)
        declared = rule_options(with_rule_paths(load_rules(), base))
        loaded = with_rule_options(with_command_line(base, options), declared)
        click.echo(settings_report(target, loaded, declared), nl=False)


def _with_dependents(request: CheckRequest) -> RunResult:
    """``--include-dependents``: the given files' findings and those their change causes."""
    from isolint.check import run_check
    from isolint.dependents import run_with_dependents

    return run_with_dependents(request, run_check)


def _known_rules(
    rules: tuple[type[Rule], ...], prepared: Sequence[Prepared]
) -> tuple[type[Rule], ...]:
    """``rules`` plus the ``rule-paths`` rules of each configuration in the run (reporters
    describe every rule that can report)."""
    known = {rule.code: rule for rule in rules}
    for item in prepared:
        known.update((rule.code, rule) for rule in item.rules)
    return tuple(known[code] for code in sorted(known))


def _read_text(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _statistics(result: RunResult) -> str:
    counts = Counter((d.code, d.name) for d in result.diagnostics)
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0][0]))
    return "".join(f"{count:>6}  {code}  {name}\n" for (code, name), count in rows)


def _fixable_by_path(result: RunResult) -> dict[str, list[Diagnostic]]:
    by_path: dict[str, list[Diagnostic]] = {}
    for diagnostic in result.diagnostics:
        if diagnostic.fix is not None:
            by_path.setdefault(diagnostic.path, []).append(diagnostic)
    return by_path


def _read_stdin() -> bytes:
    """The source on stdin; a closed or unreadable stdin is a one-line usage error."""
    stream = sys.stdin
    if stream is None:
        _fail("cannot read the source from stdin ('-'): stdin is closed")
    try:
        return stream.buffer.read()
    except (OSError, ValueError, AttributeError) as exc:
        _fail(f"cannot read the source from stdin ('-'): {exc}")
    return b""  # unreachable: _fail exits


def _outcomes(
    request: CheckRequest, result: RunResult, current: dict[str, bytes], skip: set[str]
) -> list[FixOutcome]:
    from isolint.fixes import fix_source

    overrides = dict(request.overrides)
    outcomes = []
    for path, diagnostics in sorted(_fixable_by_path(result).items()):
        if path in skip:
            continue
        data = current.get(path, overrides.get(path))
        if data is None:
            try:
                data = (request.root / path).read_bytes()
            except OSError:
                continue
        outcomes.append(fix_source(path, data, diagnostics))
    return outcomes


@dataclasses.dataclass(frozen=True)
class _FixRun:
    """Where the fix rounds ended: the last lint result, original and fixed bytes per file, and
    the files whose fix was refused (left as they were), as file errors."""

    result: RunResult
    original: dict[str, bytes]
    fixed: dict[str, bytes]
    problems: tuple[FileError, ...]


def _fix_rounds(request: CheckRequest, result: RunResult, write: bool) -> _FixRun:
    """Apply fixes and re-lint until nothing fixable changes (bounded).

    With ``write`` each round is written to the files (``replace_content``: crash-safe, only
    if the file did not change on disk since it was read); without it the fixed sources live
    in memory and the re-lint reads them as overrides, so ``--diff`` (and stdin) shows exactly
    what ``--fix`` would write. A file whose fix is refused (it would not re-parse or would
    import something else than intended, or cannot be written) is left alone from then on and
    reported as a file error; the other files go on.
    """
    from isolint.check import run_check

    original: dict[str, bytes] = {}
    current: dict[str, bytes] = {}
    problems: dict[str, str] = {}
    base_overrides = dict(request.overrides)
    for _ in range(_FIX_ROUNDS):
        progress = False
        written: set[str] = set()  # real paths: a symlink and its target are one file
        for outcome in _outcomes(request, result, current, set(problems)):
            real = os.path.realpath(request.root / outcome.path)
            if write and real in written:
                continue  # fixed through another name this round; the next round re-lints it
            if outcome.problem:
                problems[outcome.path] = outcome.problem
            if outcome.fixed is None:
                continue
            if write:
                try:
                    replace_content(
                        request.root / outcome.path, outcome.fixed, expected=outcome.original
                    )
                except WriteRefused as exc:
                    problems[outcome.path] = str(exc)
                    continue
            written.add(real)
            original.setdefault(outcome.path, outcome.original)
            current[outcome.path] = outcome.fixed
            progress = True
        if not progress:
            break
        if not write:
            request = dataclasses.replace(
                request, overrides=tuple({**base_overrides, **current}.items())
            )
        result = run_check(request)
    errors = tuple(FileError(path, message, kind="fix") for path, message in problems.items())
    return _FixRun(result, original, current, errors)


def _fix_loop(request: CheckRequest, result: RunResult, stdin: bool = False) -> RunResult:
    """``--fix``: write the fixes (or, for stdin, print the fixed source on stdout)."""
    before = len(result.diagnostics)
    run = _fix_rounds(request, result, write=not stdin)
    if stdin:
        relpath, data = request.overrides[0]
        sys.stdout.buffer.write(run.fixed.get(relpath, data))
        sys.stdout.buffer.flush()
    errors = tuple(sorted((*run.result.errors, *run.problems), key=FileError.sort_key))
    if stdin:
        for error in errors:
            click.echo(f"isolint: error: {_located(error)}", err=True)
    return dataclasses.replace(
        run.result,
        errors=errors,
        fixes_applied=max(0, before - len(run.result.diagnostics)),
    )


def _located(error: FileError) -> str:
    where = error.path
    if error.line is not None:
        where += f":{error.line}" + (f":{error.column}" if error.column is not None else "")
    return f"{where}: {error.message}"


def _print_diff(runs: Sequence[_GroupRun], exit_zero: bool) -> None:
    """``--diff``: the pending fixes as a unified diff; exit 1 when there are any, or when a
    file could not be analysed or its fix was refused (0 with ``--exit-zero``)."""
    from isolint.fixes import FixOutcome, unified_diff
    from isolint.paths import relocate

    cwd = os.getcwd()
    changed_count = fixed = 0
    errors: list[FileError] = []
    for group in runs:
        show = group.show(cwd, None)
        run = _fix_rounds(group.prepared.request, group.result, write=False)
        changed = [path for path in sorted(run.fixed) if run.fixed[path] != run.original[path]]
        for path in changed:
            outcome = FixOutcome(show(path), run.original[path], run.fixed[path], 0)
            click.echo(unified_diff(outcome), nl=False)
        changed_count += len(changed)
        problems = dataclasses.replace(run.result, errors=(*run.result.errors, *run.problems))
        errors.extend(relocate(problems, show).errors)
        fixed += max(0, len(group.result.diagnostics) - len(run.result.diagnostics))
    errors.sort(key=FileError.sort_key)
    for error in errors:
        click.echo(f"isolint: error: {_located(error)}", err=True)
    findings = "finding" if fixed == 1 else "findings"
    files = "file" if changed_count == 1 else "files"
    bad = len({e.path for e in errors})
    bad_files = "file" if bad == 1 else "files"
    summary = f"{fixed} {findings} fixable in {changed_count} {files} (nothing written)"
    if bad:
        summary += f"; {bad} {bad_files} could not be analysed or fixed"
    click.echo(summary, err=True)
    failed = bool(changed_count or errors)
    sys.exit(ExitCode.FINDINGS if failed and not exit_zero else ExitCode.CLEAN)


@main.command("baseline")
@selection_options
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Baseline file (default: .isolint-baseline.json at the project root).",
)
@click.option("--prune", is_flag=True, help="Only drop entries that are fixed; never add any.")
def baseline_command(**params: Any) -> None:
    """Record the current findings of PATHS as known (or prune fixed ones)."""
    from isolint.check import run_check
    from isolint.session import prepare

    options = _options(params)
    all_rules = load_rules()
    prepared: Prepared = _guarded(params["debug"], lambda: prepare(options, all_rules))
    _warn(prepared.warnings)
    result: RunResult = _guarded(params["debug"], lambda: run_check(prepared.request))
    loaded = prepared.loaded
    target = params["baseline_file"] or loaded.root / (
        loaded.settings.baseline or baseline.BASELINE_FILE
    )
    if params["prune"]:
        entries = _guarded(params["debug"], lambda: baseline.load(Path(target)))
        kept = baseline.prune(entries, result.diagnostics)
        _guarded(params["debug"], lambda: baseline.save(Path(target), kept))
        click.echo(
            f"pruned {len(entries) - len(kept)} fixed entries; {len(kept)} remain in {target}",
            err=True,
        )
        return
    entries = [baseline.entry_for(d) for d in result.diagnostics]
    _guarded(params["debug"], lambda: baseline.save(Path(target), entries))
    click.echo(f"wrote {len(entries)} findings to {target}", err=True)


@main.group("cache")
def cache_group() -> None:
    """Manage the result cache."""


@cache_group.command("clear")
@click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False))
@click.argument("path", required=False, type=click.Path(path_type=Path))
def cache_clear(cache_dir: Path | None, path: Path | None) -> None:
    """Delete the cache of the project containing PATH (default: the current directory).

    Only isolint's own entries are deleted, and only in a directory carrying isolint's marker.
    """
    from isolint.cache import clear as clear_cache
    from isolint.config import load_config
    from isolint.session import configured_cache_dir

    if path is not None and not path.exists():
        _fail(f"path '{path}' does not exist")
    try:
        loaded = load_config(None, path or Path("."))
    except IsolintError as exc:
        _fail(str(exc))
        return
    directory = cache_dir or configured_cache_dir(loaded)
    try:
        cleared = clear_cache(directory)
    except IsolintError as exc:
        _fail(str(exc))
        return
    except OSError as exc:
        _fail(f"cannot clear '{directory}': {exc.strerror or exc}")
        return
    if not cleared.existed:
        click.echo(f"no cache at {directory}", err=True)
    elif cleared.kept:
        kept = ", ".join(cleared.kept)
        click.echo(
            f"removed {cleared.removed} cache entries from {directory}; "
            f"kept what isolint did not create: {kept}",
            err=True,
        )
    else:
        click.echo(f"removed {directory} ({cleared.removed} cache entries)", err=True)


@main.command("rules")
@click.option("--markdown", is_flag=True, help="Print the table as Markdown (the README's).")
@click.option(
    "--format",
    "--output-format",
    "output_format",
    type=click.Choice(["text", "markdown", "json"]),
    default=None,
    help="text (default), markdown (the README's table) or json.",
)
def list_rules(markdown: bool, output_format: str | None) -> None:
    """List every rule: code, name, family, default severity and summary."""
    from isolint.docs import markdown_rules_table, rules_json, rules_table

    rules = _rules_here()
    chosen = output_format or ("markdown" if markdown else "text")
    if chosen == "json":
        click.echo(rules_json(rules), nl=False)
    else:
        click.echo(
            markdown_rules_table(rules) if chosen == "markdown" else rules_table(rules), nl=False
        )


@main.command("explain")
@click.argument("code")
def explain_rule(code: str) -> None:
    """Print the full documentation of rule CODE (or of the rule NAME, e.g.
    mutable-module-global)."""
    from isolint.docs import explain

    wanted = code.strip()
    for rule in _rules_here():
        if rule.code == wanted.upper() or rule.name == wanted.lower():
            click.echo(explain(rule), nl=False)
            return
    _fail(f"unknown rule code or name '{code}' (isolint rules lists them)")


@main.command("test-rule")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def test_rule(paths: tuple[Path, ...]) -> None:
    """Run the `bad`/`good` examples of the rules in PATHS (rule modules or directories of
    them), as `fixit test` does: a bad example must be reported, a good one must not."""
    from isolint.plugins import path_rules
    from isolint.testing import check_examples

    try:
        found = path_rules(paths, "test-rule")
    except IsolintError as exc:
        _fail(str(exc))
        return
    tested = {plugin.rule.code for plugin in found}  # a rule under test replaces its namesake
    every = (*(r for r in load_rules() if r.code not in tested), *(p.rule for p in found))
    failed = passed = 0
    for plugin in found:
        rule = plugin.rule
        if not rule.examples("bad"):
            failed += 1
            click.echo(f"FAIL {rule.code}: no `bad` example: nothing tests the rule")
        for outcome in check_examples(rule, every):
            if outcome.problem is None:
                passed += 1
                click.echo(f"ok   {outcome.name}")
            else:
                failed += 1
                click.echo(f"FAIL {outcome.name}: {outcome.problem}")
    rules = len(found)
    click.echo(
        f"{rules} {'rule' if rules == 1 else 'rules'}: {passed} passed, {failed} failed",
        err=True,
    )
    sys.exit(ExitCode.FINDINGS if failed else ExitCode.CLEAN)


@main.command("server")
def server_command() -> None:
    """Run the language server (LSP over stdin/stdout) for editors; needs `isolint[lsp]`."""
    try:
        from isolint.server.app import serve
    except ImportError as exc:  # pygls/lsprotocol are an optional extra
        _fail(f"`isolint server` needs the lsp extra: pip install 'isolint[lsp]' ({exc})")
        return
    sys.exit(serve(load_rules()))


__all__ = ["UsageError", "main"]
