"""Build history: every build attempt, and which `out/` entries rebuildx itself put there.

A row of `out_entries` is written *before* the entry is renamed into `out/` and names its digest,
so after a crash at any moment an entry in `out/` is ours exactly when its digest is the one
recorded; nothing depends on the rename and the record happening together.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from rebuildx.state.db import connect
from rebuildx.workspace import Workspace

@dataclass(frozen=True)
class OutRecord:
    package: str
    input_key: str
    digest: str
    stamp: str | None = None  # file identities of the entry when it was last checked whole


class History:
    """Build history and out/ ownership, in `.rebuildx/state.sqlite`. Safe across threads
    (each call opens its own short transaction on one connection guarded by SQLite)."""

    def __init__(self, workspace: Workspace) -> None:
        self._conn = connect(workspace)
        self._lock = threading.Lock()

    def _exec(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def record_build(self, package: str, *, input_key: str | None, ok: bool, digest: str | None,
                     seconds: float | None, engine: str, log: str, error: str | None,
                     started: float | None = None, size: int | None = None, builder: str | None = None) -> None:
        self._exec(
            "INSERT INTO builds (package, input_key, ok, digest, seconds, started, engine, log, error, bytes,"
            " builder) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (package, input_key, int(ok), digest, seconds, started or time.time(), engine, log, error, size,
             builder))

    def sizes(self) -> dict[str, int]:
        """The size of each package's latest successful out/ entry, in bytes."""
        rows = self._exec("SELECT package, bytes FROM builds WHERE ok = 1 AND bytes IS NOT NULL ORDER BY id")
        return {package: size for package, size in rows}

    def durations(self) -> dict[str, float]:
        """The duration of each package's latest successful build."""
        rows = self._exec(
            "SELECT package, seconds FROM builds WHERE ok = 1 AND seconds IS NOT NULL ORDER BY id")
        return {package: seconds for package, seconds in rows}

    def builder_durations(self, last: int = 2000) -> list[tuple[str, str, float]]:
        """(package, builder, seconds) of the latest `last` successful builds that ran somewhere:
        what per-builder speed is learned from (placement.speed_factors)."""
        rows = self._exec("SELECT package, builder, seconds FROM builds WHERE ok = 1 AND seconds > 0 AND "
                          "builder IS NOT NULL ORDER BY id DESC LIMIT ?", (last,))
        return [(p, b, s) for p, b, s in rows]

    def builders_of(self, packages: list[str]) -> dict[str, str]:
        """The builder of each package's latest successful build that ran (for reports)."""
        rows = self._exec("SELECT package, builder FROM builds WHERE ok = 1 AND builder IS NOT NULL ORDER BY id")
        wanted = set(packages)
        return {p: b for p, b in rows if p in wanted}

    def engine_of(self, package: str, input_key: str) -> str | None:
        """The engine identity of the latest successful build of `package` with `input_key`."""
        rows = self._exec("SELECT engine FROM builds WHERE package = ? AND input_key = ? AND ok = 1 "
                          "ORDER BY id DESC LIMIT 1", (package, input_key))
        return rows[0][0] if rows else None

    def last_failure(self, package: str) -> str | None:
        rows = self._exec("SELECT ok, error FROM builds WHERE package = ? ORDER BY id DESC LIMIT 1", (package,))
        return rows[0][1] if rows and not rows[0][0] else None

    def claim_out(self, package: str, input_key: str, digest: str) -> None:
        """Record that the entry about to be renamed into out/ is ours (before the rename)."""
        self._exec("INSERT OR REPLACE INTO out_entries (package, input_key, digest, recorded) VALUES (?,?,?,?)",
                   (package, input_key, digest, time.time()))

    def stamp_out(self, package: str, stamp: str) -> None:
        """Remember that the entry, as these file identities, was checked whole."""
        self._exec("UPDATE out_entries SET stamp = ? WHERE package = ?", (stamp, package))

    def out_record(self, package: str) -> OutRecord | None:
        rows = self._exec("SELECT package, input_key, digest, stamp FROM out_entries WHERE package = ?", (package,))
        return OutRecord(*rows[0]) if rows else None

    def forget_out(self, package: str) -> None:
        self._exec("DELETE FROM out_entries WHERE package = ?", (package,))
