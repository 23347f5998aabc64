"""Writing an out/ entry from an image's blobs: StageX's shape (index.json -> nested index ->
manifest), each blob's digest checked as it is copied, so that BuildKit's `oci-layout://` context
and the entry-digest reader see what they see in a built entry."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from rebuildx.errors import LayoutError
from rebuildx.oci.layout import check_layout
from rebuildx.oci.media import OCI_INDEX, OCI_MANIFEST

# digest ("sha256:…") -> the blob's bytes, or a path to them; must raise LayoutError if absent
BlobGetter = Callable[[str], Path]


def _put(dest: Path, data: bytes) -> dict:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (dest / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
    return {"digest": digest, "size": len(data)}


def write_out_entry(dest: Path, manifest_digest: str, get_blob: BlobGetter, name: str) -> None:
    """Write `dest` as an out/ entry holding the image whose manifest is `manifest_digest`."""
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    _copy_checked(get_blob(manifest_digest), manifest_digest, blobs)
    manifest_bytes = (blobs / manifest_digest.split(":")[1]).read_bytes()
    if len(manifest_bytes) > 4 << 20:
        raise LayoutError(f"{name}: manifest {manifest_digest} is larger than 4 MiB; refused")
    manifest = json.loads(manifest_bytes)
    for desc in [manifest["config"], *manifest.get("layers", [])]:
        _copy_checked(get_blob(desc["digest"]), desc["digest"], blobs)
    config = json.loads((blobs / manifest["config"]["digest"].split(":")[1]).read_bytes())
    platform = {"architecture": config.get("architecture", "amd64"), "os": config.get("os", "linux")}
    nested = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [{
        "mediaType": manifest.get("mediaType", OCI_MANIFEST), "digest": manifest_digest,
        "size": len(manifest_bytes), "platform": platform}]}
    ref = _put(dest, json.dumps(nested, indent=2).encode())
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [{
        "mediaType": OCI_INDEX, **ref, "annotations": {"org.opencontainers.image.ref.name": "latest",
                                                   "io.containerd.image.name": f"docker.io/stagex/{name}:latest"}}]}
    (dest / "index.json").write_text(json.dumps(index))
    (dest / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    check_layout(dest)


def _copy_checked(src: Path, digest: str, blobs: Path) -> None:
    target = blobs / digest.split(":")[1]
    h = hashlib.sha256()
    with open(src, "rb") as fin, open(target, "wb") as fout:
        while chunk := fin.read(1 << 20):
            h.update(chunk)
            fout.write(chunk)
    if "sha256:" + h.hexdigest() != digest:
        target.unlink()
        raise LayoutError(f"{src}: blob does not match its digest {digest} (got sha256:{h.hexdigest()})")
