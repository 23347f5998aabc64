"""Published images as build deps: a StageX-shaped out/ entry made from a published manifest.

StageX's out/ entries are index.json -> nested index -> manifest. A published image is known by
its manifest digest; the entry written here holds that manifest, its config and layers byte for
byte (each blob's digest checked), under a nested index naming its platform, so that BuildKit's
`oci-layout://` context and the digest reader both see what they see in a built entry.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

from rebuildx.errors import RebuildxError
from rebuildx.oci import check_layout

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"

# digest ("sha256:…") -> the blob's bytes, or a path to them; must raise RebuildxError if absent
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
        raise RebuildxError(f"{name}: manifest {manifest_digest} is larger than 4 MiB; refused")
    manifest = json.loads(manifest_bytes)
    for desc in [manifest["config"], *manifest.get("layers", [])]:
        _copy_checked(get_blob(desc["digest"]), desc["digest"], blobs)
    config = json.loads((blobs / manifest["config"]["digest"].split(":")[1]).read_bytes())
    platform = {"architecture": config.get("architecture", "amd64"), "os": config.get("os", "linux")}
    nested = {"schemaVersion": 2, "mediaType": INDEX, "manifests": [{
        "mediaType": manifest.get("mediaType", MANIFEST), "digest": manifest_digest,
        "size": len(manifest_bytes), "platform": platform}]}
    ref = _put(dest, json.dumps(nested, indent=2).encode())
    index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": [{
        "mediaType": INDEX, **ref, "annotations": {"org.opencontainers.image.ref.name": "latest",
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
        raise RebuildxError(f"{src}: blob does not match its digest {digest} (got sha256:{h.hexdigest()})")


def from_layout_dir(root: Path) -> Callable[[str, str, Path], None]:
    """Deps from a local directory of OCI layouts (`<root>/<full-name>/`, or one layout at `root`
    holding many images): blobs are looked up by digest, so any layout holding them will do."""

    def obtain(name: str, digest_hex: str, dest: Path) -> None:
        candidates = [root / name, root]

        def get(digest: str) -> Path:
            for layout in candidates:
                path = layout / "blobs" / "sha256" / digest.split(":")[1]
                if path.is_file():
                    return path
            raise RebuildxError(f"{root}: no blob {digest} for {name} (looked in {name}/ and the top layout)")

        shutil.rmtree(dest, ignore_errors=True)
        write_out_entry(dest, f"sha256:{digest_hex}", get, name)

    return obtain


def from_registry(prefix: str) -> Callable[[str, str, Path], None]:
    """Deps pulled from an OCI registry (`docker.io/stagex`, `127.0.0.1:5000/stagex`, …) by the
    manifest digest of the release's digest files; every blob is checked as it streams."""
    from rebuildx.registry import pull_layout

    def obtain(name: str, digest_hex: str, dest: Path) -> None:
        pulled = dest.with_name(dest.name + ".pulled")
        shutil.rmtree(pulled, ignore_errors=True)
        try:
            pull_layout(f"{prefix.rstrip('/')}/{name}@sha256:{digest_hex}", pulled)
            from_layout_dir(pulled)(name, digest_hex, dest)
        finally:
            shutil.rmtree(pulled, ignore_errors=True)

    return obtain


def dep_source(spec: str) -> Callable[[str, str, Path], None]:
    """A directory of OCI layouts if `spec` is one, else a registry prefix."""
    return from_layout_dir(Path(spec)) if Path(spec).is_dir() else from_registry(spec)
