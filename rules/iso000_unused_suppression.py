"""ISO000: a suppression comment that suppresses nothing (the engine decides; see check.py)."""

from __future__ import annotations

from typing import ClassVar

from isolint.api import Example, Rule, Severity


class UnusedSuppression(Rule):
    """
    ## What it does
    Reports `# isolint: ignore[...]`, `# isolint: ignore` and `# noqa: ISO...` comments that
    suppress no finding on their line (or on the statement they start). Codes of rules that are
    not enabled in the run are not judged. Enable it with `--report-unused-ignores` or by
    selecting `ISO000`.

    ## Why is this bad?
    A stale suppression is a hole in the net: the code it once excused was fixed, but the
    comment stays and will silently hide the next singleton or shared cache someone writes on
    that line — the very regression isolint exists to catch. Delete the comment (or the codes in
    it that no longer match anything) so the line is checked again.
    """

    code: ClassVar[str] = "ISO000"
    name: ClassVar[str] = "unused-suppression"
    summary: ClassVar[str] = "Suppression comment that suppresses nothing"
    message: ClassVar[str] = "Unused suppression `{comment}`"
    severity: ClassVar[Severity] = Severity.WARNING
    default_enabled: ClassVar[bool] = False
    bad: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            LIMIT = 10  # isolint: ignore[ISO204]
            """,
            config=(("extend-select", ["ISO204"]),),
        ),
        Example(
            code="""
            def handler(user_id):  # isolint: ignore
                return user_id
            """,
            config=(("extend-select", ["ISO2"]),),
        ),
        Example(
            code="""
            def fine(x=None):  # noqa: ISO204
                return x
            """,
            config=(("extend-select", ["ISO204"]),),
        ),
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            def remember(user_id, seen=[]):  # isolint: ignore[ISO204]
                return seen
            """,
            config=(("extend-select", ["ISO204"]),),
        ),
        Example(
            code="""
            def remember(user_id, seen=[]):  # noqa: ISO204, E501
                return seen
            """,
            config=(("extend-select", ["ISO204"]),),
        ),
        Example(
            code="""
            LIMIT = 10  # isolint: ignore[ISO101]
            """,
        ),
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            LIMIT = 10
            """,
            config=(("extend-select", ["ISO204"]),),
        ),
        Example(
            code="""
            def handler(user_id):
                return user_id
            """,
            config=(("extend-select", ["ISO2"]),),
        ),
    )
