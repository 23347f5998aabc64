"""What a run shows as it goes (the CLI's `api.Events`): doctor's warnings, a fetch bar, the
live view of a build (running / done / failed / queued, time per package, an ETA), the support
bundle's path.

On a terminal the build is a rich live table; elsewhere (CI, logs, pipes) one plain line per event.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from rebuildx.api import Events
from rebuildx.doctor.preflight import DoctorReport
from rebuildx.doctor.checks import Level
from rebuildx.fetch import BarProgress, FetchReport, LineProgress, Progress
from rebuildx.stagex.plan import Plan


class TerminalEvents(Events):
    """The CLI's view of a run. `fetch_lines` prints the plain per-file lines of a fetch when
    stdout is no terminal (`fetch` shows them on stdout; builds say only the summary)."""

    def __init__(self, console: Console | None = None, fetch_lines: Callable[[str], None] | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.fetch_lines = fetch_lines
        self.tty = self.console.is_terminal
        self.lock = threading.Lock()
        self.began: dict[str, float] = {}
        self.ended: dict[str, tuple[str, float]] = {}
        self.total = 0
        self.plan: Plan | None = None
        self.durations: dict[str, float] = {}
        self.jobs = 1
        self.live: Live | None = None

    def __enter__(self) -> TerminalEvents:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.live:
            self.live.update(self._table())
            self.live.__exit__(*exc)

    def checked(self, report: DoctorReport) -> None:
        for f in report.findings:
            if f.level is not Level.PASS:
                print(f"doctor: {f.line()}", file=sys.stderr, flush=True)

    @contextlib.contextmanager
    def fetching(self) -> Iterator[Progress]:
        out = Console()
        if out.is_terminal:
            with BarProgress(out) as bar:
                yield bar
        else:
            yield LineProgress(self.fetch_lines or (lambda _line: None))

    def fetched(self, report: FetchReport) -> None:
        print(f"sources: {report.summary()}", file=sys.stderr, flush=True)

    def bundle(self, path: Path) -> None:
        print(f"support bundle (paste it into the StageX chat room): {path}", file=sys.stderr, flush=True)

    def warning(self, message: str) -> None:
        print(f"rebuildx: warning: {message}", file=sys.stderr, flush=True)

    def planned(self, plan: Plan, durations: dict[str, float] | None = None, jobs: int = 1) -> None:
        self.total = len(plan.packages)
        self.plan, self.durations, self.jobs = plan, durations or {}, jobs
        if self.tty and self.live is None:  # after the fetch: one live display at a time
            self.live = Live(self._table(), console=self.console, refresh_per_second=2, transient=False)
            self.live.__enter__()
        eta = self.eta()
        self._say(f"plan: {self.total} packages" + (f", about {eta / 60:.0f} min" if eta is not None else
                                                     ", no duration history yet"))

    def eta(self) -> float | None:
        """Seconds left: max(longest remaining chain, remaining work / jobs), from recorded
        durations; None while a remaining package has none."""
        if self.plan is None:
            return None
        with self.lock:
            left = {n for n in self.plan.names if n not in self.ended}
            elapsed = {n: time.monotonic() - t for n, t in self.began.items() if n in left}
        if any(n not in self.durations for n in left):
            return None
        remaining = {n: max(0.0, self.durations[n] - elapsed.get(n, 0.0)) for n in left}
        chain, _ = self.plan.graph.longest_path(left, lambda n: remaining[n]) if left else (0.0, [])
        return max(chain, sum(remaining.values()) / max(1, self.jobs))

    def started(self, name: str) -> None:
        with self.lock:
            self.began[name] = time.monotonic()
        self._say(f"start  {name}")

    def finished(self, name: str, result: Any) -> None:
        with self.lock:
            took = time.monotonic() - self.began.get(name, time.monotonic())
            self.ended[name] = (result.status.value, took)
        digest = f" {result.digest}" if getattr(result, "digest", None) else ""
        if getattr(result, "builder", None) not in (None, "default"):
            digest = f" on {result.builder}{digest}"
        eta = self.eta() if not self.live else None
        left = f" · ETA {eta / 60:.1f} min" if eta is not None else ""
        failure = getattr(result, "failure", None)
        cause = f" — {failure.cause.value}" if failure else ""
        self._say(f"{result.status.value:<10} {name} ({took:.1f} s){digest}{cause}{left}")

    def _say(self, line: str) -> None:
        if self.live:
            self.live.update(self._table())
        else:
            print(f"rebuildx: {line}", file=sys.stderr, flush=True)

    def _table(self) -> Group:
        with self.lock:
            running = [n for n in self.began if n not in self.ended]
            failed = sum(1 for s, _ in self.ended.values() if s == "failed")
            done = len(self.ended) - failed
            queued = max(0, self.total - len(self.began))
            now = time.monotonic()
        eta = self.eta()
        with self.lock:
            eta_text = f" · ETA {eta / 60:.0f} min" if eta is not None else ""
            table = Table(box=None)
            table.add_column("running")
            table.add_column("for", justify="right")
            for n in running:
                table.add_row(n, f"{now - self.began[n]:.0f} s")
        head = Text(f"done {done} · failed {failed} · running {len(running)} · queued {queued}{eta_text}")
        return Group(head, table)
