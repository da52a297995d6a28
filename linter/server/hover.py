"""Hover text for a flagged range: the finding, then the rule's docs (as ``isolint explain``)."""

from __future__ import annotations

from collections.abc import Sequence

from isolint.diagnostics import Diagnostic
from isolint.rule import Rule
from isolint.urls import documented, rule_anchor


def rule_docs(rule: type[Rule]) -> str:
    """Summary, what it does, why it is bad and the fix, without the (long) examples."""
    parts = [f"**{rule.code}** `{rule.name}`: {rule.summary}.", "", rule.documentation()]
    if rule.fix_title:
        parts += ["", f"**Fix:** {rule.fix_title} (code action, or `isolint check --fix`)."]
    return "\n".join(parts).strip()


def hover_markdown(
    found: Sequence[Diagnostic], rules: Sequence[type[Rule]], docs_url: str
) -> str | None:
    by_code = {rule.code: rule for rule in rules}
    sections: list[str] = []
    for diagnostic in found:
        lines = [f"### isolint {diagnostic.code}", "", diagnostic.message]
        if diagnostic.fix is not None:
            lines += ["", f"**Quick fix:** {diagnostic.fix.title}"]
        rule = by_code.get(diagnostic.code)
        if rule is not None:
            lines += ["", rule_docs(rule)]
        if documented(diagnostic.code):
            href = f"{docs_url}#{rule_anchor(diagnostic.code)}"
            lines += ["", f"[Rule reference]({href}) · `isolint explain {diagnostic.code}`"]
        else:
            lines += ["", f"`isolint explain {diagnostic.code}`"]
        sections.append("\n".join(lines))
    return "\n\n---\n\n".join(sections) or None
