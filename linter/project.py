"""The cross-module project index, merged from per-file facts (read-only for rules)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class ModuleFacts:
    """What one file contributes to the index; plain data, computed per file."""

    module: str
    path: str
    is_package: bool


class ProjectIndex:
    """Read-only view over every module's facts."""

    def __init__(self, facts: Iterable[ModuleFacts]) -> None:
        by_module: dict[str, ModuleFacts] = {}
        for item in sorted(facts, key=lambda f: f.path):
            by_module.setdefault(item.module, item)
        self._modules: Mapping[str, ModuleFacts] = MappingProxyType(by_module)

    @property
    def modules(self) -> Mapping[str, ModuleFacts]:
        return self._modules

    def module(self, name: str) -> ModuleFacts | None:
        return self._modules.get(name)
