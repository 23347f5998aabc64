"""Chain verification status of a release, from the ledger (pure over its rows)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from rebuildx.graph import Graph


@dataclass
class ReleaseStatus:
    chain_verified: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)  # matched, but a dep in its closure has not
    mismatched: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    gaps: dict[str, list[str]] = field(default_factory=dict)  # matched package -> closure members not matched

    def counts(self) -> dict[str, int]:
        return {k: len(getattr(self, k)) for k in ("chain_verified", "matched", "mismatched", "failed", "unverified")}


def release_status(graph: Graph, names: list[str], latest: Mapping[str, tuple[str, str | None, str]]) -> ReleaseStatus:
    matched = {n for n, (v, _, _) in latest.items() if v == "MATCH"}
    out = ReleaseStatus()
    for name in sorted(names):
        verdict = latest.get(name, ("", None, ""))[0]
        if verdict == "MATCH":
            missing = sorted(graph.closure([name]) - matched)
            if missing:
                out.matched.append(name)
                out.gaps[name] = missing
            else:
                out.chain_verified.append(name)
        elif verdict == "MISMATCH":
            out.mismatched.append(name)
        elif verdict == "FAILED":
            out.failed.append(name)
        else:
            out.unverified.append(name)
    return out
