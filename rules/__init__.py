"""The rule registry: every ``Rule`` subclass defined in a module of this package."""

from __future__ import annotations

import importlib
import pkgutil

from isolint.api import Rule


def load_rules() -> tuple[type[Rule], ...]:
    """Import every rule module in this package and return its rules, sorted by code."""
    found: dict[str, type[Rule]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.name.startswith("iso"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Rule)
                and value is not Rule
                and value.__module__ == module.__name__
                and getattr(value, "code", None)
            ):
                if value.code in found and found[value.code] is not value:
                    raise RuntimeError(f"duplicate rule code {value.code}")
                found[value.code] = value
    return tuple(found[code] for code in sorted(found))
