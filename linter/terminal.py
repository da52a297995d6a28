"""Whether to colour output: a terminal, unless ``NO_COLOR``; always with ``FORCE_COLOR``."""

from __future__ import annotations

import os
from typing import TextIO


def use_color(stream: TextIO, environ: dict[str, str] | None = None) -> bool:
    """The no-color.org and force-color.org conventions: a non-empty ``NO_COLOR`` turns colour
    off, a non-empty ``FORCE_COLOR`` turns it on; otherwise colour only on a terminal."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False
