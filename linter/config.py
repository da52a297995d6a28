"""Find, read and validate ``[tool.isolint]`` in pyproject.toml into a frozen ``Settings``."""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from isolint.errors import ConfigError
from isolint.globs import invalid_patterns
from isolint.options import Option, option_value

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

DEFAULT_INTEGRATION_TESTS = (
    "**/integration/**",
    "**/integration_tests/**",
    "**/e2e/**",
    "**/e2e_tests/**",
    "**/functional/**",
    "**/it/**",
    "**/*_integration.py",
    "**/*_e2e.py",
    "**/test_*integration*.py",
    "**/test_*e2e*.py",
)
DEFAULT_SRC = ("src", ".")
T = TypeVar("T")
_DEFAULT_CACHE_NAME = ".isolint_cache"


@dataclass(frozen=True)
class Settings:
    """Validated configuration. Each field but ``options`` maps to an engine-wide
    ``[tool.isolint]`` key (``_`` for ``-``); ``options`` holds the configured values of the
    rules' declared options (``isolint.options``), as (key, converted value), sorted."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    src: tuple[str, ...] = DEFAULT_SRC
    integration_tests: tuple[str, ...] = DEFAULT_INTEGRATION_TESTS
    baseline: str | None = None
    cache_dir: str | None = None
    timeout: float = 60.0
    memory_limit: float = 4.0  # GiB a worker may allocate for one file (RLIMIT_AS)
    entry_points: tuple[str, ...] = ()  # qualified-name globs, or "@decorator" names
    startup_roots: tuple[str, ...] = ()
    report_unreached: bool = False
    force_exclude: bool = False  # excludes apply to paths named on the command line too
    # Team rule modules or directories (absolute once loaded: relative to the naming file).
    rule_paths: tuple[str, ...] = ()
    options: tuple[tuple[str, object], ...] = ()

    def option(self, option: Option[T]) -> T:
        """The configured value of a rule option, else its default."""
        return option_value(self.options, option)


@dataclass(frozen=True)
class LoadedConfig:
    """Settings plus where they came from; ``root`` is the project root for relative paths."""

    settings: Settings
    root: Path
    path: Path | None
    # (key, file display name) for each key set by a file: ``--show-settings`` says where.
    sources: tuple[tuple[str, str], ...] = ()


def _str_list(value: object) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


def _codes(value: object) -> tuple[str, ...] | None:
    """Rule codes or prefixes, case-insensitive as on the command line (``iso2`` is ``ISO2``)."""
    codes = _str_list(value)
    return None if codes is None else tuple(code.strip().upper() for code in codes)


def _per_file_ignores(value: object) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    if not isinstance(value, dict):
        return None
    out: list[tuple[str, tuple[str, ...]]] = []
    for key, codes in value.items():
        converted = _codes(codes)
        if not isinstance(key, str) or converted is None:
            return None
        out.append((key, converted))
    return tuple(out)


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _boolean(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _roots(value: object) -> tuple[str, ...] | None:
    """Qualified-name globs (``app.api.*``) or decorator names (``@my_route``): no whitespace."""
    names = _str_list(value)
    if names is None or any(not name or any(ch.isspace() for ch in name) for name in names):
        return None
    return names


def _positive_number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


Converter = Callable[[object], object]

# key -> (Settings field, converter returning None when invalid, expected type in words)
_KEYS: Mapping[str, tuple[str, Converter, str]] = {
    "select": ("select", _codes, "a list of rule codes"),
    "extend-select": ("extend_select", _codes, "a list of rule codes"),
    "ignore": ("ignore", _codes, "a list of rule codes"),
    "extend-exclude": ("extend_exclude", _str_list, "a list of gitignore-style patterns"),
    "per-file-ignores": ("per_file_ignores", _per_file_ignores, "a table of glob = [codes]"),
    "src": ("src", _str_list, "a list of directories"),
    "integration-tests": ("integration_tests", _str_list, "a list of globs"),
    "baseline": ("baseline", _string, "a path string"),
    "cache-dir": ("cache_dir", _string, "a path string"),
    "timeout": ("timeout", _positive_number, "a positive number of seconds"),
    "memory-limit": ("memory_limit", _positive_number, "a positive number of GiB"),
    "entry-points": (
        "entry_points",
        _roots,
        "a list of qualified-name globs or '@decorator' names (e.g. 'app.api.*', '@route')",
    ),
    "startup-roots": (
        "startup_roots",
        _roots,
        "a list of qualified-name globs or '@decorator' names",
    ),
    "report-unreached": ("report_unreached", _boolean, "true or false"),
    "force-exclude": ("force_exclude", _boolean, "true or false"),
    "rule-paths": ("rule_paths", _str_list, "a list of paths to rule modules or directories"),
}


def _unknown_key(display: str, table: str, key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"{display}: [{table}] unknown key '{key}'{hint}"


def _engine_values(display: str, raw: Mapping[str, object]) -> tuple[dict[str, object], list[str]]:
    """The engine-wide keys of ``raw`` converted to ``Settings`` fields, and their problems."""
    values: dict[str, object] = {}
    problems: list[str] = []
    for key, value in raw.items():
        if key not in _KEYS:
            continue
        attr, convert, expected = _KEYS[key]
        converted = convert(value)
        if converted is None:
            problems.append(
                f"{display}: [tool.isolint] key '{key}' must be {expected}, got {value!r}"
            )
        else:
            values[attr] = converted
    return values, problems


def _option_problem(display: str, table: str, option: Option[Any], value: object) -> str:
    return (
        f"{display}: [{table}] key '{option.key}' must be {option.expected_text()}, got {value!r}"
    )


def _option_values(
    display: str, raw: Mapping[str, object], declared: Sequence[Option[Any]]
) -> tuple[tuple[tuple[str, object], ...], list[str]]:
    """The rule options set in ``raw`` (not an engine key), checked against the declarations:
    (name, converted value) sorted by name, and the problems (unknown keys with a suggestion,
    wrong types). A declared ``table.key`` option is a key of ``[tool.isolint.table]``."""
    options = {o.name: o for o in declared}
    tables = {o.table for o in declared if o.table is not None}
    values: dict[str, object] = {}
    problems: list[str] = []
    for key, value in raw.items():
        if key in _KEYS or key == "extend":
            continue
        if key in tables:
            if not isinstance(value, dict):
                problems.append(f"{display}: [tool.isolint] key '{key}' must be a table")
                continue
            inside = [o.key for o in declared if o.table == key]
            for sub, sub_value in value.items():
                option = options.get(f"{key}.{sub}")
                if option is None:
                    problems.append(_unknown_key(display, f"tool.isolint.{key}", sub, inside))
                    continue
                converted = option.type.convert(sub_value)
                if converted is None:
                    problems.append(
                        _option_problem(display, f"tool.isolint.{key}", option, sub_value)
                    )
                else:
                    values[option.name] = converted
            continue
        option = options.get(key)
        if option is None:
            known = [*_KEYS, *(o.name for o in declared if o.table is None), *tables]
            problems.append(_unknown_key(display, "tool.isolint", key, known))
            continue
        converted = option.type.convert(value)
        if converted is None:
            problems.append(_option_problem(display, "tool.isolint", option, value))
        else:
            values[key] = converted
    return tuple(sorted(values.items())), problems


def _pattern_problems(display: str, values: Mapping[str, object]) -> list[str]:
    """Gitignore-style patterns git would reject (``!`` alone, a trailing backslash)."""
    patterns: list[tuple[str, str]] = []
    for key in ("extend-exclude", "integration-tests"):
        converted = values.get(_KEYS[key][0])
        if isinstance(converted, tuple):
            patterns.extend((key, str(pattern)) for pattern in converted)
    per_file = values.get("per_file_ignores")
    if isinstance(per_file, tuple):
        patterns.extend(("per-file-ignores", str(glob)) for glob, _ in per_file)
    return [
        f"{display}: [tool.isolint] key '{key}': invalid pattern {pattern!r}"
        for key, pattern in patterns
        if invalid_patterns([pattern])
    ]


def settings_from_table(
    raw: Mapping[str, object],
    display: str = "pyproject.toml",
    declared: Sequence[Option[Any]] | None = None,
) -> Settings:
    """Validate a ``[tool.isolint]`` table; raise ConfigError listing every problem found.

    ``declared`` are the options of the loaded rules: every other key must be one of them (or
    an engine key). With None, only the engine keys are read and checked: the rules, and so
    which other keys exist, are not known yet (``rule-paths`` names some of them), and
    ``with_rule_options`` completes the settings once they are.
    """
    values, problems = _engine_values(display, raw)
    options: tuple[tuple[str, object], ...] = ()
    if declared is not None:
        options, option_problems = _option_values(display, raw, declared)
        problems.extend(option_problems)
    problems.extend(_pattern_problems(display, values))
    if problems:
        raise ConfigError("; ".join(problems))
    known = {f.name for f in fields(Settings)}
    settings = Settings(**{k: v for k, v in values.items() if k in known})  # type: ignore[arg-type]
    return replace(settings, options=options)


def engine_keys() -> frozenset[str]:
    """The engine-wide ``[tool.isolint]`` keys (no rule option may take one of these names)."""
    return frozenset((*_KEYS, "extend"))


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - different drive on Windows
        return str(path)


def read_config_file(path: Path) -> dict[str, object] | None:
    """Return the ``[tool.isolint]`` table of a TOML file, or None when it has none."""
    display = _display(path)
    if path.is_dir():
        raise ConfigError(f"{display}: is a directory, not a configuration file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # a BOM is fine
    except OSError as exc:
        raise ConfigError(f"{display}: cannot read configuration: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{display}: configuration is not valid UTF-8: {exc.reason}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{display}: invalid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("isolint") if isinstance(tool, dict) else None
    else:  # a dedicated isolint.toml / .isolint.toml holds the table at its top level
        tool = data.get("tool")
        nested = tool.get("isolint") if isinstance(tool, dict) else None
        table = nested if nested is not None else data
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{display}: [tool.isolint] must be a table")
    return table


CONFIG_NAMES = (".isolint.toml", "isolint.toml", "pyproject.toml")  # first wins in a directory
_MAX_EXTEND_DEPTH = 16


def config_in(directory: Path) -> Path | None:
    """The configuration file of ``directory``: a dedicated ``.isolint.toml``/``isolint.toml``,
    else a pyproject.toml that has a ``[tool.isolint]`` table."""
    for name in CONFIG_NAMES:
        candidate = directory / name
        if candidate.is_file() and (
            name != "pyproject.toml" or read_config_file(candidate) is not None
        ):
            return candidate
    return None


def find_config(start: Path) -> Path | None:
    """Walk up from ``start`` to the nearest configuration file (``config_in``).

    The path is taken as given: a symlink named on the command line gets the configuration of
    the directory it is in, not of its target's.
    """
    current = Path(os.path.abspath(start))
    if not current.is_dir():
        current = current.parent
    for directory in (current, *current.parents):
        found = config_in(directory)
        if found is not None:
            return found
    return None


def read_extended(
    path: Path, declared: Sequence[Option[Any]] | None = None
) -> tuple[dict[str, object], dict[str, str]]:
    """The ``[tool.isolint]`` table of ``path`` with its ``extend`` chain applied (the file's
    own keys win over the extended file's; a sub-table's keys merge), and which file each key
    came from. Each file is checked on its own (``declared`` as in ``settings_from_table``)."""
    chain: list[Path] = []
    current = path
    while True:
        resolved = current.resolve()
        if resolved in chain:
            raise ConfigError(f"{_display(current)}: [tool.isolint] extend: cycle through itself")
        if len(chain) >= _MAX_EXTEND_DEPTH:
            raise ConfigError(f"{_display(current)}: [tool.isolint] extend: chain too long")
        chain.append(resolved)
        table = read_config_file(current) or {}
        target = table.get("extend")
        if target is None:
            break
        if not isinstance(target, str) or not target:
            raise ConfigError(
                f"{_display(current)}: [tool.isolint] key 'extend' must be a path string, "
                f"got {target!r}"
            )
        following = (current.parent / target).expanduser()
        if not following.is_file():
            raise ConfigError(
                f"{_display(current)}: [tool.isolint] extend: '{target}' does not exist"
            )
        current = following
    merged: dict[str, object] = {}
    sources: dict[str, str] = {}
    for file in reversed(chain):
        table = {k: v for k, v in (read_config_file(file) or {}).items() if k != "extend"}
        # each file's problems name that file
        settings_from_table(table, _display(file), declared)
        for key, value in table.items():
            base = merged.get(key)
            if key not in _KEYS and isinstance(value, dict) and isinstance(base, dict):
                value = {**base, **value}  # a rule options' sub-table ([tool.isolint.ssot])
            if key == "rule-paths" and isinstance(value, list):  # relative to the naming file
                value = [os.path.join(file.parent, p) if isinstance(p, str) else p for p in value]
            merged[key] = value
            sources[key] = _display(file)
    return merged, sources


def _load(path: Path, root: Path) -> LoadedConfig:
    table, sources = read_extended(path)
    settings = settings_from_table(table, _display(path))
    return LoadedConfig(settings, root, path, tuple(sorted(sources.items())))


def with_rule_options(loaded: LoadedConfig, declared: Sequence[Option[Any]]) -> LoadedConfig:
    """``loaded`` with the values of the rules' declared options, once the rules are known:
    every key of the configuration (and of the files it extends) must be an engine key or a
    declared option, of the declared type (ConfigError naming the file and the key)."""
    if loaded.path is None:
        return loaded
    table, _ = read_extended(loaded.path, declared)
    options = settings_from_table(table, _display(loaded.path), declared).options
    return replace(loaded, settings=replace(loaded.settings, options=options))


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k!r} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value):
        return _toml_value({k: v for k, v in value})
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if value is None:
        return "(none)"
    return repr(value) if isinstance(value, str) else str(value)


def settings_report(
    target: Path, loaded: LoadedConfig, declared: Sequence[Option[Any]] = ()
) -> str:
    """``--show-settings``: each key's resolved value for ``target`` and where it came from,
    the engine's keys first, then the ``declared`` options of the rules."""
    sources = dict(loaded.sources)
    lines = [
        f"Settings for {target}",
        f"  configuration: {_display(loaded.path) if loaded.path else '(none: defaults)'}",
        f"  project root:  {_display(loaded.root)}",
    ]
    for key, (attr, _, _) in _KEYS.items():
        value = getattr(loaded.settings, attr)
        lines.append(f"  {key} = {_toml_value(value)}    # {sources.get(key, 'default')}")
    configured = {name for name, _ in loaded.settings.options}
    for option in declared:
        value = option.text(loaded.settings.option(option))
        source = sources.get(option.table or option.name) if option.name in configured else None
        lines.append(f"  {option.name} = {value}    # {source or 'default'}")
    return "\n".join(lines) + "\n"


