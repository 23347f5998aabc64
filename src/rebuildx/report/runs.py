"""History across runs, from the ledger's verdict rows (pure).

The ledger records every verdict of one verification in one burst, in id order, under one
release; it has no run id. A run is therefore a maximal stretch of consecutive rows of one
release recorded within `GAP` seconds of each other, in which no package appears twice: two
verifications of a workspace never interleave (they hold its lock), and each takes far longer
than `GAP` to build what it records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

GAP = 60.0


@dataclass(frozen=True)
class VerdictRow:
    release: str
    package: str
    verdict: str
    recorded: float  # seconds since the epoch


@dataclass
class Run:
    release: str
    recorded: float  # when its first verdict was recorded
    last: float  # and its last
    verdicts: dict[str, str] = field(default_factory=dict)  # package -> verdict

    def count(self, verdict: str) -> int:
        return sum(1 for v in self.verdicts.values() if v == verdict)

    @property
    def share(self) -> float | None:
        """MATCH over MATCH + MISMATCH, as the verify report's `reproduced_percent` (None: none compared)."""
        compared = self.count("MATCH") + self.count("MISMATCH")
        return 100.0 * self.count("MATCH") / compared if compared else None


@dataclass(frozen=True)
class PackageHistory:
    package: str
    runs: int  # runs that gave it a verdict
    last_match: float | None  # when it last MATCHed (any release)
    flips: int  # changes between MATCH and MISMATCH from one run to the next, within a release

    @property
    def flaps(self) -> bool:
        """Both MATCH and MISMATCH for the same release's source: its build is not deterministic."""
        return self.flips > 0


def group_runs(rows: Iterable[VerdictRow], gap: float = GAP) -> list[Run]:
    """The ledger's rows (in id order) as runs, oldest first."""
    runs: list[Run] = []
    for row in rows:
        last = runs[-1] if runs else None
        if (last is None or last.release != row.release or row.package in last.verdicts
                or row.recorded - last.last > gap):
            last = Run(row.release, row.recorded, row.recorded)
            runs.append(last)
        last.verdicts[row.package] = row.verdict
        last.last = row.recorded
    return runs


def latest_per_release(runs: Iterable[Run]) -> dict[str, Run]:
    """Each release's latest run that compared at least one package, by release name."""
    out: dict[str, Run] = {}
    for run in runs:
        if run.share is not None:
            out[run.release] = run
    return dict(sorted(out.items()))


def package_histories(runs: Iterable[Run]) -> dict[str, PackageHistory]:
    seen: dict[str, int] = {}
    last_match: dict[str, float] = {}
    flips: dict[str, int] = {}
    previous: dict[tuple[str, str], str] = {}  # (release, package) -> its last MATCH or MISMATCH
    for run in runs:
        for package, verdict in run.verdicts.items():
            seen[package] = seen.get(package, 0) + 1
            if verdict == "MATCH":
                last_match[package] = run.recorded
            if verdict in ("MATCH", "MISMATCH"):
                before = previous.get((run.release, package))
                if before is not None and before != verdict:
                    flips[package] = flips.get(package, 0) + 1
                previous[(run.release, package)] = verdict
    return {p: PackageHistory(p, n, last_match.get(p), flips.get(p, 0)) for p, n in seen.items()}
