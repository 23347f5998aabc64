"""THE digest of an out/ entry: the one reader every step uses (digests, build, compare, verify).

StageX publishes, per package, the digest its `src/digests.py` reads from the entry's
`index.json`: the nested index it names (releases before 2025.06.1, StageX commit 31f3d2b2) or
the first manifest of that nested index (from 2025.06.1 on). A layout whose `index.json` names a
manifest directly (as `skopeo copy` of a manifest writes it) gives that manifest under both.
"""

from __future__ import annotations

import enum
from pathlib import Path

from rebuildx.errors import LayoutError
from rebuildx.oci.layout import blob_path, check_layout, descriptors, read_json
from rebuildx.oci.media import INDEX_TYPES, media_type


class Semantics(enum.Enum):
    """Which descriptor of an entry is its published digest."""

    MANIFEST = "manifest"  # releases from 2025.06.1 on
    INDEX = "index"  # earlier releases


def entry_digest(layout: Path, semantics: Semantics = Semantics.MANIFEST, *, check: bool = False) -> str:
    """`sha256:<hex>` of the entry at `layout`, as StageX reads it; with `check`, every blob the
    index reaches is hashed first, so a MATCH never rests on an index whose blobs were changed.
    Raises LayoutError naming the entry and the field that is wrong."""
    if check:
        check_layout(layout)
    index_path = layout / "index.json"
    entries = descriptors(read_json(index_path), "manifests", index_path)
    if not entries:
        raise LayoutError(f"{index_path}: no manifests")
    first = entries[0]
    if semantics is Semantics.INDEX or media_type(first) not in INDEX_TYPES:
        return _checked(first["digest"], index_path)
    nested_path = blob_path(layout, first["digest"])
    nested = descriptors(read_json(nested_path), "manifests", nested_path)
    if not nested:
        raise LayoutError(f"{layout}: the index does not lead to a nested index with a manifest")
    return _checked(nested[0]["digest"], nested_path)


def _checked(digest: str, where: Path) -> str:
    algo, _, hexpart = digest.partition(":")
    if algo != "sha256" or len(hexpart) != 64 or not all(c in "0123456789abcdef" for c in hexpart):
        raise LayoutError(f"{where}: malformed digest {digest!r}")
    return digest


def hex_of(digest: str) -> str:
    """The hex part of `sha256:<hex>` (digest files hold it bare)."""
    return digest.split(":", 1)[1]
