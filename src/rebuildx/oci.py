"""Reading and checking OCI image layouts (`out/<stage>-<name>/`), the unit of a build's output."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from rebuildx.errors import BuildError

_INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}


def blob_path(layout: Path, digest: str) -> Path:
    algo, _, hexpart = digest.partition(":")
    if algo != "sha256" or len(hexpart) != 64 or not all(c in "0123456789abcdef" for c in hexpart):
        raise BuildError(f"{layout}: unsupported or malformed digest {digest!r}")
    return layout / "blobs" / "sha256" / hexpart


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as e:
        raise BuildError(f"{path}: not readable JSON: {e}") from e


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _descriptors(doc: Any, key: str, where: Path) -> list[dict]:
    value = doc.get(key, []) if isinstance(doc, dict) else None
    if not isinstance(value, list) or not all(isinstance(d, dict) and isinstance(d.get("digest"), str)
                                               for d in value):
        raise BuildError(f"{where}: malformed {key!r} (expected a list of descriptors with digests)")
    return value


def check_layout(layout: Path) -> None:
    """Raise BuildError unless `layout` is a complete OCI layout: `oci-layout` and `index.json`
    parse, and every blob reachable from the index exists with its digest and size."""
    if not (layout / "oci-layout").is_file():
        raise BuildError(f"{layout}: no oci-layout file")
    todo = list(_descriptors(read_json(layout / "index.json"), "manifests", layout / "index.json"))
    if not todo:
        raise BuildError(f"{layout}/index.json: no manifests")
    while todo:
        desc = todo.pop()
        path = blob_path(layout, desc["digest"])
        if not path.is_file():
            raise BuildError(f"{layout}: blob {desc['digest']} is missing")
        size = path.stat().st_size
        if size != desc.get("size", size):
            raise BuildError(f"{layout}: blob {desc['digest']} has size {size}, expected {desc['size']}")
        if "sha256:" + sha256_file(path) != desc["digest"]:
            raise BuildError(f"{layout}: blob {desc['digest']} does not match its digest")
        media = desc.get("mediaType", "")
        if media in _INDEX_TYPES or media.endswith("manifest.v1+json") or media.endswith("manifest.v2+json"):
            doc = read_json(path)
            todo.extend(_descriptors(doc, "manifests", path))
            if isinstance(doc, dict) and "config" in doc:
                todo.extend(_descriptors({"c": [doc["config"]]}, "c", path))
            todo.extend(_descriptors(doc, "layers", path))


def manifest_digest(layout: Path) -> str:
    """The package digest StageX publishes (releases from 2025.06.1 on): index.json ->
    nested index -> first manifest, as StageX's `src/digests.py` reads it. A layout pulled by
    manifest digest (index.json naming the manifest itself, as skopeo writes it) gives that."""
    entries = _descriptors(read_json(layout / "index.json"), "manifests", layout / "index.json")
    if not entries:
        raise BuildError(f"{layout}/index.json: no manifests")
    if entries[0].get("mediaType") not in _INDEX_TYPES:
        return entries[0]["digest"]
    path = blob_path(layout, entries[0]["digest"])
    nested = _descriptors(read_json(path), "manifests", path)
    if not nested:
        raise BuildError(f"{layout}: the index does not lead to a nested index with a manifest")
    return nested[0]["digest"]