def load_discovered(path: Path) -> LoadedConfig:
    """A configuration file found by discovery: its directory is the project root."""
    return _load(path, path.parent)


def load_config(explicit: Path | None, first_path: Path) -> LoadedConfig:
    """Load ``--config FILE`` if given, else the nearest configuration of ``first_path``."""
    if explicit is not None:
        if not explicit.exists():
            raise ConfigError(f"{_display(explicit)}: configuration file does not exist")
        if explicit.is_dir():
            raise ConfigError(f"{_display(explicit)}: is a directory, not a configuration file")
        return _load(explicit.resolve(), explicit.resolve().parent)
    found = find_config(first_path)
    if found is None:
        return LoadedConfig(Settings(), Path.cwd().resolve(), None)
    return _load(found, found.parent)


def check_cache_dir(
    directory: Path, option: str, root: Path, sources: Iterable[Path], relpaths: Iterable[str]
) -> None:
    """Raise ConfigError when the cache directory is, or contains, the project root or a linted
    source (directories ``sources``, files ``relpaths`` of the root): the cache's ``.gitignore``
    would hide them from git and from the next run, and ``cache clear`` would be aimed at them."""
    cache = directory.resolve()
    resolved_root = root.resolve()
    for source in (resolved_root, *(s.resolve() for s in sources)):
        if source == cache or cache in source.parents:
            what = "the project root" if source == resolved_root else f"'{_display(source)}'"
            raise ConfigError(
                f"{option} '{_display(directory)}' is or contains {what}, which is linted: "
                f"give the cache a directory of its own (default {_DEFAULT_CACHE_NAME})"
            )
    try:
        inside = cache.relative_to(resolved_root).as_posix() + "/"
    except ValueError:
        return
    for relpath in relpaths:
        if relpath.startswith(inside):
            raise ConfigError(
                f"{option} '{_display(directory)}' contains the linted file '{relpath}': "
                f"give the cache a directory of its own (default {_DEFAULT_CACHE_NAME})"
            )
