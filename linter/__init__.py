"""isolint: a static-analysis linter for user-isolation violations in multi-user Python backends."""

from __future__ import annotations

__version__ = "0.2.0"
