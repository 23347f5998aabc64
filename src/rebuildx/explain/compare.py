"""Pure comparison: documents, layers and file trees in, `Difference` nodes out (no I/O).

Documents (index, manifest, config) are compared field by field after flattening the JSON
(`history[2].created_by`, `config.Env`); files are paired by path in the final trees and
classified (difference.py). Sizes are compared, but equal sizes never stand for equal content:
content is the sha256 of the bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rebuildx.explain.difference import (CONTENT, FILE_SET, METADATA, TIMESTAMPS, Difference,
                                         count_classes)
from rebuildx.explain.layers import Entry

CONTENT_FIELDS = ("type", "sha256", "size", "linkname", "device")
META_FIELDS = ("mode", "uid", "gid", "uname", "gname")
TIME_KEYS = {"mtime", "pax atime", "pax ctime", "pax LIBARCHIVE.creationtime"}


def flatten(doc: Any, prefix: str = "") -> dict[str, str]:
    """JSON -> {dotted path: JSON text of the value}; lists of objects are walked by index,
    other lists are one value (an Env list is compared whole)."""
    if isinstance(doc, dict):
        out: dict[str, str] = {}
        for key in sorted(doc):
            out.update(flatten(doc[key], f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(doc, list) and doc and all(isinstance(x, dict) for x in doc):
        out = {}
        for i, item in enumerate(doc):
            out.update(flatten(item, f"{prefix}[{i}]"))
        return out
    return {prefix: json.dumps(doc, sort_keys=True)}


def field_differences(published: dict[str, str], local: dict[str, str]) -> list[Difference]:
    return [Difference("field", key, published.get(key), local.get(key))
            for key in sorted(published.keys() | local.keys()) if published.get(key) != local.get(key)]


def compare_documents(kind: str, published: tuple[str, Any], local: tuple[str, Any]) -> Difference | None:
    """Two (digest, parsed JSON) documents; None when the digests are equal."""
    if published[0] == local[0]:
        return None
    node = Difference(kind, kind, published[0], local[0])
    node.children = field_differences(flatten(published[1]), flatten(local[1]))
    if not node.children:
        node.comments.append("same fields and values, other bytes (key order or whitespace)")
    return node


@dataclass(frozen=True)
class LayerFacts:
    """One layer as the manifest, the config and the stream describe it."""

    descriptor: dict
    config_diff_id: str | None
    diff_id: str
    size: int
    compression: str
    entries: int
    notes: tuple[str, ...] = ()

    def fields(self) -> dict[str, str]:
        return {"digest": str(self.descriptor.get("digest")), "size": str(self.descriptor.get("size")),
                "mediaType": str(self.descriptor.get("mediaType")), "diff_id": self.diff_id,
                "uncompressed size": str(self.size), "compression": self.compression,
                "entries": str(self.entries)}


def compare_layers(published: Sequence[LayerFacts], local: Sequence[LayerFacts]) -> Difference | None:
    """Layers paired by position; None when all compressed digests are equal."""
    node = Difference("layers", "layers", f"{len(published)} layers", f"{len(local)} layers")
    for i in range(max(len(published), len(local))):
        p = published[i] if i < len(published) else None
        q = local[i] if i < len(local) else None
        child = _layer(i, p, q)
        if child is not None:
            node.children.append(child)
    for side, facts in (("published", published), ("local", local)):
        for i, f in enumerate(facts):
            if f.config_diff_id is not None and f.config_diff_id != f.diff_id:
                node.comments.append(f"{side} layer {i + 1}: the config's diff_id {f.config_diff_id} is "
                                     f"not the layer's uncompressed digest {f.diff_id}")
            node.comments.extend(f"{side} layer {i + 1}: {n}" for n in f.notes)
    return node if node.children or node.comments else None


def _layer(i: int, p: LayerFacts | None, q: LayerFacts | None) -> Difference | None:
    pd = p.descriptor.get("digest") if p else None
    qd = q.descriptor.get("digest") if q else None
    if pd == qd:
        return None
    node = Difference("layer", f"layer {i + 1}", pd, qd)
    node.children = field_differences(p.fields() if p else {}, q.fields() if q else {})
    if p and q:
        node.classification = "compression only" if p.diff_id == q.diff_id else "content"
    return node


def _entry_fields(e: Entry) -> dict[str, str]:
    out = {"type": e.type, "sha256": e.sha256 or "", "size": str(e.size), "linkname": e.linkname,
           "device": f"{e.device[0]}:{e.device[1]}" if e.device else "", "mode": f"{e.mode:04o}",
           "uid": str(e.uid), "gid": str(e.gid), "uname": e.uname, "gname": e.gname,
           "mtime": f"{e.mtime:g}"}
    out.update({f"pax {k}": v for k, v in e.pax})
    return {k: v for k, v in out.items() if v != ""}


def describe(e: Entry) -> str:
    """A one-line summary of an entry, for a side of a file difference."""
    what = {"file": f"file {e.size} B", "symlink": f"symlink -> {e.linkname}",
            "hardlink": f"hardlink -> {e.linkname}"}.get(e.type, e.type)
    return f"{what}, {e.mode:04o} {e.uid}:{e.gid}, layer {e.layer + 1}"


def classify(fields: list[Difference]) -> str:
    names = {f.name for f in fields}
    if names & set(CONTENT_FIELDS):
        return CONTENT
    if names <= TIME_KEYS:
        return TIMESTAMPS
    return METADATA


def compare_file(path: str, p: Entry | None, q: Entry | None) -> Difference | None:
    if p is None or q is None:
        node = Difference("file", path, describe(p) if p else None, describe(q) if q else None, FILE_SET)
    else:
        fields = field_differences(_entry_fields(p), _entry_fields(q))
        if not fields:
            return None
        node = Difference("file", path, describe(p), describe(q), classify(fields), children=fields)
    for side, e in (("published", p), ("local", q)):
        node.comments.extend(f"{side}: {n}" for n in (e.notes if e else ()))
    return node


def compare_trees(published: dict[str, Entry], local: dict[str, Entry]) -> Difference | None:
    """Every path whose final entry differs, sorted by path; None when the trees are equal."""
    files = [d for path in sorted(published.keys() | local.keys())
             if (d := compare_file(path, published.get(path), local.get(path))) is not None]
    if not files:
        return None
    node = Difference("files", "files", f"{len(published)} entries", f"{len(local)} entries",
                      children=files)
    node.counts = count_classes(files)
    return node
