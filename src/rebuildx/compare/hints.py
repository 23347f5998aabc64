"""Mismatches whose files another release published: a hint at the build command or the engine.

The pure part (which releases published a digest, the sentence) is stagex/history.py; this
reads our out/ entries under both digest semantics and puts the sentence in each MISMATCH's note.
"""

from __future__ import annotations

from dataclasses import replace

from rebuildx.compare.verdicts import Comparison
from rebuildx.errors import RebuildxError
from rebuildx.oci.digest import Semantics, entry_digest
from rebuildx.outcomes import Verdict
from rebuildx.stagex.history import ReleaseDigests, cross_release_hint
from rebuildx.workspace import Workspace


def with_release_hints(comparison: Comparison, workspace: Workspace, history: ReleaseDigests) -> Comparison:
    """The comparison, each MISMATCH whose out/ entry another release published noted so."""
    verdicts = []
    for v in comparison.verdicts:
        if v.verdict is Verdict.MISMATCH and history:
            hint = cross_release_hint(v.package, out_digests(workspace, v.package), history)
            if hint:
                v = replace(v, note=f"{v.note}; {hint}" if v.note else hint)
        verdicts.append(v)
    return Comparison(verdicts)


def out_digests(workspace: Workspace, package: str) -> dict[Semantics, str]:
    """out/<package>'s digest under each semantics (those that can be read)."""
    found = {}
    for semantics in Semantics:
        try:
            found[semantics] = entry_digest(workspace.out_entry(package), semantics)
        except (RebuildxError, OSError):
            pass
    return found
