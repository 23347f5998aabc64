"""The state DB: every build attempt, and which `out/` entries rebuildx itself put there.

A row of `out_entries` is written *before* the entry is renamed into `out/` and names its digest,
so after a crash at any moment an entry in `out/` is ours exactly when its digest is the one
recorded; nothing depends on the rename and the record happening together.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from rebuildx.workspace import Workspace

_SCHEMA = """
CREATE TABLE IF NOT EXISTS builds (
  id INTEGER PRIMARY KEY, package TEXT NOT NULL, input_key TEXT, ok INTEGER NOT NULL,
  digest TEXT, seconds REAL, started REAL, engine TEXT, log TEXT, error TEXT, bytes INTEGER);
CREATE INDEX IF NOT EXISTS builds_package ON builds(package);
CREATE TABLE IF NOT EXISTS out_entries (
  package TEXT PRIMARY KEY, input_key TEXT NOT NULL, digest TEXT NOT NULL, recorded REAL NOT NULL,
  stamp TEXT);
"""


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
        self._conn = workspace.state_db()
        self._conn.executescript(_SCHEMA)
        for table, column, kind in (("out_entries", "stamp", "TEXT"), ("builds", "bytes", "INTEGER")):
            columns = {row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")}
            if column not in columns:  # state DBs from before the column
                self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        self._lock = threading.Lock()

    def _exec(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def record_build(self, package: str, *, input_key: str | None, ok: bool, digest: str | None,
                     seconds: float | None, engine: str, log: str, error: str | None,
                     started: float | None = None, size: int | None = None) -> None:
        self._exec(
            "INSERT INTO builds (package, input_key, ok, digest, seconds, started, engine, log, error, bytes)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            (package, input_key, int(ok), digest, seconds, started or time.time(), engine, log, error, size))

    def sizes(self) -> dict[str, int]:
        """The size of each package's latest successful out/ entry, in bytes."""
        rows = self._exec("SELECT package, bytes FROM builds WHERE ok = 1 AND bytes IS NOT NULL ORDER BY id")
        return {package: size for package, size in rows}

    def durations(self) -> dict[str, float]:
        """The duration of each package's latest successful build."""
        rows = self._exec(
            "SELECT package, seconds FROM builds WHERE ok = 1 AND seconds IS NOT NULL ORDER BY id")
        return {package: seconds for package, seconds in rows}

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


_LEDGER = """
CREATE TABLE IF NOT EXISTS verdicts (
  id INTEGER PRIMARY KEY, release TEXT NOT NULL, package TEXT NOT NULL, verdict TEXT NOT NULL,
  local TEXT, published TEXT, deps_from TEXT NOT NULL, recorded REAL NOT NULL);
CREATE INDEX IF NOT EXISTS verdicts_release ON verdicts(release, package);
"""


class Ledger:
    """Every verdict a verification reached, per release. A package is *chain-verified* when it
    and every package in its closure have MATCHed (closure or published-deps mode): by induction
    from the seed, its published image is then what its source produces."""

    def __init__(self, workspace: Workspace) -> None:
        self._conn = workspace.state_db()
        self._conn.executescript(_LEDGER)
        self._lock = threading.Lock()

    def record(self, release: str, package: str, verdict: str, local: str | None,
               published: str | None, deps_from: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO verdicts (release, package, verdict, local, published, deps_from, recorded)"
                " VALUES (?,?,?,?,?,?,?)", (release, package, verdict, local, published, deps_from, time.time()))

    def latest(self, release: str) -> dict[str, tuple[str, str | None, str]]:
        """package -> (verdict, published digest, deps_from) of its latest verdict for `release`."""
        with self._lock:
            rows = self._conn.execute("SELECT package, verdict, published, deps_from FROM verdicts "
                                      "WHERE release = ? ORDER BY id", (release,)).fetchall()
        return {p: (v, d, f) for p, v, d, f in rows}
