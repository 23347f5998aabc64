"""Where an image is read from: an OCI layout directory, a tarball of one, or a registry.

All three give the same small contract, `ImageSource`: the top-level descriptors, the verified
bytes of a document (index, manifest, config), and a verifying stream of any blob. Nothing is
trusted: every blob is read through a `VerifyingReader`, so a layout on disk with a corrupted
blob is refused the same way as a registry answering with the wrong bytes.
"""

from __future__ import annotations

import json
import os
import stat
import tarfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from rebuildx.errors import RegistryError
from rebuildx.explain.limits import ExplainError
from rebuildx.oci.media import INDEX_TYPES, MANIFEST_TYPES, media_type
from rebuildx.registry import (Manifest, Reference, RegistryClient,
                               VerifyingReader, check_digest, file_chunks, parse_reference, read_verified)

MAX_TAR_MEMBERS = 1_000_000


class ImageSource(Protocol):
    """One image store, read-only. `label` names it in every message."""

    label: str

    def roots(self) -> list[dict]:
        """The top-level descriptors: index.json's entries, or the one a registry ref names."""
        ...

    def document(self, desc: dict, cap: int) -> bytes:
        """The verified bytes of a (small) index, manifest or config; refused past `cap`."""
        ...

    def open_blob(self, desc: dict) -> AbstractContextManager[VerifyingReader]:
        """A stream of the blob that raises as soon as it is not what `desc` says."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> ImageSource: ...

    def __exit__(self, *exc: object) -> None: ...


def _descriptor(desc: dict, label: str) -> tuple[str, int | None]:
    digest = desc.get("digest", "") if isinstance(desc, dict) else ""
    try:
        check_digest(digest, label)
    except RegistryError as e:
        raise ExplainError(str(e)) from e
    size = desc.get("size")
    return digest, size if isinstance(size, int) and size >= 0 else None


def _index_entries(data: bytes, label: str) -> list[dict]:
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise ExplainError(f"{label}: index.json is not JSON: {e}") from e
    entries = doc.get("manifests") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not entries or not all(isinstance(d, dict) for d in entries):
        raise ExplainError(f"{label}: index.json lists no manifests")
    return entries


class _Closing:
    """Sources are context managers: `with open_source(spec) as source: …`."""

    def close(self) -> None:
        pass

    def __enter__(self):  # noqa: ANN204 (returns the subclass)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def document(self, desc: dict, cap: int) -> bytes:
        """A small JSON blob (index, manifest, config), read whole and checked."""
        with self.open_blob(desc) as reader:  # type: ignore[attr-defined]
            return read_verified(reader, cap)


class LayoutSource(_Closing):
    """An OCI image layout directory (`out/<stage>-<name>/`, or one written by skopeo)."""

    def __init__(self, path: Path, max_index: int = 4 << 20) -> None:
        self.path, self.label = path, str(path)
        index = path / "index.json"
        if not index.is_file() or index.stat().st_size > max_index:
            raise ExplainError(f"{path}: not an OCI layout (no index.json, or an oversized one)")
        self._roots = _index_entries(index.read_bytes(), self.label)

    def roots(self) -> list[dict]:
        return self._roots

    @contextmanager
    def open_blob(self, desc: dict) -> Iterator[VerifyingReader]:
        digest, size = _descriptor(desc, self.label)
        path = self.path / "blobs" / "sha256" / digest.split(":", 1)[1]
        _regular_blob(path, digest, self.label)
        try:
            f = open(path, "rb")
        except OSError as e:
            raise ExplainError(f"{self.label}: blob {digest} is missing ({e.strerror})") from e
        with f:
            limit = None if size is None else size + 1
            yield VerifyingReader(file_chunks(f, limit), digest, size, self.label, ExplainError)


def _regular_blob(path: Path, digest: str, label: str) -> None:
    """A blob that is a symlink to a device, a FIFO or a directory is named as what it is (it
    would read as nothing, or forever), not reported by the digest of what it gave."""
    try:
        st = path.stat()
    except OSError:
        return  # missing: open() says so
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        via = f"a symlink to {os.readlink(path)}, which is " if path.is_symlink() else ""
        raise ExplainError(f"{label}: blob {digest} is {via}{kind}; refused (a layout's blobs are files)")


class TarballSource(_Closing):
    """A tar of an OCI layout: `docker save` (Docker >= 25), `buildx --output type=oci,tar=true`,
    `skopeo copy … oci-archive:`. Blobs are read in place (the tar is indexed once), never
    unpacked."""

    def __init__(self, path: Path) -> None:
        self.path, self.label = path, str(path)
        self._members = _index_tar(path)
        if "index.json" not in self._members:
            raise ExplainError(f"{path}: no index.json in the tarball: not an OCI archive (a "
                               f"`docker save` from Docker < 25 is not supported; convert it with "
                               f"`skopeo copy docker-archive:IN oci-archive:OUT`)")
        offset, size = self._members["index.json"]
        if size > 4 << 20:
            raise ExplainError(f"{path}: index.json is oversized ({size} bytes)")
        with open(path, "rb") as f:
            f.seek(offset)
            self._roots = _index_entries(f.read(size), self.label)

    def roots(self) -> list[dict]:
        return self._roots

    @contextmanager
    def open_blob(self, desc: dict) -> Iterator[VerifyingReader]:
        digest, size = _descriptor(desc, self.label)
        member = self._members.get(f"blobs/sha256/{digest.split(':', 1)[1]}")
        if member is None:
            raise ExplainError(f"{self.label}: blob {digest} is missing from the tarball")
        offset, length = member
        with open(self.path, "rb") as f:  # one handle per stream: two threads may read at once
            f.seek(offset)
            limit = length if size is None else min(length, size + 1)
            yield VerifyingReader(file_chunks(f, limit), digest, size, self.label, ExplainError)


def _index_tar(path: Path) -> dict[str, tuple[int, int]]:
    """Regular members by normalised name -> (offset of data, size); headers only are read."""
    members: dict[str, tuple[int, int]] = {}
    try:
        with tarfile.open(path, "r:") as tar:
            for n, info in enumerate(iter(tar.next, None)):
                if n > MAX_TAR_MEMBERS:
                    raise ExplainError(f"{path}: more than {MAX_TAR_MEMBERS} tar members; refused")
                if info.isreg():
                    members[info.name.removeprefix("./")] = (info.offset_data, info.size)
                tar.members.clear()  # type: ignore[attr-defined]
    except (tarfile.TarError, OSError, EOFError) as e:
        raise ExplainError(f"{path}: not an uncompressed tar archive ({e}); a compressed one must "
                           f"be decompressed first") from e
    return members


class RegistrySource(_Closing):
    """An image in a registry, named by `host/repo@sha256:…` (or a tag, resolved once)."""

    def __init__(self, ref: str | Reference, client: RegistryClient | None = None) -> None:
        self.ref = parse_reference(ref) if isinstance(ref, str) else ref
        self._own = client is None
        self.client = client or RegistryClient()
        self._manifests: dict[str, Manifest] = {}
        top = self.client.get_manifest(self.ref)
        self._manifests[top.digest] = top
        self.ref = self.ref.with_digest(top.digest) if not self.ref.digest else self.ref
        self.label = str(self.ref)
        self._roots = [{"mediaType": top.media_type, "digest": top.digest, "size": len(top.data)}]

    def roots(self) -> list[dict]:
        return self._roots

    def document(self, desc: dict, cap: int) -> bytes:
        digest, size = _descriptor(desc, self.label)
        if media_type(desc) not in INDEX_TYPES | MANIFEST_TYPES:
            with self.open_blob(desc) as reader:
                return read_verified(reader, cap)
        if digest not in self._manifests:
            self._manifests[digest] = self.client.get_manifest(self.ref, digest)
        data = self._manifests[digest].data
        if size is not None and len(data) != size:
            raise RegistryError(f"{self.label}: manifest {digest} has {len(data)} bytes, its "
                                f"descriptor says {size}; refused")
        return data

    @contextmanager
    def open_blob(self, desc: dict) -> Iterator[VerifyingReader]:
        digest, size = _descriptor(desc, self.label)
        with self.client.open_blob(self.ref, digest, size) as reader:
            yield reader

    def close(self) -> None:
        if self._own:
            self.client.close()


def open_source(spec: str | Path, client: RegistryClient | None = None) -> ImageSource:
    """`spec` is a layout directory, a tarball of one, or a registry reference."""
    path = Path(spec)
    if path.is_dir():
        return LayoutSource(path)
    if path.is_file():
        return TarballSource(path)
    if str(spec).startswith((".", "/")) or str(spec).endswith(".tar"):
        raise ExplainError(f"{spec}: no such layout directory or tarball")
    return RegistrySource(str(spec), client)
