"""The command line: parse options -> request -> runner -> reporter -> exit code."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from linter import __version__
from linter.cache import CACHE_DIR_NAME, Cache
from linter.cache import clear as clear_cache
from linter.check import CheckRequest, default_jobs, run_check
from linter.config import LoadedConfig, load_config
from linter.diagnostics import ExitCode, RunResult
from linter.discovery import SourceFile, discover
from linter.docs import explain, markdown_rules_table, rules_table
from linter.errors import IsolintError, UsageError
from linter.reporters import ReportContext, reporters
from linter.rule import Rule
from linter.selection import select_rules, validate_codes
from rules import load_rules


def _codes(value: str | None, option: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    codes = tuple(c.strip().upper() for c in value.split(",") if c.strip())
    if not codes:
        raise UsageError(f"{option}: expected a comma-separated list of rule codes")
    return codes


def _validate_config_codes(loaded: LoadedConfig, rules: Sequence[type[Rule]]) -> None:
    where = str(loaded.path.name if loaded.path else "configuration")
    settings = loaded.settings
    validate_codes(settings.select or (), rules, f"{where}: [tool.isolint] select")
    validate_codes(settings.extend_select, rules, f"{where}: [tool.isolint] extend-select")
    validate_codes(settings.ignore, rules, f"{where}: [tool.isolint] ignore")
    for glob, codes in settings.per_file_ignores:
        validate_codes(codes, rules, f"{where}: [tool.isolint] per-file-ignores '{glob}'")


def _summary(result: RunResult) -> str:
    findings = len(result.diagnostics)
    noun = "finding" if findings == 1 else "findings"
    files = result.files_with_findings
    file_noun = "file" if files == 1 else "files"
    bad = len({e.path for e in result.errors})
    text = f"{findings} {noun} in {files} {file_noun} ({bad} files could not be analysed)"
    if result.suppressed:
        text += f"; {result.suppressed} suppressed"
    return text


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="isolint", message="%(prog)s %(version)s")
def main() -> None:
    """isolint: find user-isolation violations (session bleeding) in multi-user Python backends."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(sorted(reporters())),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--select", help="Comma-separated rule codes or prefixes to enable (e.g. ISO1,ISO201)."
)
@click.option("--extend-select", help="Codes or prefixes to enable on top of the selection.")
@click.option("--ignore", help="Comma-separated rule codes or prefixes to disable.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=True),
    help="Use this pyproject.toml (or isolint.toml) instead of discovering one.",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("-q", "--quiet", is_flag=True, help="Print the report only: no summary on stderr.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: available CPUs; 1 runs in-process).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache.")
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Cache directory (default: .isolint_cache at the project root).",
)
@click.option("--debug", is_flag=True, help="Re-raise internal errors with a traceback.")
def check(
    paths: tuple[Path, ...],
    output_format: str,
    select: str | None,
    extend_select: str | None,
    ignore: str | None,
    config_file: Path | None,
    exit_zero: bool,
    quiet: bool,
    jobs: int | None,
    no_cache: bool,
    cache_dir: Path | None,
    debug: bool,
) -> None:
    """Lint PATHS (default: the current directory) for isolation violations."""
    try:
        options = RunOptions(jobs or default_jobs(), not no_cache, cache_dir)
        result = _check(paths, select, extend_select, ignore, config_file, options)
    except IsolintError as exc:
        click.echo(f"isolint: error: {exc}", err=True)
        sys.exit(ExitCode.USAGE)
    except Exception as exc:
        if debug:
            raise
        click.echo(f"isolint: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(ExitCode.USAGE)
    for warning in result.warnings:
        click.echo(f"isolint: warning: {warning}", err=True)
    rules = load_rules()
    report = reporters()[output_format](result, ReportContext(rules=rules))
    click.echo(report, nl=False)
    if not quiet:
        click.echo(_summary(result), err=True)
    failed = bool(result.diagnostics or result.errors)
    sys.exit(ExitCode.FINDINGS if failed and not exit_zero else ExitCode.CLEAN)


def _check(
    paths: tuple[Path, ...],
    select: str | None,
    extend_select: str | None,
    ignore: str | None,
    config_file: Path | None,
    options: RunOptions,
) -> RunResult:
    all_rules = load_rules()
    targets = paths or (Path("."),)
    for target in targets:
        if not target.exists() and not target.is_symlink():
            raise UsageError(f"path '{target}' does not exist")
    loaded = load_config(config_file, targets[0])
    _validate_config_codes(loaded, all_rules)
    settings = loaded.settings
    cli_select = _codes(select, "--select")
    cli_extend = _codes(extend_select, "--extend-select") or ()
    cli_ignore = _codes(ignore, "--ignore") or ()
    validate_codes(cli_select or (), all_rules, "--select")
    validate_codes(cli_extend, all_rules, "--extend-select")
    validate_codes(cli_ignore, all_rules, "--ignore")
    enabled = select_rules(
        all_rules,
        cli_select if cli_select is not None else settings.select,
        settings.extend_select + cli_extend,
        settings.ignore + cli_ignore,
    )
    files = discover(targets, loaded.root, settings.extend_exclude)
    context: tuple[SourceFile, ...] = ()
    if loaded.path is not None:
        # The project index always sees the whole project (cached), whatever paths are linted.
        linted = {f.relpath for f in files}
        everything = discover([loaded.root], loaded.root, settings.extend_exclude)
        context = tuple(f for f in everything if f.relpath not in linted)
    cache = None
    if options.use_cache:
        directory = options.cache_dir or _configured_cache_dir(loaded)
        cache = Cache.open(directory, f"{settings!r}|{','.join(r.code for r in enabled)}")
    request = CheckRequest(
        loaded.root, settings, enabled, tuple(files), options.jobs, cache, context
    )
    return run_check(request)


@dataclass(frozen=True)
class RunOptions:
    """How to run, as opposed to what to find."""

    jobs: int
    use_cache: bool
    cache_dir: Path | None


def _configured_cache_dir(loaded: LoadedConfig) -> Path:
    configured = loaded.settings.cache_dir
    if configured:
        return (loaded.root / configured).resolve()
    return loaded.root / CACHE_DIR_NAME


@main.group("cache")
def cache_group() -> None:
    """Manage the result cache."""


@cache_group.command("clear")
@click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False))
@click.argument("path", required=False, type=click.Path(path_type=Path))
def cache_clear(cache_dir: Path | None, path: Path | None) -> None:
    """Delete the cache of the project containing PATH (default: the current directory)."""
    try:
        loaded = load_config(None, path or Path("."))
    except IsolintError as exc:
        click.echo(f"isolint: error: {exc}", err=True)
        sys.exit(ExitCode.USAGE)
    directory = cache_dir or _configured_cache_dir(loaded)
    removed = clear_cache(directory)
    click.echo(f"{'removed' if removed else 'no cache at'} {directory}", err=True)


@main.command("rules")
@click.option("--markdown", is_flag=True, help="Print the table as Markdown (the README's).")
def list_rules(markdown: bool) -> None:
    """List every rule: code, name, family, default severity and summary."""
    rules = load_rules()
    click.echo(markdown_rules_table(rules) if markdown else rules_table(rules), nl=False)


@main.command("explain")
@click.argument("code")
def explain_rule(code: str) -> None:
    """Print the full documentation of rule CODE."""
    wanted = code.strip().upper()
    for rule in load_rules():
        if rule.code == wanted:
            click.echo(explain(rule), nl=False)
            return
    click.echo(f"isolint: error: unknown rule code '{code}'", err=True)
    sys.exit(ExitCode.USAGE)
