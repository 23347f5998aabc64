"""The file tree an image's layers add up to, whiteouts applied (pure: no I/O).

OCI image spec, layer.md ("Whiteouts"): `.wh.<name>` in a layer removes `<name>` (and all below
it) from the layers beneath; `.wh..wh..opq` in a directory removes everything the layers
beneath put in that directory. Whiteouts act on lower layers only, so a layer's removals are
applied before its own entries. A non-directory replacing a directory hides what was below it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from rebuildx.explain.layers import Entry

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


def _below(path: str, prefixes: set[str]) -> bool:
    while path != ".":
        path = posixpath.dirname(path) or "."
        if path in prefixes:
            return True
    return False


def _remove_under(tree: dict[str, Entry], prefixes: set[str], *, keep_self: bool) -> None:
    """Drop every path below any of `prefixes` (and each prefix itself unless `keep_self`)."""
    if prefixes:
        for path in [p for p in tree if p != "." and ((not keep_self and p in prefixes) or _below(p, prefixes))]:
            del tree[path]


def apply_layer(tree: dict[str, Entry], entries: Iterable[Entry]) -> None:
    """Lay one layer's entries over `tree` (path -> final entry), in place."""
    entries = list(entries)
    opaque, removed = set(), set()
    for e in entries:
        parent, base = posixpath.split(e.path)
        parent = parent or "."
        if base == OPAQUE:
            opaque.add(parent)
        elif base.startswith(WHITEOUT):
            removed.add(posixpath.join(parent, base[len(WHITEOUT):]) if parent != "." else base[len(WHITEOUT):])
    _remove_under(tree, opaque, keep_self=True)
    _remove_under(tree, removed, keep_self=False)
    replaced_dirs = set()
    for e in entries:
        if posixpath.basename(e.path).startswith(WHITEOUT):
            continue
        old = tree.get(e.path)
        if old is not None and old.type == "dir" and e.type != "dir":
            replaced_dirs.add(e.path)
        tree[e.path] = e
    _remove_under(tree, replaced_dirs, keep_self=True)


def final_tree(layers: Iterable[Iterable[Entry]]) -> dict[str, Entry]:
    """Path -> the entry a container would see, from the bottom layer up."""
    tree: dict[str, Entry] = {}
    for entries in layers:
        apply_layer(tree, entries)
    return tree
