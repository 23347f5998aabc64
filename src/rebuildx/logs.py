"""The library's log, through the standard `logging`, which is imported only once something is
logged: `rebuildx plan` and `--help` start without it (bench/plan.py times them as processes).

The CLI says how verbose to be (`configure`); the format and level are applied when the first
logger is made, or at once if `logging` is already loaded. A library user who configures
`logging` themselves and never calls `configure` gets the standard behaviour.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging

FORMAT = "rebuildx: %(levelname)s: %(message)s"
_level: int | None = None  # set by configure, applied once


def configure(verbose: bool) -> None:
    global _level
    _level = 20 if verbose else 30  # logging.INFO, logging.WARNING
    if "logging" in sys.modules:
        _apply()


def _apply() -> None:
    global _level
    if _level is None:
        return
    import logging

    logging.basicConfig(level=_level, format=FORMAT)
    _level = None


def logger(name: str) -> logging.Logger:
    """`logging.getLogger(name)`, with the CLI's configuration applied first."""
    import logging

    _apply()
    return logging.getLogger(name)


def warning(name: str, message: str) -> None:
    """A warning; under the CLI, before anything loaded `logging`, written as it would write it."""
    if _level is not None and "logging" not in sys.modules:
        if _level <= 30:
            _write(FORMAT % {"levelname": "WARNING", "message": message} + "\n")
        return
    logger(name).warning(message)


def _write(line: str) -> None:
    """To stderr, and on, as logging's handler does: a closed or full stderr (`2>&-`,
    `2>/dev/full`) loses the warning, never the run."""
    try:
        if sys.stderr is not None:
            sys.stderr.write(line)
            sys.stderr.flush()
    except (OSError, ValueError):  # ValueError: a closed file object
        pass
