"""Hashing, and the record of which files under fetch/ were verified, so they are hashed once.

A warm workspace holds ~25 GB of sources; hashing them all on every run would cost minutes.
Each verification is recorded in the state DB with the file's size, mtime, inode and device;
a later run trusts the record only while all four still match and the declared hash is the
one recorded. ctime is deliberately not part of the key: the build step's `cp -lR` adds hard
links, which changes ctime but not the bytes.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

CHUNK = 1 << 20
_T = TypeVar("_T")




def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def copy_hashing(src: Path, dst: Path) -> str:
    """Copy `src` to a new file `dst` and return the sha256 of the bytes written, in one pass.

    The copy is created with the default mode (0666 less umask), as `urlretrieve` in StageX's
    fetch.py would create it, never with the source's mode: the build context copies it.
    """
    digest = hashlib.sha256()
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        while chunk := fin.read(CHUNK):
            digest.update(chunk)
            fout.write(chunk)
    return digest.hexdigest()


def _key(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


class Snapshot:
    """The verified-files records as they were when read; answers without touching the DB."""

    def __init__(self, root: Path, rows: dict[str, tuple[str, int, int, int, int]]) -> None:
        self.root, self.rows = str(root), rows  # plain strings: this runs once per file per run

    def is_verified(self, rel: str, sha256: str) -> os.stat_result | None:
        """The file's stat if `rel` (under the root) is in place as verified with `sha256`."""
        row = self.rows.get(rel)
        if row is None or row[0] != sha256:
            return None
        try:
            st = os.stat(os.path.join(self.root, rel))
        except FileNotFoundError:
            return None
        return st if row[1:] == _key(st) else None


class VerifiedFiles:
    """The `verified_files` table, with one connection per thread (sqlite3 connections must
    stay in the thread that made them)."""

    def __init__(self, root: Path, connect: Callable[[], sqlite3.Connection]) -> None:
        self.root = root
        self._connect = connect
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            with self._lock:  # opening sets WAL mode, which concurrent openers may find locked
                conn = self._connect()
                self._all.append(conn)
            self._local.conn = conn
        return conn

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def is_verified(self, path: Path, sha256: str, st: os.stat_result) -> bool:
        """True when `path`, as it stands (`st`), was verified to have `sha256` before."""
        row = self._db().execute(
            "SELECT sha256, size, mtime_ns, inode, device FROM verified_files WHERE path = ?",
            (self._rel(path),)).fetchone()
        return row is not None and row[0] == sha256 and tuple(row[1:]) == _key(st)

    def snapshot(self) -> Snapshot:
        """Every record at once: one query instead of one per file, for the warm-run check."""
        rows = self._db().execute("SELECT path, sha256, size, mtime_ns, inode, device FROM verified_files")
        return Snapshot(self.root, {row[0]: (row[1], *row[2:]) for row in rows})

    def record(self, path: Path, sha256: str, st: os.stat_result) -> None:
        """Remember that `path`, in the state `st` it was in when hashed, has `sha256`."""
        self._db().execute(
            "INSERT OR REPLACE INTO verified_files VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self._rel(path), sha256, *_key(st), time.time()))

    def forget(self, path: Path) -> None:
        self._db().execute("DELETE FROM verified_files WHERE path = ?", (self._rel(path),))

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()


def check_file(cache: VerifiedFiles, path: Path, sha256: str, *, rehash: bool = False) -> bool | None:
    """Is `path` there with `sha256`? None when absent; hashes only when the record is stale.

    The stat is taken before hashing and compared after, so a file changing while it is read
    is never recorded as verified.
    """
    try:
        before = path.stat()
    except FileNotFoundError:
        return None
    if not rehash and cache.is_verified(path, sha256, before):
        return True
    if sha256_file(path) != sha256:
        cache.forget(path)
        return False
    after = path.stat()
    if _key(after) == _key(before):
        cache.record(path, sha256, after)
    return True
