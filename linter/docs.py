"""Rule documentation rendered from rule classes: ``isolint explain``, ``isolint rules``, README."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence

from isolint.rule import Example, Rule
from isolint.urls import rule_anchor, rule_url


def _example_block(example: Example) -> str:
    lines = [f"# {example.path}"]
    for path, code in example.files:
        lines.append(f"# (with {path}: {code.strip().splitlines()[0] if code.strip() else ''} ...)")
    header = "\n".join(lines)
    return f"```python\n{header}\n{textwrap.dedent(example.code).strip()}\n```"


def explain(rule: type[Rule]) -> str:
    """The full documentation of one rule, in Markdown."""
    parts = [
        f"# {rule.code} {rule.name}",
        "",
        f"{rule.summary}.",
        "",
        f"Family: {rule.family_name()}. Default severity: {rule.severity.value}. "
        + (
            "Enabled by default."
            if rule.default_enabled
            else "Off by default: enable it with `select`."
        ),
        "",
        rule.documentation(),
    ]
    bad = rule.examples("bad")
    fixed = rule.examples("fixed")
    negatives = rule.examples("negatives")
    if bad:
        parts += ["", "## Example", ""] + ["\n\n".join(_example_block(e) for e in bad)]
    if fixed:
        parts += ["", "## Use instead", ""] + ["\n\n".join(_example_block(e) for e in fixed)]
    if negatives:
        parts += ["", "## Not reported", "", "Code that looks similar but is not a finding:", ""]
        parts += ["\n\n".join(_example_block(e) for e in negatives)]
    if rule.fix_title:
        parts += ["", f"Fix: {rule.fix_title} (`isolint check --fix`)."]
    return "\n".join(parts).rstrip() + "\n"


def rules_table(rules: Sequence[type[Rule]]) -> str:
    """A plain-text table of every rule for ``isolint rules``."""
    header = ("CODE", "NAME", "FAMILY", "SEVERITY", "DEFAULT", "SUMMARY")
    rows = [
        (
            r.code,
            r.name,
            r.family_name(),
            r.severity.value,
            "on" if r.default_enabled else "off",
            r.summary,
        )
        for r in rules
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(5)]
    out = []
    for row in [header, *rows]:
        out.append(
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5]
        )
    return "\n".join(line.rstrip() for line in out) + "\n"


def markdown_rules_table(rules: Sequence[type[Rule]]) -> str:
    """The README's rule reference table (kept in sync by a test)."""
    lines = [
        "| Code | Name | Family | Severity | Default | What it finds |",
        "|---|---|---|---|---|---|",
    ]
    for r in rules:
        default = "on" if r.default_enabled else "off"
        lines.append(
            f'| <a id="{rule_anchor(r.code)}"></a>{r.code} | `{r.name}` | {r.family_name()} '
            f"| {r.severity.value} | {default} "
            f"| {r.summary} |"
        )
    return "\n".join(lines) + "\n"


def rules_json(rules: Sequence[type[Rule]]) -> str:
    """``isolint rules --format json``: one object per rule."""
    return (
        json.dumps(
            [
                {
                    "code": r.code,
                    "name": r.name,
                    "family": r.family_name(),
                    "severity": r.severity.value,
                    "default_enabled": r.default_enabled,
                    "fixable": r.fix_title is not None,
                    "summary": r.summary,
                    "url": rule_url(r.code),
                }
                for r in rules
            ],
            indent=2,
        )
        + "\n"
    )
