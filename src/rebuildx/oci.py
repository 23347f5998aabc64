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


def check_layout(layout: Path) -> None:
    """Raise BuildError unless `layout` is a complete OCI layout: `oci-layout` and `index.json`
    parse, and every blob reachable from the index exists with its digest and size."""
    if not (layout / "oci-layout").is_file():
        raise BuildError(f"{layout}: no oci-layout file")
    index = read_json(layout / "index.json")
    todo = list(index.get("manifests", []))
    if not todo:
        raise BuildError(f"{layout}/index.json: no manifests")
    while todo:
        desc = todo.pop()
        path = blob_path(layout, desc["digest"])
        if not path.is_file():
            raise BuildError(f"{layout}: blob {desc['digest']} is missing")
        if path.stat().st_size != desc.get("size", path.stat().st_size):
            raise BuildError(f"{layout}: blob {desc['digest']} has size {path.stat().st_size}, "
                             f"expected {desc['size']}")
        if "sha256:" + sha256_file(path) != desc["digest"]:
            raise BuildError(f"{layout}: blob {desc['digest']} does not match its digest")
        media = desc.get("mediaType", "")
        if media in _INDEX_TYPES or media.endswith("manifest.v1+json") or media.endswith("manifest.v2+json"):
            doc = read_json(path)
            todo.extend(doc.get("manifests", []))
            if "config" in doc:
                todo.append(doc["config"])
            todo.extend(doc.get("layers", []))


def manifest_digest(layout: Path) -> str:
    """The package digest StageX publishes (releases from 2025.06.1 on): index.json ->
    nested index -> first manifest, as StageX's `src/digests.py` reads it. A layout pulled by
    manifest digest (index.json naming the manifest itself, as skopeo writes it) gives that."""
    index = read_json(layout / "index.json")
    first = index["manifests"][0]
    if first.get("mediaType") not in _INDEX_TYPES:
        return first["digest"]
    nested = read_json(blob_path(layout, first["digest"]))
    try:
        return nested["manifests"][0]["digest"]
    except (KeyError, IndexError, TypeError) as e:
        raise BuildError(f"{layout}: the index does not lead to a nested index with a manifest") from e
