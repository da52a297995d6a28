"""Which rules run: ``select`` / ``extend-select`` / ``ignore`` over codes and code prefixes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from isolint.errors import ConfigError
from isolint.rule import Rule

ALL = "ALL"


def validate_codes(codes: Iterable[str], rules: Sequence[type[Rule]], where: str) -> None:
    """Raise ConfigError naming the first code that is neither a rule code nor a prefix of one
    (team rules' codes count: ``ACME`` selects ``ACME101``)."""
    for code in codes:
        if code == ALL:
            continue
        if not code or not any(rule.code.startswith(code) for rule in rules):
            raise ConfigError(f"{where}: unknown rule code or prefix '{code}'")


def _named_by(rule: type[Rule], selectors: Iterable[str]) -> bool:
    return any(s == ALL or rule.code.startswith(s) for s in selectors)


def _names_explicitly(rule: type[Rule], selectors: Iterable[str]) -> bool:
    """Off-by-default rules need their code or family prefix (``ISO5``, ``ACME1``: a prefix with
    a digit), not ``ALL`` or a bare letter prefix (``ISO``, ``ACME``)."""
    return any(
        rule.code.startswith(s) and any(ch.isdigit() for ch in s) for s in selectors if s != ALL
    )


def select_rules(
    rules: Sequence[type[Rule]],
    select: Sequence[str] | None,
    extend_select: Sequence[str],
    ignore: Sequence[str],
) -> tuple[type[Rule], ...]:
    """The enabled rules, in code order."""
    chosen: list[type[Rule]] = []
    for rule in rules:
        if select is None:
            enabled = rule.default_enabled
        else:
            enabled = _named_by(rule, select) and (
                rule.default_enabled or _names_explicitly(rule, select)
            )
        if (
            not enabled
            and _names_explicitly(rule, extend_select)
            or not enabled
            and rule.default_enabled
            and _named_by(rule, extend_select)
        ):
            enabled = True
        if enabled and not _named_by(rule, ignore):
            chosen.append(rule)
    return tuple(sorted(chosen, key=lambda r: r.code))


def codes_matching(codes: Iterable[str], selectors: Iterable[str]) -> bool:
    """True if any code is named by any selector (used by per-file-ignores and suppressions)."""
    selectors = tuple(selectors)
    return any(code.startswith(s) or s == ALL for code in codes for s in selectors)
