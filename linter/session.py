"""Turn command-line options into a CheckRequest: config, rule selection, discovery, cache."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from isolint.cache import CACHE_DIR_NAME, MARKER, Cache
from isolint.cache import state as cache_state
from isolint.check import CheckRequest, per_file_key, per_file_rules
from isolint.config import (
    LoadedConfig,
    check_cache_dir,
    load_config,
    load_discovered,
    with_rule_options,
)
from isolint.discovery import SourceFile, discover, select
from isolint.errors import ConfigError, UsageError
from isolint.globs import invalid_patterns
from isolint.plugins import combine, path_rules, rules_digest
from isolint.rule import Rule, payload_classes, rule_options
from isolint.runner import relative_posix
from isolint.selection import select_rules, validate_codes


@dataclass(frozen=True)
class Options:
    """What the user asked for on the command line (None: not given)."""

    paths: tuple[Path, ...] = ()
    select: str | None = None
    extend_select: str | None = None
    ignore: str | None = None
    config_file: Path | None = None
    jobs: int = 1
    use_cache: bool = True
    cache_dir: Path | None = None
    stdin_filename: str | None = None
    stdin_data: bytes | None = None
    progress: bool = False
    # The project root when no configuration file is found (default: the current directory).
    root: Path | None = None
    # Command-line settings: --exclude replaces extend-exclude, the others add to the config's.
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    force_exclude: bool = False
    # Roots of nested projects (directories with a configuration of their own): not linted
    # with this configuration, nor part of its project index (isolint.workspace).
    skip: tuple[Path, ...] = ()
    # The configuration discovery found for these paths (isolint.workspace), when known.
    discovered: Path | None = None


@dataclass(frozen=True)
class Prepared:
    """A ready request plus the configuration it came from."""

    request: CheckRequest
    loaded: LoadedConfig
    warnings: tuple[str, ...] = ()
    rules: tuple[type[Rule], ...] = ()  # every known rule, with the config's rule-paths ones


def parse_codes(value: str | None, option: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    codes = tuple(c.strip().upper() for c in value.split(",") if c.strip())
    if not codes:
        raise UsageError(f"{option}: expected a comma-separated list of rule codes")
    return codes


def _validate_config_codes(loaded: LoadedConfig, rules: Sequence[type[Rule]]) -> None:
    where = loaded.path.name if loaded.path else "configuration"
    settings = loaded.settings
    validate_codes(settings.select or (), rules, f"{where}: [tool.isolint] select")
    validate_codes(settings.extend_select, rules, f"{where}: [tool.isolint] extend-select")
    validate_codes(settings.ignore, rules, f"{where}: [tool.isolint] ignore")
    for glob, codes in settings.per_file_ignores:
        validate_codes(codes, rules, f"{where}: [tool.isolint] per-file-ignores '{glob}'")


def configured_cache_dir(loaded: LoadedConfig) -> Path:
    configured = loaded.settings.cache_dir
    if configured:
        return (loaded.root / configured).resolve()
    return loaded.root / CACHE_DIR_NAME


def _check_cache_dir(
    directory: Path,
    options: Options,
    loaded: LoadedConfig,
    targets: Sequence[Path],
    files: Sequence[SourceFile],
) -> None:
    """The cache must live apart from what is linted, in a directory isolint made (or a new one)."""
    if options.cache_dir is not None:
        option = "--cache-dir"
    elif loaded.settings.cache_dir:
        where = loaded.path.name if loaded.path else "configuration"
        option = f"{where}: [tool.isolint] cache-dir"
    else:
        option = "cache directory"
    sources = [*targets, *(d for d in (loaded.root / s for s in loaded.settings.src) if d.is_dir())]
    check_cache_dir(directory, option, loaded.root, sources, (f.relpath for f in files))
    if cache_state(directory) == "foreign":
        raise ConfigError(
            f"{option} '{directory}' is not empty and is not an isolint cache directory (no "
            f"{MARKER} marker): isolint keeps its cache only in a directory it created"
        )


def with_command_line(loaded: LoadedConfig, options: Options) -> LoadedConfig:
    """The configuration with the command line's exclude, per-file-ignores and force-exclude."""
    settings = loaded.settings
    sources = dict(loaded.sources)
    if options.exclude is not None:
        settings = replace(settings, extend_exclude=options.exclude)
        sources["extend-exclude"] = "--exclude"
    if options.extend_exclude:
        settings = replace(
            settings, extend_exclude=settings.extend_exclude + options.extend_exclude
        )
        sources["extend-exclude"] = sources.get("extend-exclude", "default") + ", --extend-exclude"
    if options.per_file_ignores:
        settings = replace(
            settings, per_file_ignores=settings.per_file_ignores + options.per_file_ignores
        )
        sources["per-file-ignores"] = (
            sources.get("per-file-ignores", "default") + ", --per-file-ignores"
        )
    if options.force_exclude:
        settings = replace(settings, force_exclude=True)
        sources["force-exclude"] = "--force-exclude"
    bad = invalid_patterns(settings.extend_exclude) + invalid_patterns(
        glob for glob, _ in options.per_file_ignores
    )
    if bad:
        raise UsageError(f"invalid pattern {bad[0]!r} on the command line")
    return replace(loaded, settings=settings, sources=tuple(sorted(sources.items())))


