"""`digests/<stage>.txt`, the bytes StageX's `src/digests.py` writes (`make digests`).

One line per out/ entry, `<sha256 hex> <stage>-<name>`, sorted by name within its stage file.
The digest of an entry is the manifest digest reached from `index.json` (index -> nested index
-> manifest) for releases from 2025.06.1 on, and the digest index.json names (the nested index)
before: StageX changed this in its commit 31f3d2b2. Unlike StageX's script, an entry that cannot
be read is an error naming it, never silently left out.
"""

from __future__ import annotations

import enum
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from rebuildx.errors import RebuildxError
from rebuildx.model import release_tuple
from rebuildx.oci import blob_path, read_json
from rebuildx.workspace import Workspace



class DigestError(RebuildxError):
    """An out/ entry or a digest file that cannot be read."""


class Semantics(enum.Enum):
    MANIFEST = "manifest"  # releases from 2025.06.1 on
    INDEX = "index"  # earlier releases

    @classmethod
    def for_release(cls, release: str | None) -> Semantics:
        if release is None:
            return cls.MANIFEST
        return cls.MANIFEST if release_tuple(release) >= (2025, 6, 1) else cls.INDEX


def entry_digest(layout: Path, semantics: Semantics = Semantics.MANIFEST) -> str:
    """The published digest of one out/ entry, as 64 hex characters."""
    try:
        index = read_json(layout / "index.json")
        first = index["manifests"][0]["digest"]
        if semantics is Semantics.INDEX:
            return first.split(":", 1)[1]
        nested = read_json(blob_path(layout, first))
        return nested["manifests"][0]["digest"].split(":", 1)[1]
    except (RebuildxError, KeyError, IndexError, TypeError, AttributeError) as e:
        raise DigestError(f"out/{layout.name}: cannot read its digest "
                          f"({'index -> nested index -> manifest' if semantics is Semantics.MANIFEST else 'index'}): {e}") from e


def local_digests(workspace: Workspace, semantics: Semantics = Semantics.MANIFEST) -> dict[str, str]:
    """Full name -> digest for every out/ entry with an index.json (StageX's recursive glob would
    also list an index.json nested inside an entry, a second time; never one rebuildx writes)."""
    if not workspace.out.is_dir():
        return {}
    return {entry.parent.name: entry_digest(entry.parent, semantics)
            for entry in sorted(workspace.out.glob("*/index.json")) if not entry.parent.name.startswith(".")}


def render_stage_files(digests: Mapping[str, str]) -> dict[str, str]:
    """stage -> file text: lines sorted by name within the stage, as StageX writes them."""
    by_stage: dict[str, list[tuple[str, str]]] = {}
    for full, digest in digests.items():
        stage, _, name = full.partition("-")
        by_stage.setdefault(stage, []).append((name, digest))
    return {stage: "".join(f"{d} {stage}-{n}\n" for n, d in sorted(rows, key=lambda r: r[0]))
            for stage, rows in by_stage.items()}


def write_digests(workspace: Workspace, semantics: Semantics = Semantics.MANIFEST) -> dict[str, Path]:
    """Replace digests/ with one file per stage, like `make digests` (which removes the folder
    first); the new folder is written aside and swapped in whole."""
    files = render_stage_files(local_digests(workspace, semantics))
    workspace.root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".digests-", dir=workspace.root))
    for stage, text in files.items():
        (staging / f"{stage}.txt").write_text(text)
    old = workspace.root / ".digests-old"
    shutil.rmtree(old, ignore_errors=True)
    if workspace.digests.exists():
        workspace.digests.rename(old)
    staging.rename(workspace.digests)
    shutil.rmtree(old, ignore_errors=True)
    return {stage: workspace.digests / f"{stage}.txt" for stage in files}


def parse_digest_file(text: str, origin: str) -> dict[str, str]:
    """`<64 hex> <stage>-<name>` lines -> {full name: digest}; anything else names its line."""
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(" ", 1)  # as written: "<hex> <stage>-<name>", a name may hold spaces
        if len(parts) != 2 or not re.fullmatch(r"[0-9a-f]{64}", parts[0]) or "-" not in parts[1]:
            raise DigestError(f"{origin}:{number}: not a digest line ('<sha256 hex> <stage>-<name>'): {line[:80]!r}")
        if parts[1] in out and out[parts[1]] != parts[0]:
            raise DigestError(f"{origin}:{number}: {parts[1]} listed twice with different digests")
        out[parts[1]] = parts[0]
    return out
