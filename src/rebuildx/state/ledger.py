"""The ledger: every verdict per release, and the chain verification status it gives."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from rebuildx.outcomes import Verdict
from rebuildx.stagex.graph import Graph
from rebuildx.state.db import connect, unusable
from rebuildx.workspace import Workspace


class Ledger:
    """Every verdict a verification reached, per release. A package is *chain-verified* when it
    and every package in its closure have MATCHed (closure or published-deps mode): by induction
    from the seed, its published image is then what its source produces."""

    def __init__(self, workspace: Workspace) -> None:
        self._conn = connect(workspace)
        self._path = workspace.state_dir / "state.sqlite"
        self._lock = threading.Lock()

    def record(self, release: str, package: str, verdict: Verdict, local: str | None,
               published: str | None, deps_from: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO verdicts (release, package, verdict, local, published, deps_from, recorded)"
                " VALUES (?,?,?,?,?,?,?)", (release, package, verdict.value, local, published, deps_from, time.time()))

    def latest(self, release: str) -> dict[str, tuple[Verdict, str | None, str]]:
        """package -> (verdict, published digest, deps_from) of its latest verdict for `release`."""
        with self._lock:
            rows = self._conn.execute("SELECT package, verdict, published, deps_from FROM verdicts "
                                      "WHERE release = ? ORDER BY id", (release,)).fetchall()
        try:
            return {p: (Verdict(v), d, f) for p, v, d, f in rows}
        except ValueError as e:  # a verdict written by a newer (or another) program
            raise unusable(self._path, e) from e

    def rows(self) -> list[tuple[str, str, str, float]]:
        """Every verdict ever recorded, oldest first: (release, package, verdict, recorded)."""
        with self._lock:
            return self._conn.execute("SELECT release, package, verdict, recorded FROM verdicts ORDER BY id").fetchall()


@dataclass
class ReleaseStatus:
    chain_verified: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)  # matched, but a dep in its closure has not
    mismatched: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unstable: list[str] = field(default_factory=list)  # two builds differ (--rounds 2): never chain-verified
    unverified: list[str] = field(default_factory=list)
    gaps: dict[str, list[str]] = field(default_factory=dict)  # matched package -> closure members not matched

    def counts(self) -> dict[str, int]:
        return {k: len(getattr(self, k)) for k in ("chain_verified", "matched", "mismatched", "failed", "unstable",
                                                      "unverified")}


def release_status(graph: Graph, names: list[str], latest: Mapping[str, tuple[Verdict, str | None, str]]) -> ReleaseStatus:
    matched = {n for n, (v, _, _) in latest.items() if v is Verdict.MATCH}
    out = ReleaseStatus()
    for name in sorted(names):
        verdict = latest[name][0] if name in latest else None
        if verdict is Verdict.MATCH:
            missing = sorted(graph.closure([name]) - matched)
            if missing:
                out.matched.append(name)
                out.gaps[name] = missing
            else:
                out.chain_verified.append(name)
        elif verdict is Verdict.MISMATCH:
            out.mismatched.append(name)
        elif verdict is Verdict.UNSTABLE:
            out.unstable.append(name)
        elif verdict is Verdict.FAILED:
            out.failed.append(name)
        else:
            out.unverified.append(name)
    return out
