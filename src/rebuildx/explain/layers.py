"""Reading a layer's tar as a stream, into per-file metadata: nothing is ever written to disk.

`tarfile` in stream mode (`r|`) reads the uncompressed stream once; each regular file's content
is hashed as it passes, and only an `Entry` (metadata + sha256) is kept. Names are data: `..`,
absolute paths, device nodes and absurd sizes are recorded as they are, with a note. Header
sizes (PAX, GNU long names) and entry counts are capped before tarfile reads them into memory.
"""

from __future__ import annotations

import hashlib
import posixpath
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rebuildx.explain.limits import ExplainError, Limits, LimitExceeded
from rebuildx.explain.stream import CHUNK, LayerStream, Readable

_TYPES = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.CONTTYPE: "file",
          tarfile.GNUTYPE_SPARSE: "file", tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink",
          tarfile.LNKTYPE: "hardlink", tarfile.CHRTYPE: "char device", tarfile.BLKTYPE: "block device",
          tarfile.FIFOTYPE: "fifo"}
_META_TYPES = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.XGLTYPE,
               tarfile.SOLARIS_XHDTYPE)
# PAX keys tarfile already applies to the TarInfo fields an Entry keeps.
_APPLIED_PAX = {"path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime"}
_MAX_PAX_VALUE = 256


@dataclass(frozen=True, slots=True)
class Entry:
    """One tar entry as a comparison needs it. `sha256` is of the content (regular files)."""

    path: str  # normalised: relative to the root, `..` clamped at the root as runtimes do
    type: str
    mode: int
    uid: int
    gid: int
    uname: str
    gname: str
    size: int
    sha256: str | None
    linkname: str
    mtime: float
    device: tuple[int, int] | None
    pax: tuple[tuple[str, str], ...]  # xattrs and other PAX records, sorted
    layer: int
    notes: tuple[str, ...] = ()


@dataclass
class LayerScan:
    """What one pass over a layer found."""

    entries: list[Entry]
    diff_id: str
    size: int  # uncompressed bytes
    compression: str
    notes: list[str] = field(default_factory=list)


def normalize(name: str) -> tuple[str, tuple[str, ...]]:
    """The path a runtime would write `name` to, and notes on what was odd about it."""
    notes = []
    if name.startswith("/"):
        notes.append(f"absolute path in the tar: {name!r}")
    if ".." in name.split("/"):
        notes.append(f"'..' in the tar path: {name!r} (clamped at the root)")
    path = posixpath.normpath("/" + name).lstrip("/")
    return path or ".", tuple(notes)


def _guarded(limits: Limits, what: str) -> type[tarfile.TarInfo]:
    class Guarded(tarfile.TarInfo):
        def _proc_member(self, tar: tarfile.TarFile) -> tarfile.TarInfo:
            if self.type in _META_TYPES and self.size > limits.max_header_bytes:
                raise LimitExceeded(f"{what}: a {self.size}-byte PAX/long-name header (limit "
                                    f"{limits.max_header_bytes}); refused")
            return super()._proc_member(tar)  # type: ignore[misc]
    return Guarded


Visit = Callable[[tarfile.TarFile, tarfile.TarInfo], None]


def walk_layer(raw: Readable, limits: Limits, what: str, visit: Visit) -> LayerStream:
    """Call `visit(tar, info)` for each entry, in order; return the drained stream (diff_id,
    size, trailing bytes). Raises ExplainError for what is not a readable tar."""
    stream = LayerStream(raw, limits, what)
    try:
        tar = tarfile.open(fileobj=stream, mode="r|", tarinfo=_guarded(limits, what))  # type: ignore[call-overload]
    except tarfile.ReadError as e:
        if stream.size == 0 and "empty" in str(e):
            return stream
        raise ExplainError(f"{what}: not a tar archive: {e}") from e
    try:
        count = 0
        while (info := tar.next()) is not None:
            count += 1
            if count > limits.max_entries:
                raise LimitExceeded(f"{what}: more than {limits.max_entries} tar entries (explain keeps "
                                    f"each in memory; StageX's images hold far fewer); the comparison "
                                    f"stopped here")
            has_data = info.isreg() or info.type not in tarfile.SUPPORTED_TYPES
            if has_data and info.size > limits.max_layer_bytes:
                raise LimitExceeded(f"{what}: entry {info.name!r} claims {info.size} bytes, over "
                                    f"the {limits.max_layer_bytes}-byte layer limit; refused")
            visit(tar, info)
            tar.members.clear()  # stream mode keeps every TarInfo otherwise
    except (tarfile.TarError, EOFError) as e:
        raise ExplainError(f"{what}: broken tar stream: {e}") from e
    stream.drain()
    return stream


def _content_sha256(tar: tarfile.TarFile, info: tarfile.TarInfo) -> str:
    f = tar.extractfile(info)
    h = hashlib.sha256()
    if f is not None:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _pax(info: tarfile.TarInfo) -> tuple[tuple[str, str], ...]:
    items = []
    for key, value in info.pax_headers.items():
        if key in _APPLIED_PAX:
            continue
        if len(value) > _MAX_PAX_VALUE:
            digest = hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()
            value = f"sha256:{digest} ({len(value)} chars)"
        items.append((key, value))
    return tuple(sorted(items))


def to_entry(tar: tarfile.TarFile, info: tarfile.TarInfo, layer: int) -> Entry:
    """Metadata of `info`, hashing its content if it is a regular file (the stream moves on)."""
    path, notes = normalize(info.name)
    kind = _TYPES.get(info.type, f"type {info.type!r}")
    digest = _content_sha256(tar, info) if kind == "file" else None
    device = (info.devmajor, info.devminor) if info.ischr() or info.isblk() else None
    if device:
        notes += (f"device node {device[0]}:{device[1]}",)
    return Entry(path, kind, info.mode, info.uid, info.gid, sys.intern(info.uname), sys.intern(info.gname),
                 info.size if kind == "file" else 0, digest and sys.intern(digest), sys.intern(info.linkname),
                 float(info.mtime), device,
                 _pax(info), layer, notes)


def scan_layer(raw: Readable, layer: int, limits: Limits, what: str) -> LayerScan:
    """Every entry of the layer, in tar order, with diff_id and size of the whole stream."""
    entries: list[Entry] = []
    stream = walk_layer(raw, limits, what, lambda tar, info: entries.append(to_entry(tar, info, layer)))
    notes = []
    if stream.trailing_nonzero:
        notes.append(f"{stream.trailing_nonzero} non-zero bytes after the end of the tar archive "
                     f"(a broken header ends tarfile's listing early: it may be incomplete)")
    return LayerScan(entries, stream.diff_id, stream.size, stream.compression, notes)


def extract_members(raw: Readable, limits: Limits, what: str, wanted: dict[str, Path], cap: int) -> None:
    """Write the content of the regular files named in `wanted` (normalised path -> file to
    write, a name of the caller's choosing) and nothing else; the last copy in the layer wins.
    Files over `cap` bytes are left out."""
    def visit(tar: tarfile.TarFile, info: tarfile.TarInfo) -> None:
        path, _ = normalize(info.name)
        if path in wanted and info.isreg() and info.size <= cap:
            f = tar.extractfile(info)
            with open(wanted[path], "wb") as out:
                while f is not None and (chunk := f.read(CHUNK)):
                    out.write(chunk)
    walk_layer(raw, limits, what, visit)
