"""Team rules: rule classes from the ``isolint.rules`` entry points and ``rule-paths`` modules."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import inspect
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from isolint.errors import RuleDefinitionError
from isolint.rule import Rule

ENTRY_POINT_GROUP = "isolint.rules"
CODE_FORMAT = re.compile(r"[A-Z]+[0-9]+")
RESERVED_PREFIX = "ISO"  # the built-in rules' codes; a team rule takes its own prefix
_MODULE_PREFIX = "isolint_rule_path_"


@dataclass(frozen=True)
class PluginRule:
    """A rule found outside the built-in set, and where it came from (for error messages)."""

    rule: type[Rule]
    origin: str


def rules_in_module(module: ModuleType) -> list[type[Rule]]:
    """The ``Rule`` subclasses with a ``code`` that ``module`` itself defines, in code order."""
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Rule)
        and value is not Rule
        and value.__module__ == module.__name__
        and getattr(value, "code", None)
    ]
    return sorted(found, key=lambda rule: rule.code)


def _module_name(path: Path, source: bytes) -> str:
    """A unique, stable module name for a rule file: its stem plus a hash of its real path and
    its content (an edited file is a new module)."""
    key = hashlib.sha256(str(path).encode("utf-8", "surrogateescape"))
    key.update(b"\0" + hashlib.sha256(source).digest())
    stem = re.sub(r"\W", "_", path.stem)
    return f"{_MODULE_PREFIX}{key.hexdigest()[:12]}_{stem}"


def import_rule_file(path: Path) -> ModuleType:
    """Import a rule module by file path, under a unique name (it never shadows a package).

    The module is registered in ``sys.modules`` (dataclasses and pickling need it); importing
    the same file again returns that module while its content is unchanged, so a long-lived
    process (the editor server) picks up an edited rule, as the cache key (``rules_digest``) does.
    """
    path = path.resolve()
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise RuleDefinitionError(
            f"{path}: cannot read rule module: {exc.strerror or type(exc).__name__}"
        ) from exc
    name = _module_name(path, source)
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RuleDefinitionError(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except RuleDefinitionError:
        del sys.modules[name]
        raise
    except Exception as exc:
        del sys.modules[name]
        raise RuleDefinitionError(
            f"{path}: cannot import rule module: {type(exc).__name__}: {exc}"
        ) from exc
    return module


def rule_files(path: Path) -> list[Path]:
    """A rule module, or every ``*.py`` module directly in a directory (``_``-prefixed ones are
    helpers and are not loaded on their own)."""
    if path.is_dir():
        return sorted(p for p in path.glob("*.py") if not p.name.startswith("_") and p.is_file())
    return [path]


def path_rules(paths: Iterable[Path], where: str) -> list[PluginRule]:
    """The rules of the modules at ``paths`` (``where`` names the setting, for messages)."""
    out: list[PluginRule] = []
    for path in paths:
        if not path.exists():
            raise RuleDefinitionError(f"{where}: '{path}' does not exist")
        found = [
            PluginRule(rule, str(file))
            for file in rule_files(path)
            for rule in rules_in_module(import_rule_file(file))
        ]
        if not found:
            raise RuleDefinitionError(f"{where}: '{path}' defines no rule (a Rule with a code)")
        out.extend(found)
    return out


def entry_point_rules() -> list[PluginRule]:
    """Rules from installed distributions' ``isolint.rules`` entry points.

    An entry point names a ``Rule`` subclass (``acme = "acme_rules.flags:GlobalFlag"``) or a
    module whose rules are all taken (``acme = "acme_rules"``).
    """
    out: list[PluginRule] = []
    for entry in sorted(
        importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name
    ):
        dist = entry.dist.name if entry.dist is not None else "?"
        origin = f"entry point '{entry.name} = {entry.value}' of {dist}"
        try:
            value = entry.load()
        except RuleDefinitionError:
            raise
        except Exception as exc:
            raise RuleDefinitionError(
                f"{origin}: cannot load: {type(exc).__name__}: {exc}"
            ) from exc
        if isinstance(value, ModuleType):
            rules = rules_in_module(value)
        elif isinstance(value, type) and issubclass(value, Rule):
            rules = [value]
        else:
            raise RuleDefinitionError(f"{origin}: is neither a Rule subclass nor a module")
        if not rules:
            raise RuleDefinitionError(f"{origin}: defines no rule (a Rule with a code)")
        out.extend(PluginRule(rule, origin) for rule in rules)
    return out


def _problems(plugin: PluginRule, taken: dict[str, str]) -> list[str]:
    rule = plugin.rule
    code = rule.code
    where = f"rule {code} ({plugin.origin})"
    problems = []
    if not isinstance(code, str) or not CODE_FORMAT.fullmatch(code):
        problems.append(f"{where}: code must be capital letters then digits (e.g. ACME101)")
    elif code.startswith(RESERVED_PREFIX):
        problems.append(
            f"{where}: codes starting with {RESERVED_PREFIX} are isolint's own; "
            "use your team's prefix (e.g. ACME101)"
        )
    if code in taken:
        problems.append(f"{where}: code already used by {taken[code]}")
    for attr in ("name", "summary", "message"):
        if not isinstance(getattr(rule, attr, None), str):
            problems.append(f"{where}: class variable `{attr}` must be a string")
    return problems


def combine(builtin: Sequence[type[Rule]], plugins: Sequence[PluginRule]) -> tuple[type[Rule], ...]:
    """The built-in rules plus the plugins, sorted by code; every problem raised at once."""
    taken = {rule.code: "a built-in rule" for rule in builtin}
    problems: list[str] = []
    chosen: list[type[Rule]] = []
    seen: set[type[Rule]] = set(builtin)
    for plugin in plugins:
        if plugin.rule in seen:  # the same class named twice (two paths to one file)
            continue
        found = _problems(plugin, taken)
        problems.extend(found)
        taken.setdefault(plugin.rule.code, plugin.origin)
        seen.add(plugin.rule)
        if not found:
            chosen.append(plugin.rule)
    if problems:
        raise RuleDefinitionError("; ".join(problems))
    return tuple(sorted((*builtin, *chosen), key=lambda rule: rule.code))


def rules_digest(rules: Iterable[type[Rule]]) -> str:
    """A hash of the source files of ``rules``' modules: the cache key changes with a rule's
    code (a team rule edited in place must not be answered from the cache)."""
    digest = hashlib.sha256()
    for module in sorted({rule.__module__ for rule in rules}):
        loaded = sys.modules.get(module)
        try:
            source = inspect.getsourcefile(loaded) if loaded is not None else None
            data = Path(source).read_bytes() if source else b""
        except (OSError, TypeError):
            data = b""
        digest.update(module.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()[:16]
