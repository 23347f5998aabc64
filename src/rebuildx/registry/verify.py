"""Blobs are checked while they stream: sha256 and size, whatever they come from.

A registry, a layout on disk and a tarball are all untrusted the same way, so every blob is read
through a `VerifyingReader`: it hashes and counts what passes, refuses a byte past the expected
size at once, and at the end (or at `finish()`, which drains what the consumer did not read —
tarfile stops at the end-of-archive marker) compares the digest. Whatever a consumer concluded
from the bytes is worthless until `finish()` has returned.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import BinaryIO, TypeVar

from rebuildx.errors import RebuildxError, RegistryError

CHUNK = 1 << 20
T = TypeVar("T")


class VerifyingReader:
    """A read-only binary stream over `chunks` that must add up to `digest` and `size`."""

    def __init__(self, chunks: Iterator[bytes], digest: str, size: int | None, what: str,
                 error: type[RebuildxError] = RegistryError,
                 on_close: Callable[[], None] | None = None) -> None:
        self._chunks, self.digest, self.size, self.what = chunks, digest, size, what
        self._error, self._on_close = error, on_close
        self._hash = hashlib.sha256()
        self._buf, self._pos = b"", 0
        self.count = 0
        self._eof = False
        self.ok = False  # set once the whole blob has been checked

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        """Up to `n` bytes (maybe fewer, as from a socket; all that is left for n < 0); b"" only
        at the end, once the blob is verified."""
        if n < 0:
            parts = [self._buf[self._pos:]]
            while not self._eof:
                parts.append(self._pull())
            self._buf, self._pos = b"", 0
            return b"".join(parts)
        while self._pos >= len(self._buf) and not self._eof:
            self._buf, self._pos = self._pull(), 0
        out = self._buf[self._pos:self._pos + n]
        self._pos += len(out)
        return out

    def _pull(self) -> bytes:
        chunk = next(self._chunks, None)
        if chunk is None:
            self._eof = True
            self._check_end()
            return b""
        self.count += len(chunk)
        if self.size is not None and self.count > self.size:
            raise self._error(f"{self.what}: blob {self.digest}: received more than the "
                              f"{self.size} bytes it should have; refused")
        self._hash.update(chunk)
        return chunk

    def _check_end(self) -> None:
        got = "sha256:" + self._hash.hexdigest()
        if self.size is not None and self.count != self.size:
            seen = f" (digest {got})" if self.count else ""  # the digest of nothing says nothing
            raise self._error(f"{self.what}: blob {self.digest}: received {self.count} bytes"
                              f"{seen}, expected {self.size}; refused")
        if got != self.digest:
            seen = f"{got} ({self.count} bytes)" if self.count else "no bytes at all"
            raise self._error(f"{self.what}: asked for blob {self.digest}, received {seen}; refused")
        self.ok = True

    def finish(self) -> None:
        """Read whatever is left and verify; raises unless the whole blob was the right one."""
        self._buf, self._pos = b"", 0
        while not self._eof:
            self._pull()

    def verified(self, work: Callable[[VerifyingReader], T]) -> T:
        """`work(self)`, then `finish()`. When `work` fails (bad gzip, a broken tar), the rest is
        read first: if the blob is not what was asked for, that is the error to report."""
        try:
            result = work(self)
        except RebuildxError as e:
            self.finish_after(e)
            raise
        self.finish()
        return result

    def finish_after(self, cause: BaseException) -> None:
        try:
            self.finish()
        except RebuildxError as bad:
            raise bad from cause

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()
            self._on_close = None

    def __enter__(self) -> VerifyingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def file_chunks(f: BinaryIO, limit: int | None, chunk: int = CHUNK) -> Iterator[bytes]:
    """Chunks of `f` from where it is, at most `limit` bytes. Give one more byte than the blob
    may have: that is enough to tell a too-long blob without reading a hostile endless file."""
    left = limit
    while left is None or left > 0:
        data = f.read(chunk if left is None else min(chunk, left))
        if not data:
            return
        if left is not None:
            left -= len(data)
        yield data


def read_verified(reader: VerifyingReader, cap: int) -> bytes:
    """The whole (small) blob, verified; refused when it is longer than `cap`."""
    if reader.size is not None and reader.size > cap:
        raise reader._error(f"{reader.what}: blob {reader.digest} has size {reader.size}, "
                            f"over the {cap} bytes allowed for a document; refused")
    data = reader.read(cap + 1)
    while len(data) <= cap and (more := reader.read(cap + 1 - len(data))):
        data += more
    if len(data) > cap:
        raise reader._error(f"{reader.what}: blob {reader.digest} is over the {cap} bytes "
                            f"allowed for a document; refused")
    reader.finish()
    return data
