"""Stable links to each rule's documentation (SARIF ``helpUri``, JSON ``url``, the README)."""

from __future__ import annotations

import re

# The README is the documentation until the project has a home page; each rule's row in its
# rule table carries the anchor ``rule_anchor(code)``.
DOCS_URL = "https://pypi.org/project/isolint/"


def rule_anchor(code: str) -> str:
    return code.lower()


def documented(code: str) -> bool:
    """Is the rule one of isolint's own (documented in its README)? A team rule is not."""
    return re.fullmatch(r"ISO[0-9]{3}", code) is not None


def rule_url(code: str) -> str | None:
    """The rule's row in isolint's README; None for a team rule (its docs are not there)."""
    return f"{DOCS_URL}#{rule_anchor(code)}" if documented(code) else None
