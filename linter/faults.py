"""Rule failures as results: one ``internal error in ISOxxx`` file error per failing rule."""

from __future__ import annotations

import traceback

from isolint.diagnostics import FileError

# Where a rule that fails in the global phase (on the whole project's data) is reported.
PROJECT_PATH = "<project>"


def rule_failure(path: str, code: str, exc: BaseException, phase: str = "") -> FileError:
    """The error for rule ``code`` raising ``exc`` on ``path``; ``phase`` names the hook
    (``check_project``...) when it is not the per-file pass. The traceback goes in ``detail``."""
    where = f" ({phase})" if phase else ""
    return FileError(
        path,
        f"internal error in {code}{where}: {type(exc).__name__}: {exc}",
        kind="internal",
        rule=code,
        detail="".join(traceback.format_exception(exc)),
    )
