"""Showing a fetch as it runs: a rich bar for total bytes on a terminal, plain lines elsewhere.

The fetch library reports through the small `Progress` protocol, from several worker threads
at once; renderers here take their own locks. Totals are only known as servers announce
them, so each file reports its absolute position (bytes in its partial file, expected size)
and the bar adds those up: restarts and resumes never make it count twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol, Self

from rebuildx.fetch.report import FileResult


class Progress(Protocol):
    def transfer(self, key: str, done: int, total: int | None) -> None:
        """File `key` now has `done` bytes of an expected `total` (None: not announced)."""

    def finished(self, result: FileResult) -> None:
        """One source is done (fetched, present or failed)."""


class NullProgress:
    def transfer(self, key: str, done: int, total: int | None) -> None:
        pass

    def finished(self, result: FileResult) -> None:
        pass


class _Totals:
    """Running sums of bytes done and expected over all files, updated in O(1)."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[int, int]] = {}
        self.done = self.total = 0
        self.lock = threading.Lock()

    def set(self, key: str, done: int, total: int | None) -> tuple[int, int]:
        with self.lock:
            old_done, old_total = self.files.get(key, (0, 0))
            new_total = max(total or 0, done)
            self.files[key] = (done, new_total)
            self.done += done - old_done
            self.total += new_total - old_total
            return self.done, self.total

    def close(self, key: str) -> tuple[int, int]:
        """A finished file expects nothing more than what it has."""
        done, _ = self.files.get(key, (0, 0))
        return self.set(key, done, done)


class LineProgress(NullProgress):
    """One plain line per finished file, for logs and pipes."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.lock = threading.Lock()

    def finished(self, result: FileResult) -> None:
        with self.lock:
            self.echo(result.line())


class BarProgress:
    """A bar for the total bytes of the run, with each finished file printed above it.

    Use as a context manager: the bar is drawn between enter and exit.
    """

    def __init__(self, console: object | None = None) -> None:
        from rich.progress import BarColumn, DownloadColumn, TextColumn, TimeRemainingColumn, TransferSpeedColumn
        from rich.progress import Progress as RichProgress

        self.bar = RichProgress(TextColumn("fetch"), BarColumn(), DownloadColumn(),
                                TransferSpeedColumn(), TimeRemainingColumn(),
                                console=console, transient=True)  # type: ignore[arg-type]
        self.task = self.bar.add_task("fetch", total=None)
        self.totals = _Totals()

    def __enter__(self) -> Self:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def transfer(self, key: str, done: int, total: int | None) -> None:
        completed, expected = self.totals.set(key, done, total)
        self.bar.update(self.task, completed=completed, total=expected or None)

    def finished(self, result: FileResult) -> None:
        completed, expected = self.totals.close(result.sha256)
        self.bar.update(self.task, completed=completed, total=expected or None)
        self.bar.console.print(result.line(), highlight=False, markup=False)
