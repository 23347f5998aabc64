"""A layer's uncompressed bytes as a stream: decompressed, hashed (its diff_id), counted, capped.

The compression is read from the blob's first bytes, not its media type (a descriptor can lie).
gzip is decompressed in bounded steps (`max_length`), so a few KiB that expand to terabytes never
sit in memory, and the running count stops the stream at `Limits.max_layer_bytes`.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from typing import Protocol

from rebuildx.explain.limits import ExplainError, Limits, LimitExceeded

CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class Readable(Protocol):
    def read(self, n: int = -1) -> bytes: ...


class LayerStream:
    """`read(n)` gives uncompressed bytes; `drain()` reads the rest. `diff_id` and `size` are
    those of everything read so far (the whole layer after `drain()`)."""

    def __init__(self, raw: Readable, limits: Limits, what: str) -> None:
        self.what, self.limits = what, limits
        head = _read_at_least(raw, 4)
        if head.startswith(GZIP_MAGIC):
            self.compression, chunks = "gzip", _gunzip(raw, head, what)
        elif head.startswith(ZSTD_MAGIC):
            raise ExplainError(f"{what}: zstd-compressed layer: not supported by explain yet")
        else:
            self.compression, chunks = "none", _plain(raw, head)
        self._chunks: Iterator[bytes] = chunks
        self._hash = hashlib.sha256()
        self.size = 0
        self.trailing_nonzero = 0  # bytes after the tar's end that are not zero padding
        self._buf, self._pos = b"", 0

    @property
    def diff_id(self) -> str:
        return "sha256:" + self._hash.hexdigest()

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            return b"".join(iter(lambda: self.read(CHUNK), b""))
        while self._pos >= len(self._buf):
            chunk = self._next()
            if not chunk:
                return b""
            self._buf, self._pos = chunk, 0
        out = self._buf[self._pos:self._pos + n]
        self._pos += len(out)
        return out

    def _next(self) -> bytes:
        chunk = next(self._chunks, b"")
        self.size += len(chunk)
        if self.size > self.limits.max_layer_bytes:
            raise LimitExceeded(f"{self.what}: expands past {self.limits.max_layer_bytes} "
                                f"uncompressed bytes (a decompression bomb, or a layer that needs a "
                                f"higher --max-layer-bytes); stopped")
        self._hash.update(chunk)
        return chunk

    def drain(self) -> None:
        """Read to the end (the tar reader stops at its end marker) so diff_id covers all of it;
        count what is not zero padding, since a tar reader ignores it."""
        rest = self._buf[self._pos:]
        self._buf, self._pos = b"", 0
        while True:
            self.trailing_nonzero += len(rest) - rest.count(0)
            rest = self._next()
            if not rest:
                return


def _read_at_least(raw: Readable, n: int) -> bytes:
    data = b""
    while len(data) < n and (more := raw.read(n - len(data))):
        data += more
    return data


def _plain(raw: Readable, head: bytes) -> Iterator[bytes]:
    if head:
        yield head
    while chunk := raw.read(CHUNK):
        yield chunk


def _gunzip(raw: Readable, head: bytes, what: str) -> Iterator[bytes]:
    """Every gzip member in turn (a gzip stream may have several), in chunks of at most CHUNK."""
    d, data = zlib.decompressobj(31), head
    try:
        while True:
            if not data:
                data = raw.read(CHUNK)
                if not data:
                    if not d.eof:
                        raise ExplainError(f"{what}: the gzip stream ends early")
                    return
            if d.eof:  # another member follows, or bytes that are not gzip
                data = _read_at_least_more(raw, data, 2)
                if not data.startswith(GZIP_MAGIC):
                    raise ExplainError(f"{what}: bytes after the end of the gzip stream")
                d = zlib.decompressobj(31)
            out = d.decompress(data, CHUNK)
            data = d.unused_data if d.eof else d.unconsumed_tail
            if out:
                yield out
    except zlib.error as e:
        raise ExplainError(f"{what}: not valid gzip: {e}") from e


def _read_at_least_more(raw: Readable, data: bytes, n: int) -> bytes:
    return data + _read_at_least(raw, n - len(data)) if len(data) < n else data
