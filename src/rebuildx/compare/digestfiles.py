"""`digests/<stage>.txt`, the bytes StageX's `src/digests.py` writes (`make digests`).

One line per out/ entry, `<sha256 hex> <stage>-<name>`, sorted by name within its stage file.
The digest of an entry is read by `oci.digest.entry_digest` under the release's semantics.
Unlike StageX's script, an entry that cannot be read is an error naming it, never silently left
out.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from rebuildx.errors import DigestError, LayoutError
from rebuildx.oci.digest import Semantics, entry_digest, hex_of
from rebuildx.workspace import Workspace


def local_digests(workspace: Workspace, semantics: Semantics = Semantics.MANIFEST) -> dict[str, str]:
    """Full name -> digest for every out/ entry with an index.json (StageX's recursive glob would
    also list an index.json nested inside an entry, a second time; never one rebuildx writes)."""
    if not workspace.out.is_dir():
        return {}
    return {entry.parent.name: _hex_digest(entry.parent, semantics)
            for entry in sorted(workspace.out.glob("*/index.json")) if not entry.parent.name.startswith(".")}


def _hex_digest(layout: Path, semantics: Semantics) -> str:
    try:
        return hex_of(entry_digest(layout, semantics))
    except LayoutError as e:
        raise DigestError(f"out/{layout.name}: cannot read its digest ({semantics.value}): {e}") from e


def damaged_entries(workspace: Workspace, names: Iterable[str],
                    semantics: Semantics = Semantics.MANIFEST) -> dict[str, str]:
    """Of the out/ entries `names`, those whose blobs are not all present and hashing to what the
    index claims, and why: an entry rebuildx did not write is checked in full before its
    index's digest may count (its own entries are checked when built, and keep their stamp)."""
    damaged = {}
    for name in names:
        try:
            entry_digest(workspace.out_entry(name), semantics, check=True)
        except (LayoutError, OSError) as e:
            damaged[name] = f"out/ entry is damaged, so it proves nothing ({e}); rebuild it"
    return damaged


def render_stage_files(digests: Mapping[str, str]) -> dict[str, str]:
    """stage -> file text: lines sorted by name within the stage, as StageX writes them."""
    by_stage: dict[str, list[tuple[str, str]]] = {}
    for full, digest in digests.items():
        stage, _, name = full.partition("-")
        by_stage.setdefault(stage, []).append((name, digest))
    return {stage: "".join(f"{d} {stage}-{n}\n" for n, d in sorted(rows, key=lambda r: r[0]))
            for stage, rows in by_stage.items()}


def write_digests(workspace: Workspace, semantics: Semantics = Semantics.MANIFEST) -> dict[str, Path]:
    """Write `digests/<stage>.txt` for every stage with entries in out/, each file replaced whole
    (written aside, renamed). Unlike `make digests`, which removes the folder first, a stage
    file without entries in out/ is left as it is: it is the published file the checkout
    tracks, and deleting it loses it. Folder and files get the modes `mkdir` and a plain write
    give under the user's umask. Returns the files written ({} when out/ has no entry)."""
    files = render_stage_files(local_digests(workspace, semantics))
    if not files:
        return {}
    try:
        workspace.digests.mkdir(parents=True, exist_ok=True)
        for stage, text in files.items():
            target = workspace.digests / f"{stage}.txt"
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            try:
                tmp.write_text(text)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
    except OSError as e:
        raise DigestError(f"{workspace.digests}: cannot write the digest files ({e.strerror or e})") from e
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
