"""`pull_layout`: a published image into an OCI image layout, exactly as published.

Every index, manifest, config and layer is stored with the bytes the registry sent, so the
layout has the published digests. Each blob is verified while it streams into a temporary file
and renamed into `blobs/sha256/` only when it is right; the whole layout is written in a
temporary directory beside `dest` and renamed into place only when it is complete, so a reader
of `dest` (BuildKit's `oci-layout://`, rebuildx's own checks) never sees half an image.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

from rebuildx.errors import RegistryError
from rebuildx.oci.media import INDEX_TYPES, MANIFEST_TYPES, OCI_INDEX
from rebuildx.registry.client import Manifest, RegistryClient
from rebuildx.registry.reference import Reference, check_digest, parse_reference

_REF_NAME = "org.opencontainers.image.ref.name"
_FROM_INDEX = "io.rebuildx.pulled-from-index"  # the index a platform's manifest was chosen from


def pull_layout(ref: str | Reference, dest: Path, platform: str | None = None, *,
                client: RegistryClient | None = None, replace: bool = False) -> str:
    """Write the image `ref` (best `host/repo@sha256:…`; a tag is resolved once) as a complete
    OCI layout at `dest`; return the digest `index.json` names.

    Without `platform`, index.json names what `ref` names (an index with every platform's
    manifest and blobs, or a single manifest), as `skopeo copy --all` would write it. With
    `platform` (`linux/amd64`), an index is resolved to that platform's manifest, which
    index.json then names (carrying the index digest in an `io.rebuildx.pulled-from-index`
    annotation), as a single-platform pull writes it. An existing `dest` is an error unless
    `replace`.
    """
    ref = parse_reference(ref) if isinstance(ref, str) else ref
    if dest.exists() and not replace:
        raise RegistryError(f"{dest}: already exists; not pulling {ref} over it")
    own = client is None
    client = client or RegistryClient()
    tmp = dest.parent / f".{dest.name}.pull-{uuid.uuid4().hex[:8]}"
    try:
        (tmp / "blobs" / "sha256").mkdir(parents=True)
        top = client.get_manifest(ref)
        descriptor = _Puller(client, ref, tmp, platform).pull_top(top)
        _write_layout(tmp, descriptor, ref)
        _install(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if own:
            client.close()
    return descriptor["digest"]


class _Puller:
    """Walks index -> manifests -> config and layers, writing each blob once."""

    def __init__(self, client: RegistryClient, ref: Reference, layout: Path, platform: str | None) -> None:
        self.client, self.ref, self.layout, self.platform = client, ref, layout, platform

    def pull_top(self, top: Manifest) -> dict:
        descriptor = {"mediaType": top.media_type, "digest": top.digest, "size": len(top.data)}
        if self.platform is None or not top.is_index:
            self.manifest(top)
            return descriptor
        chosen = _choose_platform(self.ref, top, self.platform)
        child = self.client.get_manifest(self.ref, chosen["digest"])
        _check_descriptor(self.ref, chosen, child)
        if child.is_index:  # a nested index (BuildKit's layouts have one): choose again below it
            return {**self.pull_top(child), "annotations": {_FROM_INDEX: top.digest}}
        self.manifest(child)
        return {**{k: chosen[k] for k in ("mediaType", "digest", "size", "platform") if k in chosen},
                "annotations": {_FROM_INDEX: top.digest}}

    def manifest(self, manifest: Manifest) -> None:
        self._write(manifest.digest, manifest.data)
        doc = manifest.json()
        if manifest.is_index:
            for desc in _descriptors(self.ref, doc, "manifests"):
                if desc.get("mediaType") not in INDEX_TYPES | MANIFEST_TYPES:
                    continue  # not an image (e.g. a signature): kept in the index, not pulled
                child = self.client.get_manifest(self.ref, desc["digest"])
                _check_descriptor(self.ref, desc, child)
                self.manifest(child)
            return
        for desc in [doc.get("config")] + list(_descriptors(self.ref, doc, "layers")):
            if not isinstance(desc, dict):
                raise RegistryError(f"{self.ref}: manifest {manifest.digest} has no config descriptor")
            self.blob(desc)

    def blob(self, desc: dict) -> None:
        digest, size = check_digest(desc.get("digest", ""), str(self.ref)), desc.get("size")
        final = self.layout / "blobs" / "sha256" / digest.split(":", 1)[1]
        if final.exists():
            return
        if not isinstance(size, int) or size < 0:
            raise RegistryError(f"{self.ref}: blob {digest}: descriptor without a valid size")
        part = final.with_name(final.name + ".part")
        with self.client.open_blob(self.ref, digest, size) as stream, open(part, "wb") as out:
            while chunk := stream.read(1 << 20):
                out.write(chunk)
            stream.finish()
            out.flush()
            os.fsync(out.fileno())
        part.rename(final)

    def _write(self, digest: str, data: bytes) -> None:
        (self.layout / "blobs" / "sha256" / digest.split(":", 1)[1]).write_bytes(data)


def _descriptors(ref: Reference, doc: dict, key: str) -> list[dict]:
    items = doc.get(key, [])
    if not isinstance(items, list) or not all(isinstance(d, dict) for d in items):
        raise RegistryError(f"{ref}: manifest field {key!r} is not a list of descriptors")
    for d in items:
        check_digest(d.get("digest", ""), f"{ref}: {key}")
    return items


def _check_descriptor(ref: Reference, desc: dict, got: Manifest) -> None:
    if desc.get("size") is not None and desc["size"] != len(got.data):
        raise RegistryError(f"{ref}: manifest {got.digest} has {len(got.data)} bytes, its "
                            f"descriptor says {desc['size']}; refused")


def platform_matches(platform: dict | None, wanted: str) -> bool:
    """`wanted` is `os/arch[/variant]`; a descriptor without a platform matches nothing."""
    if not isinstance(platform, dict):
        return False
    parts = wanted.split("/")
    have = [platform.get("os"), platform.get("architecture")] + ([platform.get("variant")] if len(parts) > 2 else [])
    return have == parts


def _choose_platform(ref: Reference, index: Manifest, wanted: str) -> dict:
    entries = _descriptors(ref, index.json(), "manifests")
    for desc in entries:
        if platform_matches(desc.get("platform"), wanted):
            return desc
    nested = [d for d in entries if d.get("mediaType") in INDEX_TYPES and "platform" not in d]
    if len(nested) == 1:
        return nested[0]
    have = sorted({"/".join(filter(None, [d.get("platform", {}).get("os"), d.get("platform", {}).get("architecture")]))
                   for d in entries if isinstance(d.get("platform"), dict)})
    raise RegistryError(f"{ref}: index {index.digest} has no {wanted} image (it has: {', '.join(have) or 'none'})")


def _write_layout(layout: Path, descriptor: dict, ref: Reference) -> None:
    if ref.tag:
        descriptor = {**descriptor, "annotations": {**descriptor.get("annotations", {}), _REF_NAME: ref.tag}}
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor]}
    (layout / "index.json").write_text(json.dumps(index, indent=None, separators=(",", ":")))


def _install(tmp: Path, dest: Path) -> None:
    if not dest.exists():
        tmp.rename(dest)
        return
    old = dest.parent / f".{dest.name}.old-{uuid.uuid4().hex[:8]}"
    dest.rename(old)
    tmp.rename(dest)
    shutil.rmtree(old, ignore_errors=True)
