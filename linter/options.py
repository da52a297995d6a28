"""Rule options: the ``[tool.isolint]`` keys a rule declares it reads, and how they are checked."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from isolint.errors import RuleDefinitionError

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

# A key, or ``table.key`` for a key of the ``[tool.isolint.table]`` sub-table.
_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*(\.[a-z][a-z0-9]*(-[a-z0-9]+)*)?")


@dataclass(frozen=True)
class OptionType(Generic[T_co]):
    """How an option's TOML value is checked: ``convert`` returns the value the rule reads, or
    None when the TOML value is not of this type; ``expected`` completes "key 'x' must be ..."
    and ``name`` is the type as the docs show it."""

    name: str
    expected: str
    convert: Callable[[object], T_co | None]


@dataclass(frozen=True)
class Option(Generic[T_co]):
    """A ``[tool.isolint]`` key a rule reads (``name``; ``table.key`` for a key of
    ``[tool.isolint.table]``). Rules list it in their ``options`` and read it with
    ``self.context.option(OPTION)`` (``index.option(OPTION)`` in the global phase); the config
    loader checks its type, ``isolint explain`` and the README show it. Several rules may list
    the same option (declare it once, in a private module they share). ``expected`` overrides the
    type's text in the "must be ..." error."""

    name: str
    type: OptionType[T_co]
    default: T_co
    doc: str
    expected: str = ""

    @property
    def table(self) -> str | None:
        """The sub-table the key lives in (``ssot`` for ``ssot.canonical``), or None."""
        table, dot, _ = self.name.partition(".")
        return table if dot else None

    @property
    def key(self) -> str:
        """The key inside its table (``canonical`` for ``ssot.canonical``)."""
        return self.name.rpartition(".")[2]

    def expected_text(self) -> str:
        return self.expected or self.type.expected

    def text(self, value: object) -> str:
        """A value of this option (its default, or a configured one) as TOML."""
        if value == () and self.type.name.startswith("table"):
            return "{}"
        return toml_text(value)


def _strings(value: object) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


def _name_globs(value: object) -> tuple[str, ...] | None:
    """Dotted-name globs: non-empty, no whitespace or path separators (``stripe.*``)."""
    globs = _strings(value)
    if globs is None or any(
        not glob or any(ch.isspace() or ch in "/\\" for ch in glob) for glob in globs
    ):
        return None
    return globs


def _identifier_globs(value: object) -> tuple[str, ...] | None:
    """Name globs made of identifier characters and ``*?[]!`` (``*_client``, ``db``)."""
    globs = _strings(value)
    allowed = set("*?[]!_")
    if globs is None or any(
        not glob or not all(ch.isalnum() or ch in allowed for ch in glob) for glob in globs
    ):
        return None
    return globs


def _string_table(value: object) -> tuple[tuple[str, str], ...] | None:
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return tuple(sorted(value.items()))
    return None


def _boolean(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


STRINGS: OptionType[tuple[str, ...]] = OptionType("list of strings", "a list of strings", _strings)
NAME_GLOBS: OptionType[tuple[str, ...]] = OptionType(
    "list of dotted-name globs",
    "a list of module or qualified-name globs (e.g. 'stripe.*')",
    _name_globs,
)
IDENTIFIER_GLOBS: OptionType[tuple[str, ...]] = OptionType(
    "list of name globs", "a list of name globs (e.g. '*_client')", _identifier_globs
)
STRING_TABLE: OptionType[tuple[tuple[str, str], ...]] = OptionType(
    "table of strings", 'a table of key = "value" strings', _string_table
)
BOOLEAN: OptionType[bool] = OptionType("boolean", "true or false", _boolean)
STRING: OptionType[str] = OptionType("string", "a string", _string)
INTEGER: OptionType[int] = OptionType("integer", "an integer", _integer)


def option_value(options: Sequence[tuple[str, object]], option: Option[T]) -> T:
    """The configured value of ``option`` in ``options`` (name, converted value), else its
    default. The loader stored a value of the option's type under its name."""
    for name, value in options:
        if name == option.name:
            return value  # type: ignore[return-value]
    return option.default


def toml_text(value: object) -> str:
    """A converted option value (or default) as TOML, for docs and ``--show-settings``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_text(v)}" for k, v in value) + " }"
    if isinstance(value, tuple):
        return "[" + ", ".join(toml_text(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    if value is None:
        return "(none)"
    return str(value)


def declared_options(
    declarations: Iterable[tuple[str, Sequence[object]]], reserved: Collection[str]
) -> tuple[Option[Any], ...]:
    """The options declared by rules (``(rule code, its options)``), one per name, sorted.

    Several rules may declare one option; two declarations of a name must agree on type and
    default. A name the engine uses (``reserved``) or that is not a kebab-case key is an error.
    """
    chosen: dict[str, tuple[Option[Any], str]] = {}
    problems: list[str] = []
    for code, options in declarations:
        for option in options:
            if not isinstance(option, Option):
                problems.append(f"rule {code}: `options` holds {option!r}, not an Option")
                continue
            if not _NAME.fullmatch(option.name):
                problems.append(
                    f"rule {code}: option name '{option.name}' must be a kebab-case key "
                    "(or 'table.key')"
                )
            elif option.name in reserved or option.table in reserved:
                problems.append(
                    f"rule {code}: option '{option.name}' is an engine setting; choose another name"
                )
            elif option.name in chosen:
                first, by = chosen[option.name]
                if (first.type, first.default) != (option.type, option.default):
                    problems.append(
                        f"rule {code}: option '{option.name}' is declared by {by} with another "
                        "type or default"
                    )
            elif option.name in {o.table for o, _ in chosen.values()} or option.table in chosen:
                problems.append(f"rule {code}: option '{option.name}' is both a key and a table")
            else:
                chosen[option.name] = (option, code)
    if problems:
        raise RuleDefinitionError("; ".join(problems))
    return tuple(chosen[name][0] for name in sorted(chosen))
