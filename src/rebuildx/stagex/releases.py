"""What changes from one StageX release to the next, chosen by the release's name."""

from __future__ import annotations

from rebuildx.oci.digest import Semantics
from rebuildx.stagex.model import release_tuple


def digest_semantics(release: str | None) -> Semantics:
    """The digest StageX's digest files hold: the nested index before 2025.06.1 (StageX commit
    31f3d2b2 changed it), the manifest from then on; a tree of unknown release, the newest."""
    if release is None:
        return Semantics.MANIFEST
    return Semantics.MANIFEST if release_tuple(release) >= (2025, 6, 1) else Semantics.INDEX


def release_minimum(release: str | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Docker and buildx versions StageX's src/compat.sh asks for: 29.1.5 / 0.30.1 since
    2026.01.0, 26.0.0 / 0.13 before."""
    if release is None or release_tuple(release)[:2] >= (2026, 1):
        return (29, 1, 5), (0, 30, 1)
    return (26, 0, 0), (0, 13, 0)
