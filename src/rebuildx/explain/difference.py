"""The result of explain: a tree of differences, image -> index, manifest, config, layers, files.

As in diffoscope, comparison builds this one tree and presenters (present.py) only render it; a
JSON document of it (`to_json`, with a format version) reads back (`from_json`) into an equal
tree, so a report can be rendered again later or elsewhere (a support bundle).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

FORMAT = "rebuildx-explain"
FORMAT_VERSION = 1

# What a differing file's difference is; the first that applies, in this order.
FILE_SET = "file set"  # on one side only
CONTENT = "content"  # bytes, link target, type or device differ
METADATA = "metadata only"  # mode, owner, xattrs/PAX records differ; content equal
TIMESTAMPS = "timestamps only"  # only mtime/atime/ctime differ
FILE_CLASSES = (CONTENT, FILE_SET, METADATA, TIMESTAMPS)

# What an image's difference amounts to, when no file differs.
LAYER_SPLIT = "layer split only"  # same final file tree, other layers
COMPRESSION = "compression only"  # same uncompressed layers, other compressed bytes
CONFIG_ONLY = "config only"
MANIFEST_ONLY = "manifest only"
IDENTICAL = "identical"


@dataclass
class Difference:
    """One node: what differs between `published` and `local`, with the details below it.

    `kind` is image, index, manifest, config, layers, layer, files, file or field. A field's
    `published`/`local` are the two values (None: absent on that side).
    """

    kind: str
    name: str
    published: str | None = None
    local: str | None = None
    classification: str | None = None
    comments: list[str] = field(default_factory=list)
    children: list[Difference] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # files per classification (image, files)
    detail: str | None = None  # a tool's diff (diffoscope), as text
    omitted: int = 0  # children left out of this tree (a JSON document cut at --max-files)

    def child(self, kind: str) -> Difference | None:
        return next((c for c in self.children if c.kind == kind), None)

    def walk(self) -> Iterator[Difference]:
        yield self
        for c in self.children:
            yield from c.walk()

    def files(self) -> list[Difference]:
        node = self.child("files")
        return node.children if node else []

    @property
    def identical(self) -> bool:
        return self.classification == IDENTICAL


def count_classes(files: list[Difference]) -> dict[str, int]:
    counts = Counter(f.classification for f in files)
    return {c: counts[c] for c in FILE_CLASSES if counts[c]}


def to_json(diff: Difference, max_files: int | None = None) -> dict[str, Any]:
    """The versioned JSON document; with `max_files`, the files node keeps the first ones (its
    `counts` still count them all)."""
    return {"format": FORMAT, "version": FORMAT_VERSION, "difference": _node(diff, max_files)}


def _node(d: Difference, max_files: int | None) -> dict[str, Any]:
    children, omitted = d.children, d.omitted
    out: dict[str, Any] = {"kind": d.kind, "name": d.name}
    if d.kind == "files" and max_files is not None and len(children) > max_files:
        children, omitted = children[:max_files], omitted + len(children) - max_files
    if omitted:
        out["omitted"] = omitted
    for key in ("published", "local", "classification", "detail"):
        if getattr(d, key) is not None:
            out[key] = getattr(d, key)
    if d.comments:
        out["comments"] = list(d.comments)
    if d.counts:
        out["counts"] = dict(d.counts)
    if children:
        out["children"] = [_node(c, max_files) for c in children]
    return out


def from_json(doc: dict[str, Any]) -> Difference:
    """A tree from `to_json`'s document; refuses other formats and newer versions."""
    if doc.get("format") != FORMAT or not isinstance(doc.get("version"), int):
        raise ValueError("not a rebuildx explain document")
    if doc["version"] > FORMAT_VERSION:
        raise ValueError(f"explain document version {doc['version']} is newer than this "
                         f"rebuildx reads ({FORMAT_VERSION})")
    return _read(doc["difference"])


def _read(n: dict[str, Any]) -> Difference:
    d = Difference(n["kind"], n["name"], n.get("published"), n.get("local"), n.get("classification"),
                   list(n.get("comments", [])), [_read(c) for c in n.get("children", [])],
                   dict(n.get("counts", {})), n.get("detail"), int(n.get("omitted", 0)))
    return d
