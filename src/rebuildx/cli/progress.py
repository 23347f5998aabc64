"""The live view of a build: running / done / failed / queued, time per package, an ETA.

On a terminal it is a rich live table; elsewhere (CI, logs, pipes) one plain line per event.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from rebuildx.plan import Plan


class BuildProgress:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.tty = self.console.is_terminal
        self.lock = threading.Lock()
        self.began: dict[str, float] = {}
        self.ended: dict[str, tuple[str, float]] = {}
        self.total = 0
        self.estimates: dict[str, float] = {}
        self.live: Live | None = None

    def __enter__(self) -> BuildProgress:
        if self.tty:
            self.live = Live(self._table(), console=self.console, refresh_per_second=2, transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.live:
            self.live.update(self._table())
            self.live.__exit__(*exc)

    def planned(self, plan: Plan) -> None:
        self.total = len(plan.packages)
        self._say(f"plan: {self.total} packages")

    def started(self, name: str) -> None:
        with self.lock:
            self.began[name] = time.monotonic()
        self._say(f"start  {name}")

    def finished(self, name: str, result: Any) -> None:
        with self.lock:
            took = time.monotonic() - self.began.get(name, time.monotonic())
            self.ended[name] = (result.status.value, took)
        digest = f" {result.digest}" if getattr(result, "digest", None) else ""
        self._say(f"{result.status.value:<10} {name} ({took:.1f} s){digest}")

    def _say(self, line: str) -> None:
        if self.live:
            self.live.update(self._table())
        else:
            print(f"rebuildx: {line}", file=sys.stderr, flush=True)

    def _table(self) -> Table:
        with self.lock:
            running = [n for n in self.began if n not in self.ended]
            failed = sum(1 for s, _ in self.ended.values() if s == "failed")
            done = len(self.ended) - failed
            queued = max(0, self.total - len(self.began))
            now = time.monotonic()
            table = Table(title=f"done {done} · failed {failed} · running {len(running)} · queued {queued}",
                          box=None)
            table.add_column("running")
            table.add_column("for", justify="right")
            for n in running:
                table.add_row(n, f"{now - self.began[n]:.0f} s")
        return table
