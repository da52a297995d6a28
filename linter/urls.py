"""Stable links to each rule's documentation (SARIF ``helpUri``, JSON ``url``, the README)."""

from __future__ import annotations

# The README is the documentation until the project has a home page; each rule's row in its
# rule table carries the anchor ``rule_anchor(code)``.
DOCS_URL = "https://pypi.org/project/isolint/"


def rule_anchor(code: str) -> str:
    return code.lower()


def rule_url(code: str) -> str:
    return f"{DOCS_URL}#{rule_anchor(code)}"
