"""Which configuration lints which path: one group per nearest configuration, nested projects too."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from isolint.config import LoadedConfig, Settings, config_in, find_config, load_discovered
from isolint.discovery import config_dirs, excluded_by, relaxed


@dataclass(frozen=True)
class Group:
    """Paths linted with one configuration (``config`` None: none found, defaults at the cwd).

    ``skip`` are the roots of nested projects under this one: they have a configuration of
    their own, so they are neither linted with this one nor part of its project index.
    """

    config: Path | None
    targets: tuple[Path, ...]
    skip: tuple[Path, ...] = ()


def _has_config(directory: Path) -> bool:
    return config_in(directory) is not None


def plan(
    paths: Sequence[Path], configure: Callable[[LoadedConfig], LoadedConfig]
) -> tuple[Group, ...]:
    """Group ``paths`` by their nearest configuration (as ruff does): a file is linted with the
    configuration nearest to it, and a directory named here may hold nested projects, each
    linted with its own. ``configure`` applies the command line's settings to a configuration.
    """
    loaded: dict[Path | None, LoadedConfig] = {}
    targets: dict[Path | None, list[Path]] = {}
    nested_roots: list[Path] = []
    scanned: dict[str, list[Path]] = {}

    def settings_of(config: Path | None) -> LoadedConfig:
        if config not in loaded:
            base = (
                load_discovered(config)
                if config is not None
                else LoadedConfig(Settings(), Path.cwd().resolve(), None)
            )
            loaded[config] = configure(base)
        return loaded[config]

    def nested_under(directory: Path, config: Path | None) -> list[Path]:
        key = os.path.abspath(directory)
        if key not in scanned:
            current = settings_of(config)
            settings = current.settings
            rel = Path(os.path.relpath(key, current.root)).as_posix()
            patterns = settings.extend_exclude
            if not settings.force_exclude and excluded_by(rel, patterns, is_dir=True):
                patterns = relaxed(rel, patterns)
            scanned[key] = config_dirs(Path(key), current.root, patterns, _has_config)
        return scanned[key]

    queue = list(paths)
    while queue:
        path = queue.pop(0)
        config = find_config(path)
        targets.setdefault(config, []).append(path)
        if path.is_dir() and not path.is_symlink():
            for nested in nested_under(path, config):
                nested_roots.append(nested)
                queue.append(nested)
    owner = {os.path.abspath(p): config_in(p) for p in nested_roots}
    groups = []
    for config, group_targets in targets.items():
        root = settings_of(config).root
        skip = {path for path, nested_config in owner.items() if nested_config != config}
        if config is not None:
            skip.update(os.path.abspath(p) for p in nested_under(root, config))
        groups.append(Group(config, tuple(group_targets), tuple(Path(p) for p in sorted(skip))))
    return tuple(groups)
