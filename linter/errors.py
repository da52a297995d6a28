"""The engine's error hierarchy: problems that stop a run with exit code 2."""

from __future__ import annotations


class IsolintError(Exception):
    """A problem the user must fix before isolint can run (exit code 2)."""


class ConfigError(IsolintError):
    """Invalid configuration: the message names the file and the key."""


class UsageError(IsolintError):
    """Invalid command-line input: the message names the option or argument."""


class RuleDefinitionError(IsolintError):
    """A rule class that cannot work as written (a handler for no LibCST node type)."""
