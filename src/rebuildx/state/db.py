"""The state DB, `.rebuildx/state.sqlite`: one schema, changed only by numbered migrations.

`PRAGMA user_version` says how many migrations a DB has had; opening it applies the rest, in
order, in one transaction each. A migration is appended, never edited: a DB written by an older
rebuildx is brought up to date, one written by a newer one is refused with a clear line.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from rebuildx import logs
from rebuildx.errors import StateError
from rebuildx.workspace import Workspace

T = TypeVar("T")


def _m1_base(conn: sqlite3.Connection) -> None:
    """The tables of rebuildx 0.1: build attempts, out/ ownership, verdicts per release. DBs from
    before the migrations existed may lack the later-added columns: they are added here, once."""
    script(conn, """
    CREATE TABLE IF NOT EXISTS builds (
      id INTEGER PRIMARY KEY, package TEXT NOT NULL, input_key TEXT, ok INTEGER NOT NULL,
      digest TEXT, seconds REAL, started REAL, engine TEXT, log TEXT, error TEXT, bytes INTEGER);
    CREATE INDEX IF NOT EXISTS builds_package ON builds(package);
    CREATE TABLE IF NOT EXISTS out_entries (
      package TEXT PRIMARY KEY, input_key TEXT NOT NULL, digest TEXT NOT NULL, recorded REAL NOT NULL,
      stamp TEXT);
    CREATE TABLE IF NOT EXISTS verdicts (
      id INTEGER PRIMARY KEY, release TEXT NOT NULL, package TEXT NOT NULL, verdict TEXT NOT NULL,
      local TEXT, published TEXT, deps_from TEXT NOT NULL, recorded REAL NOT NULL);
    CREATE INDEX IF NOT EXISTS verdicts_release ON verdicts(release, package);
    """)
    script(conn, """
CREATE TABLE IF NOT EXISTS verified_files (
    path TEXT PRIMARY KEY,      -- relative to the workspace root
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    device INTEGER NOT NULL,
    verified_at REAL NOT NULL
)
    """)  # fetch's verified-files cache
    for table, column, kind in (("out_entries", "stamp", "TEXT"), ("builds", "bytes", "INTEGER")):
        if column not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def script(conn: sqlite3.Connection, sql: str) -> None:
    """Run `;`-separated statements inside the migration's transaction (`executescript` would
    commit it first)."""
    for statement in sql.split(";"):
        if statement.strip():
            conn.execute(statement)


def _m2_builder(conn: sqlite3.Connection) -> None:
    """Which builder ran each build (several builders: `--builder`); NULL before, or when nothing ran."""
    conn.execute("ALTER TABLE builds ADD COLUMN builder TEXT")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_m1_base, _m2_builder]


_DAMAGED = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB: not a usable database file at all


class _Cursor(sqlite3.Cursor):
    """A DB can open and migrate and still fail later (a dropped table, a corrupt page read only
    by some query): once open, every step maps sqlite3's errors to the same StateError as
    `connect` (while opening, they stay sqlite3's, for `connect` to judge)."""

    def _call(self, step: Callable[[], T]) -> T:
        try:
            return step()
        except sqlite3.Error as e:
            path = getattr(self.connection, "path", None)
            if path is None:
                raise
            raise unusable(path, e) from e

    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:  # type: ignore[override]
        return self._call(lambda: super(_Cursor, self).execute(sql, parameters))

    def fetchone(self) -> Any:
        return self._call(super().fetchone)

    def fetchall(self) -> list[Any]:
        return self._call(super().fetchall)

    def __next__(self) -> Any:
        return self._call(super().__next__)


class _Connection(sqlite3.Connection):
    path: Path | None = None  # set once open and migrated

    def cursor(self, factory: Any = _Cursor) -> Any:  # type: ignore[override]
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:  # type: ignore[override]
        return self.cursor().execute(sql, parameters)


def connect(workspace: Workspace) -> sqlite3.Connection:
    """An open, migrated state DB. A damaged one (not a database, or corrupt) is moved aside
    and a new one started, saying so: it holds history, never anything a verdict trusts
    without checking. One that cannot be used otherwise is a StateError saying what to do."""
    path = workspace.state_dir / "state.sqlite"
    workspace.make_dir(workspace.state_dir)
    if path.exists() and not path.is_file():
        raise StateError(f"{path}: not a file, so not a state DB; fix: move it away (mv {path} {path}.old) and "
                         f"run again — rebuildx starts a new one")
    try:
        return _open(path)
    except sqlite3.DatabaseError as e:
        if getattr(e, "sqlite_errorcode", None) not in _DAMAGED:
            raise unusable(path, e) from e
        aside = _move_aside(path)
        logs.warning(__name__, f"{path}: damaged ({e}); moved aside to {aside} and started a new state DB "
                               f"(build history and the record of which out/ entries rebuildx built start over)")
    except OSError as e:
        raise unusable(path, e) from e
    try:
        return _open(path)
    except (sqlite3.Error, OSError) as e:
        raise unusable(path, e) from e


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False, factory=_Connection)
    try:
        _retry_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
        conn.execute("PRAGMA synchronous=NORMAL")
        _retry_locked(lambda: migrate(conn))
    except BaseException:
        conn.close()
        raise
    conn.path = path
    return conn


def _move_aside(path: Path) -> Path:
    """Rename the DB (and its WAL files) to `state.sqlite.broken-<time>`; another process may
    have done it first."""
    aside = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%dT%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        try:
            Path(f"{path}{suffix}").rename(f"{aside}{suffix}")
        except FileNotFoundError:
            pass
        except OSError as e:
            raise unusable(path, e) from e
    return aside


def unusable(path: Path, e: object) -> StateError:
    """The one line for a state DB that cannot be used or written, with its fix."""
    text = str(e)
    if "readonly" in text or "unable to open" in text or isinstance(e, PermissionError):
        return StateError(f"{path}: the state DB cannot be written ({text}); fix: make {path.parent} and the "
                          f"files in it writable by this user (chmod -R u+w {path.parent}), or run as their owner")
    return StateError(f"{path}: the state DB cannot be used ({text}); fix: move it aside "
                      f"(mv {path} {path}.broken) and run again — rebuildx starts a new one")


def _retry_locked(call: Callable[[], T], tries: int = 100) -> T:
    """SQLite answers "database is locked" at once, without its busy timeout, when two
    processes switch a new DB to WAL together; a short wait lets the first one finish."""
    for attempt in range(tries):
        try:
            return call()
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or attempt == tries - 1:
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")


def migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations this DB has not had yet."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise sqlite3.DatabaseError(f"written by a newer rebuildx (schema {version}, this one knows "
                                    f"{len(MIGRATIONS)})")
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            step(conn)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
