"""Test-side readers of OCI layouts, written from the OCI image spec (independent of rebuildx)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path


def _blob(layout: Path, digest: str) -> Path:
    return layout / "blobs" / "sha256" / digest.split(":", 1)[1]


def manifest(layout: Path) -> dict:
    index = json.loads((layout / "index.json").read_text())
    desc = index["manifests"][0]
    doc = json.loads(_blob(layout, desc["digest"]).read_text())
    while "manifests" in doc:
        doc = json.loads(_blob(layout, doc["manifests"][0]["digest"]).read_text())
    return doc


def files(layout: Path) -> dict[str, tarfile.TarInfo]:
    """Every path in the image's layers (later layers win), without the leading './'."""
    out: dict[str, tarfile.TarInfo] = {}
    for layer in manifest(layout)["layers"]:
        with tarfile.open(_blob(layout, layer["digest"]), "r:*") as tar:
            for info in tar:
                out[info.name.lstrip("./")] = info
    return out


def read_file(layout: Path, path: str) -> bytes:
    for layer in reversed(manifest(layout)["layers"]):
        with tarfile.open(_blob(layout, layer["digest"]), "r:*") as tar:
            for info in tar:
                if info.name.lstrip("./") == path and info.isfile():
                    f = tar.extractfile(info)
                    assert f is not None
                    return f.read()
    raise FileNotFoundError(path)
