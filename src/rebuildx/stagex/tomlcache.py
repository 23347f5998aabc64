"""Parsed package.toml files, remembered by file identity, so that reading a 513-package tree does
not parse 443 TOML files on every run (most of `rebuildx plan`'s time).

An entry is used only while the file's size, mtime, ctime, inode and device are those it had
when parsed: any write changes the ctime, which no user tool can set back. The cache lives in
`.rebuildx/cache/` of the checkout; a missing, unreadable or damaged cache is simply not used,
and a tree that cannot be written to is read without one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

FORMAT = 1


def _key(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


class TomlCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, list[Any]] = {}
        self.changed = False
        try:
            doc = json.loads(path.read_bytes())
            if isinstance(doc, dict) and doc.get("format") == FORMAT and isinstance(doc.get("files"), dict):
                self.entries = doc["files"]
        except (OSError, ValueError):
            pass

    def get(self, rel: str, st: os.stat_result) -> dict[str, Any] | None:
        entry = self.entries.get(rel)
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == _key(st) and isinstance(entry[1], dict):
            return entry[1]
        return None

    def put(self, rel: str, st: os.stat_result, data: dict[str, Any]) -> None:
        try:
            json.dumps(data)  # TOML dates and times have no JSON form: such a file is not cached
        except (TypeError, ValueError):
            return
        self.entries[rel] = [_key(st), data]
        self.changed = True

    def save(self) -> None:
        """Write the cache whole (a temporary file renamed into place), if anything was added."""
        if not self.changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".toml-", dir=self.path.parent)
            with os.fdopen(fd, "w") as f:
                json.dump({"format": FORMAT, "files": self.entries}, f)
            os.replace(tmp, self.path)
        except OSError:
            pass  # a read-only checkout is read without a cache
