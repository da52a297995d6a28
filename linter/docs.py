"""Rule documentation rendered from rule classes: ``isolint explain``, ``isolint rules``, README."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Sequence
from typing import Any

from isolint.options import Option
from isolint.rule import Example, Rule, rule_options
from isolint.urls import rule_anchor, rule_url


def _example_block(example: Example) -> str:
    lines = [f"# {example.path}"]
    for path, code in example.files:
        lines.append(f"# (with {path}: {code.strip().splitlines()[0] if code.strip() else ''} ...)")
    header = "\n".join(lines)
    return f"```python\n{header}\n{textwrap.dedent(example.code).strip()}\n```"


def option_line(option: Option[Any]) -> str:
    """One declared option as a Markdown list item: key, type, default, what it does."""
    return (
        f"- `{option.name}` ({option.type.name}, default `{option.text(option.default)}`): "
        f"{option.doc}."
    )


_SECTION = re.compile(r"^## Options[ \t]*\n(.*?)(?=^## |\Z)", re.S | re.M)


def documentation(rule: type[Rule]) -> str:
    """The rule's docstring sections, with its ``## Options`` section listing the options it
    declares (name, type, default, doc), followed by the docstring's own Options prose."""
    doc = rule.documentation()
    match = _SECTION.search(doc)
    prose = match.group(1).strip() if match else ""
    lines = [option_line(option) for option in rule.options]
    if not lines and not prose:
        return doc
    body = "\n".join(lines) + ("\n\n" if lines and prose else "") + prose
    section = f"## Options\n{body}\n"
    if match is None:
        return f"{doc.rstrip()}\n\n{section}".rstrip()
    following = doc[match.end() :]
    return (doc[: match.start()] + section + ("\n" + following if following else "")).rstrip()


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
        documentation(rule),
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


def markdown_options_table(rules: Sequence[type[Rule]]) -> str:
    """The README's table of the options rules declare (kept in sync by a test)."""
    lines = ["| Key | Type | Default | Rules | Meaning |", "|---|---|---|---|---|"]
    for option in rule_options(rules):
        codes = ", ".join(r.code for r in rules if option in r.options)
        lines.append(
            f"| `{option.name}` | {option.type.name} | `{option.text(option.default)}` "
            f"| {codes} | {option.doc} |"
        )
    return "\n".join(lines) + "\n"
