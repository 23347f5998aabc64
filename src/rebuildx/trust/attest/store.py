"""The attestation tree: `<release>/<stage>-<pkg>@sha256=<hex>.intoto.jsonl` plus `index.json`.

The same layout serves `.rebuildx/attestations/` (what `verify --attest-key` signs) and a
published tree (`attest publish --to DIR`), so any static HTTP server can serve it and
`attest check` finds a package's file from its published digest alone. Files are only ever
appended to: an envelope already in a file is not written again, and no line is rewritten.
`index.json` is derived from the files and replaced whole (atomically) after each change.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rebuildx.trust.attest.keys import AttestError

SUFFIX = ".intoto.jsonl"
_RELEASE = re.compile(r"\d{4}\.\d{2}\.\d+")
_PACKAGE = re.compile(r"[a-z0-9][a-z0-9._+-]*-[a-z0-9._+-]+")
_FILE = re.compile(r"(?P<package>[a-z0-9][a-z0-9._+-]*)@sha256=(?P<hex>[0-9a-f]{64})" + re.escape(SUFFIX))
INDEX = "index.json"


def relative_path(release: str, package: str, hex_: str) -> str:
    """Where a package's envelopes for one published digest live, relative to the tree's root."""
    if not _RELEASE.fullmatch(release):
        raise AttestError(f"release {release!r} is not YYYY.MM.N")
    if not _PACKAGE.fullmatch(package):
        raise AttestError(f"package name {package!r} is not <stage>-<name>")
    if not re.fullmatch(r"[0-9a-f]{64}", hex_):
        raise AttestError(f"{package}: {hex_!r} is not a sha256 hex digest")
    return f"{release}/{package}@sha256={hex_}{SUFFIX}"


@dataclass(frozen=True)
class Entry:
    release: str
    package: str
    hex: str
    path: Path


def entries(root: Path) -> list[Entry]:
    """Every envelope file of the tree, sorted; files not named as the layout says are ignored."""
    out = []
    for rel_dir in sorted(root.iterdir()) if root.is_dir() else []:
        if not (rel_dir.is_dir() and _RELEASE.fullmatch(rel_dir.name)):
            continue
        for f in sorted(rel_dir.iterdir()):
            m = _FILE.fullmatch(f.name)
            if m and f.is_file():
                out.append(Entry(rel_dir.name, m["package"], m["hex"], f))
    return out


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """One writer at a time per tree (two verify runs, or a publish beside them)."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    except (OSError, ValueError) as e:  # ValueError: a NUL byte in the path
        raise AttestError(f"{root}: cannot write the attestation tree: {getattr(e, 'strerror', None) or e}") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def require_whole(root: Path, release: str, package: str, hex_: str) -> None:
    """Refuse a file whose last line is cut (a crash, a hand edit): it is never appended to, and a
    publish checks every file first so that it writes all or nothing."""
    path = root / relative_path(release, package, hex_)
    try:
        with path.open("rb") as f:
            end = f.seek(0, os.SEEK_END)
            if not end:
                return
            f.seek(end - 1)
            last = f.read(1)
    except FileNotFoundError:
        return
    except OSError as e:
        raise AttestError(f"{path}: cannot read: {e.strerror or e}") from e
    if last != b"\n":
        raise AttestError(f"{path}: its last line is cut; repair it by hand (rebuildx never rewrites a file)")


def append(root: Path, release: str, package: str, hex_: str, lines: list[bytes]) -> int:
    """Append the envelopes (one JSON line each) not yet in the package's file; return how many.
    Call inside `locked(root)`."""
    path = root / relative_path(release, package, hex_)
    try:
        existing = path.read_bytes() if path.exists() else b""
    except OSError as e:
        raise AttestError(f"{path}: cannot read: {e.strerror or e}") from e
    if existing and not existing.endswith(b"\n"):
        raise AttestError(f"{path}: its last line is cut; repair it by hand (rebuildx never rewrites a file)")
    have = set(existing.splitlines(keepends=True))
    new = [ln for ln in dict.fromkeys(lines) if ln not in have]
    if not new:
        return 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as e:
        raise AttestError(f"{path}: cannot append: {e.strerror or e}") from e
    try:
        data = memoryview(b"".join(new))
        while data:
            data = data[os.write(fd, data):]
        os.fsync(fd)
    except OSError as e:
        try:  # a write cut short (a full disk) takes back its own partial line: no torn file is left
            os.ftruncate(fd, len(existing))
        except OSError:
            pass
        raise AttestError(f"{path}: cannot append: {e.strerror or e}") from e
    finally:
        os.close(fd)
    return len(new)


def write_index(root: Path) -> Path:
    """index.json: per release, per package, the digest files present (for people and tools;
    `attest check` never needs it)."""
    index, tmp = root / INDEX, root / f".{INDEX}.tmp"
    releases: dict[str, dict[str, list[dict]]] = {}
    try:
        for e in entries(root):
            count = sum(1 for _ in e.path.open("rb"))
            releases.setdefault(e.release, {}).setdefault(e.package, []).append(
                {"digest": f"sha256:{e.hex}", "path": e.path.relative_to(root).as_posix(), "envelopes": count})
        tmp.write_text(json.dumps({"format": 1, "layout": "<release>/<package>@sha256=<hex>" + SUFFIX,
                                   "releases": releases}, indent=1, sort_keys=True) + "\n")
        os.replace(tmp, index)
    except OSError as e:
        raise AttestError(f"{index}: cannot write the index: {e.strerror or e}") from e
    return index
