"""The state DB: one schema, numbered migrations, old DBs brought up to date, newer ones refused."""

from __future__ import annotations

import sqlite3

import pytest

from rebuildx.errors import StateError
from rebuildx.outcomes import Verdict
from rebuildx.state.db import MIGRATIONS, connect
from rebuildx.state.history import History
from rebuildx.state.ledger import Ledger
from rebuildx.workspace import Workspace


def test_a_new_db_has_every_table_and_the_latest_version(tmp_path):
    conn = connect(Workspace(tmp_path))
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"builds", "out_entries", "verdicts", "verified_files"}
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_a_db_from_before_migrations_gains_its_missing_columns(tmp_path):
    ws = Workspace(tmp_path)
    ws.state_dir.mkdir()
    old = sqlite3.connect(ws.state_dir / "state.sqlite")
    old.executescript("""
      CREATE TABLE builds (id INTEGER PRIMARY KEY, package TEXT NOT NULL, input_key TEXT, ok INTEGER NOT NULL,
        digest TEXT, seconds REAL, started REAL, engine TEXT, log TEXT, error TEXT);
      CREATE TABLE out_entries (package TEXT PRIMARY KEY, input_key TEXT NOT NULL, digest TEXT NOT NULL,
        recorded REAL NOT NULL);
      INSERT INTO out_entries VALUES ('core-a', 'k', 'sha256:00', 1.0);""")
    old.commit()
    old.close()
    history = History(ws)
    history.stamp_out("core-a", "stamp-1")  # the column added by the migration
    record = history.out_record("core-a")
    assert record is not None and record.stamp == "stamp-1" and record.digest == "sha256:00"


def test_a_db_from_a_newer_rebuildx_is_refused_with_the_fix(tmp_path):
    ws = Workspace(tmp_path)
    connect(ws).execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StateError, match=r"newer rebuildx .*fix: move it aside"):
        connect(ws)


def test_a_damaged_db_is_moved_aside_and_a_new_one_started(tmp_path, caplog):
    ws = Workspace(tmp_path)
    ws.state_dir.mkdir()
    (ws.state_dir / "state.sqlite").write_bytes(b"this is not a database" * 100)
    History(ws).record_build("core-a", input_key="k", ok=True, digest="d", seconds=1.0, engine="e", log="l",
                             error=None)
    (aside,) = ws.state_dir.glob("state.sqlite.broken-*")
    assert aside.read_bytes().startswith(b"this is not a database")
    assert "damaged (file is not a database); moved aside to" in caplog.text


def test_a_db_from_a_newer_rebuildx_is_one_clear_error(tmp_path):
    ws = Workspace(tmp_path)
    ws.state_dir.mkdir()
    conn = sqlite3.connect(ws.state_dir / "state.sqlite")
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(StateError, match=r"state.sqlite: the state DB cannot be used \(written by a newer rebuildx"):
        History(ws)


def test_verdicts_come_back_as_enums(tmp_path):
    ledger = Ledger(Workspace(tmp_path))
    ledger.record("2099.01.0", "core-a", Verdict.MISMATCH, "a" * 64, "b" * 64, "built")
    ledger.record("2099.01.0", "core-a", Verdict.MATCH, "b" * 64, "b" * 64, "built")
    assert ledger.latest("2099.01.0") == {"core-a": (Verdict.MATCH, "b" * 64, "built")}


def _damage(ws: Workspace, sql: str) -> None:
    conn = sqlite3.connect(ws.state_dir / "state.sqlite")
    conn.executescript(sql)
    conn.close()


def test_a_db_damaged_after_it_opens_is_one_clear_error_too(tmp_path):
    """A DB that opens and migrates but lost a table, or whose pages are corrupt, fails at its
    first query: still a StateError with the fix, never a sqlite3 traceback."""
    ws = Workspace(tmp_path)
    History(ws)
    _damage(ws, "DROP TABLE out_entries; DROP TABLE verdicts; CREATE TABLE verdicts (x)")
    with pytest.raises(StateError, match=r"state.sqlite: the state DB cannot be used \(no such table: "
                                         r"out_entries\); fix: move it aside"):
        History(ws).out_record("core-a")
    with pytest.raises(StateError, match=r"no such column"):
        Ledger(ws).latest("2099.01.0")


def test_a_verdict_this_rebuildx_does_not_know_is_one_clear_error(tmp_path):
    ws = Workspace(tmp_path)
    Ledger(ws).record("2099.01.0", "core-a", Verdict.MATCH, "a" * 64, "a" * 64, "built")
    _damage(ws, "UPDATE verdicts SET verdict = 'SORT_OF'")
    with pytest.raises(StateError, match=r"state.sqlite: .*'SORT_OF'"):
        Ledger(ws).latest("2099.01.0")
