"""``python -m isolint``: the same as the ``isolint`` command."""

from __future__ import annotations

from isolint.cli import main

if __name__ == "__main__":
    main(prog_name="isolint")
