"""Reading and checking OCI image layouts (`out/<stage>-<name>/`), the unit of a build's output."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from rebuildx.errors import LayoutError
from rebuildx.oci.media import INDEX_TYPES, MANIFEST_TYPES, media_type


def blob_path(layout: Path, digest: str) -> Path:
    algo, _, hexpart = digest.partition(":")
    if algo != "sha256" or len(hexpart) != 64 or not all(c in "0123456789abcdef" for c in hexpart):
        raise LayoutError(f"{layout}: unsupported or malformed digest {digest!r}")
    return layout / "blobs" / "sha256" / hexpart


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as e:
        raise LayoutError(f"{path}: not readable JSON: {e}") from e


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def descriptors(doc: Any, key: str, where: Path) -> list[dict]:
    value = doc.get(key, []) if isinstance(doc, dict) else None
    if not isinstance(value, list) or not all(isinstance(d, dict) and isinstance(d.get("digest"), str)
                                               for d in value):
        raise LayoutError(f"{where}: malformed {key!r} (expected a list of descriptors with digests)")
    return value


def check_layout(layout: Path) -> None:
    """Raise LayoutError unless `layout` is a complete OCI layout: `oci-layout` and `index.json`
    parse, and every blob reachable from the index exists with its digest and size."""
    if not (layout / "oci-layout").is_file():
        raise LayoutError(f"{layout}: no oci-layout file")
    todo = list(descriptors(read_json(layout / "index.json"), "manifests", layout / "index.json"))
    if not todo:
        raise LayoutError(f"{layout}/index.json: no manifests")
    while todo:
        desc = todo.pop()
        path = blob_path(layout, desc["digest"])
        if not path.is_file():
            raise LayoutError(f"{layout}: blob {desc['digest']} is missing")
        size = path.stat().st_size
        if size != desc.get("size", size):
            raise LayoutError(f"{layout}: blob {desc['digest']} has size {size}, expected {desc['size']}")
        if "sha256:" + sha256_file(path) != desc["digest"]:
            raise LayoutError(f"{layout}: blob {desc['digest']} does not match its digest")
        media = media_type(desc)
        if media in INDEX_TYPES or media in MANIFEST_TYPES:
            doc = read_json(path)
            todo.extend(descriptors(doc, "manifests", path))
            if isinstance(doc, dict) and "config" in doc:
                todo.extend(descriptors({"c": [doc["config"]]}, "c", path))
            todo.extend(descriptors(doc, "layers", path))
