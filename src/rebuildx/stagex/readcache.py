"""What reading a tree costs, remembered by file identity, so that `rebuildx plan` on a 513-package
tree does not parse 443 TOML files and read 443 Containerfiles on every run (most of its time).

Two memories, both in the checkout's `.rebuildx/cache/`:
- `tree.json`, the tree as read: every package, resolved, and the warnings, used only while the
  identity of every package directory's Containerfile and package.toml, and of the reader's own
  source files, is the one it was read with (a change to the reader reads the tree again);
- `package-toml.json`, each parsed package.toml by its file's identity, for the packages of a tree
  that changed since.
An identity is a file's size, mtime, ctime, inode and device: any write changes the ctime, which no
user tool can set back -- unless it falls in the same timestamp granule as the write before: one
second on ext3, HFS+ or ext4 with 128-byte inodes, a clock tick on Linux before 6.13. So a file is
remembered only when changed before the filesystem's clock (`fs_now`, taken before the read) says
now, as git does with its "racily clean" entries. A missing, unreadable or damaged memory (each
carries the CRC-32 of its content) is simply not used, and a tree that cannot be written to is read
without one.
"""

from __future__ import annotations

import json
import os
import stat
import zlib
from pathlib import Path
from typing import Any

from rebuildx.stagex.model import Package, Source

FORMAT = 2
MAX_BYTES = 256 * 2**20  # a real tree's memo is under 1 MiB; anything near this is not ours
Identity = list[int]


def identity(st: os.stat_result) -> Identity:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def fs_now(directory: Path) -> int | None:
    """The filesystem's own clock, in ns: the mtime of a file made in `directory` now (None: it
    cannot be written, so nothing will be remembered). A file whose ctime is not older may yet be
    written again in the same granule, its identity unchanged: it is read, never remembered."""
    import tempfile

    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".now-", dir=directory)
        try:
            os.fstat(fd)  # asked for, a timestamp is then renewed finely where the kernel can (Linux 6.13+)
            os.write(fd, b"\0")
            return os.fstat(fd).st_mtime_ns
        finally:
            os.close(fd)
            os.unlink(tmp)
    except OSError:
        return None


def _settled(ident: Identity | None, now: int | None) -> bool:
    return now is not None and (ident is None or ident[2] < now)


def _load(path: Path) -> Any:
    """The content of a memory file, or None when it is missing, damaged or of another format.
    A file is its CRC-32 line, then its JSON: damage is caught without decoding it twice."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO put there must not hang the read
        with open(fd, "rb") as f:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_BYTES:
                return None
            head, _, body = f.read(MAX_BYTES + 1).partition(b"\n")
        if len(body) > MAX_BYTES or head != b"rebuildx-cache %d %08x" % (FORMAT, zlib.crc32(body)):
            return None
        return json.loads(body)
    except (OSError, ValueError, RecursionError):  # RecursionError: JSON nested too deep to decode
        return None


def _save(path: Path, content: Any) -> None:
    """Written whole: a temporary file renamed into place; a read-only checkout keeps none."""
    import tempfile

    body = json.dumps(content, separators=(",", ":")).encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(b"rebuildx-cache %d %08x\n" % (FORMAT, zlib.crc32(body)) + body)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:  # renamed already: a Ctrl-C just after must still stop the run
                pass
            raise
    except OSError:
        pass


class TomlCache:
    """Parsed package.toml files by file identity; only files changed before `now` are added."""

    def __init__(self, path: Path, now: int | None) -> None:
        self.path, self.now = path, now
        content = _load(path)
        self.entries: dict[str, list[Any]] = content if isinstance(content, dict) else {}
        self.changed = False

    def get(self, rel: str, st: os.stat_result) -> dict[str, Any] | None:
        entry = self.entries.get(rel)
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == identity(st) and isinstance(entry[1], dict):
            return entry[1]
        return None

    def put(self, rel: str, st: os.stat_result, data: dict[str, Any]) -> None:
        if not _settled(identity(st), self.now):
            return
        try:
            json.dumps(data)  # TOML dates and times have no JSON form: such a file is not cached
        except (TypeError, ValueError):
            return
        self.entries[rel] = [identity(st), data]
        self.changed = True

    def save(self) -> None:
        if self.changed:
            _save(self.path, self.entries)


# The tree as read -----------------------------------------------------------------------------

_PACKAGE_FIELDS = ("stage", "name", "origin", "version", "platforms", "sources", "deps", "subpackage",
                   "version_from", "toml_version", "dep_lines")
_SOURCE_FIELDS = ("name", "hash", "mirrors", "version", "file", "format", "git_sha", "size")
_TUPLES = {"platforms", "deps", "dep_lines", "mirrors"}


def _reader_identity() -> list[Any]:
    """The reader's own source files: a changed reader (an upgrade, a fix) reads the tree again."""
    from rebuildx.oci import names  # the name rule the reader applies
    from rebuildx.stagex import model, readcache, templating, tree

    out: list[Any] = [list(_PACKAGE_FIELDS), list(_SOURCE_FIELDS)]
    for module in (model, readcache, templating, tree, names):
        try:
            out.append(identity(os.stat(module.__file__ or "")))
        except OSError:
            out.append(None)
    return out


def _pack(p: Package) -> list[Any]:
    return [[[getattr(s, f) for f in _SOURCE_FIELDS] for s in v] if f == "sources" else
            list(v) if f in _TUPLES else v
            for f, v in ((f, getattr(p, f)) for f in _PACKAGE_FIELDS)]


def _source(values: list[Any]) -> Source:
    fields: dict[str, Any] = {f: tuple(v) if f in _TUPLES else v for f, v in zip(_SOURCE_FIELDS, values, strict=True)}
    return Source(**fields)


def _unpack(values: list[Any]) -> Package:
    fields: dict[str, Any] = {f: tuple(map(_source, v)) if f == "sources" else tuple(v) if f in _TUPLES else v
                              for f, v in zip(_PACKAGE_FIELDS, values, strict=True)}
    return Package(**fields)


class TreeMemo:
    """The packages and warnings of a tree, keyed by the identity of every file they came from."""

    def __init__(self, path: Path, inputs: list[Any]) -> None:
        self.path = path
        self.key = [_reader_identity(), inputs]

    def get(self) -> tuple[list[Package], list[str]] | None:
        content = _load(self.path)
        if not isinstance(content, dict) or content.get("key") != self.key:
            return None
        try:
            return [_unpack(v) for v in content["packages"]], [str(w) for w in content["warnings"]]
        except (KeyError, TypeError, ValueError):  # a memo of another shape is not used
            return None

    def put(self, packages: list[Package], warnings: list[str], now: int | None) -> None:
        """Remembered only when every file, the reader's too, changed before `now` (fs_now)."""
        reader, inputs = self.key
        if not all(_settled(i, now) for i in (*reader[2:], *(i for _, *both in inputs for i in both))):
            return
        _save(self.path, {"key": self.key, "packages": [_pack(p) for p in packages], "warnings": warnings})