def with_rule_paths(rules: Sequence[type[Rule]], loaded: LoadedConfig) -> tuple[type[Rule], ...]:
    """``rules`` plus the team rules of the configuration's ``rule-paths`` (relative paths are
    relative to the configuration file)."""
    if not loaded.settings.rule_paths:
        return tuple(rules)
    base = loaded.path.parent if loaded.path is not None else loaded.root
    where = loaded.path.name if loaded.path else "configuration"
    found = path_rules(
        (base / path for path in loaded.settings.rule_paths),
        f"{where}: [tool.isolint] rule-paths",
    )
    return combine(rules, found)


def prepare(options: Options, all_rules: Sequence[type[Rule]]) -> Prepared:
    """Validate everything up front (exit 2 material), then discover the files."""
    stdin = options.stdin_filename is not None
    targets = tuple(p for p in options.paths if str(p) != "-") or (() if stdin else (Path("."),))
    for target in targets:
        if not target.exists() and not target.is_symlink():
            raise UsageError(f"path '{target}' does not exist")
    first = Path(options.stdin_filename or ".") if stdin and not targets else targets[0]
    if not first.exists():
        first = first.parent if first.parent.is_dir() else Path(".")
    loaded = with_command_line(
        load_discovered(options.discovered)
        if options.discovered is not None and options.config_file is None
        else load_config(options.config_file, first),
        options,
    )
    if loaded.path is None and options.root is not None:
        loaded = replace(loaded, root=options.root.resolve())
    all_rules = with_rule_paths(all_rules, loaded)
    # Now that every rule is known, so is every key: check the rules' options too.
    loaded = with_rule_options(loaded, rule_options(all_rules))
    _validate_config_codes(loaded, all_rules)
    settings = loaded.settings
    cli_select = parse_codes(options.select, "--select")
    cli_extend = parse_codes(options.extend_select, "--extend-select") or ()
    cli_ignore = parse_codes(options.ignore, "--ignore") or ()
    validate_codes(cli_select or (), all_rules, "--select")
    validate_codes(cli_extend, all_rules, "--extend-select")
    validate_codes(cli_ignore, all_rules, "--ignore")
    enabled = select_rules(
        all_rules,
        cli_select if cli_select is not None else settings.select,
        settings.extend_select + cli_extend,
        settings.ignore + cli_ignore,
    )
    warnings: tuple[str, ...] = ()
    if not enabled:
        warnings = (
            "no rule is enabled (check select, extend-select and ignore): nothing to report",
        )
    project: list[SourceFile] | None = None
    if loaded.path is not None:
        # The project index always sees the whole project (cached), whatever paths are linted.
        project = discover([loaded.root], loaded.root, settings.extend_exclude, skip=options.skip)
        files = (
            select(
                targets,
                loaded.root,
                project,
                settings.extend_exclude,
                settings.force_exclude,
                options.skip,
            )
            if targets
            else []
        )
    else:
        files = (
            discover(
                targets, loaded.root, settings.extend_exclude, settings.force_exclude, options.skip
            )
            if targets
            else []
        )
    overrides: tuple[tuple[str, bytes], ...] = ()
    if stdin:
        assert options.stdin_filename is not None
        relpath = relative_posix(Path(options.stdin_filename).absolute(), loaded.root)
        overrides = ((relpath, options.stdin_data or b""),)
        files = [f for f in files if f.relpath != relpath]
        files.append(SourceFile(loaded.root / relpath, relpath))
    context: tuple[SourceFile, ...] = ()
    if project is not None:
        linted = {f.relpath for f in files}
        context = tuple(f for f in project if f.relpath not in linted)
    cache = None
    analysed: tuple[type[Rule], ...] = ()
    if options.use_cache:
        directory = options.cache_dir or configured_cache_dir(loaded)
        _check_cache_dir(directory, options, loaded, targets, (*files, *context))
        # Keyed on what a file's analysis depends on, so that changing select, ignore,
        # per-file-ignores or timeout reuses every cached result (isolint.check.per_file_key).
        analysed = per_file_rules(all_rules, enabled)
        cache = Cache.open(
            directory,
            f"{per_file_key(settings, analysed)}|{rules_digest(analysed)}",
            payload_classes(analysed),
        )
    request = CheckRequest(
        loaded.root,
        settings,
        enabled,
        tuple(files),
        options.jobs,
        cache,
        context,
        overrides,
        options.progress,
        analysed,
    )
    return Prepared(request, loaded, warnings, tuple(all_rules))
