"""Published images as build deps: a StageX-shaped out/ entry made from a published manifest.

StageX's out/ entries are index.json -> nested index -> manifest. A published image is known by
its manifest digest; the entry written here holds that manifest, its config and layers byte for
byte (each blob's digest checked), under a nested index naming its platform, so that BuildKit's
`oci-layout://` context and the digest reader both see what they see in a built entry.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from rebuildx.errors import RebuildxError
from rebuildx.oci.image import write_out_entry


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
