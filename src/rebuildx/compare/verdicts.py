"""Verdicts: local digests against published ones, one per package (pure).

Built-but-different (MISMATCH) is never confused with did-not-build (FAILED) or not-there
(NOT_BUILT, UNPUBLISHED), as in rebuilderd. Exit codes (exitcodes.py): 0 every selected
package MATCHes, 3 a MISMATCH, 4 a FAILED build, 5 packages not built or not published (nothing
worse), 6 nothing to compare, 7 an UNSTABLE package (and no MISMATCH); errors are 1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

from rebuildx.exitcodes import DIFFERS as EXIT_MISMATCH
from rebuildx.exitcodes import FAILED as EXIT_FAILED
from rebuildx.exitcodes import INCOMPLETE as EXIT_INCOMPLETE
from rebuildx.exitcodes import NOTHING as EXIT_NOTHING
from rebuildx.exitcodes import UNSTABLE as EXIT_UNSTABLE
from rebuildx.outcomes import Verdict

__all__ = ["Comparison", "PackageVerdict", "Verdict", "compare", "mark_unstable"]


@dataclass(frozen=True)
class PackageVerdict:
    package: str
    verdict: Verdict
    local: str | None
    published: str | None
    deps_from: str = "built"  # how its deps were obtained: built here, or published images
    note: str | None = None

    def to_json(self) -> dict:
        d = asdict(self)
        d["verdict"] = self.verdict.value
        return d


@dataclass
class Comparison:
    verdicts: list[PackageVerdict] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        c = Counter(v.verdict.value for v in self.verdicts)
        return {v.value: c.get(v.value, 0) for v in Verdict}

    def summary(self) -> dict:
        c = self.counts()
        built = c["MATCH"] + c["MISMATCH"] + c["UNPUBLISHED"] + c["UNSTABLE"]
        compared = c["MATCH"] + c["MISMATCH"] + c["UNSTABLE"]  # UNSTABLE: compared, not reproducible
        return {**c, "total": len(self.verdicts), "built": built,
                "reproduced_percent": round(100.0 * c["MATCH"] / compared, 1) if compared else None}

    @property
    def exit_code(self) -> int:
        c = self.counts()
        if c["NOT_BUILT"] == len(self.verdicts):  # also when there are no verdicts at all
            return EXIT_NOTHING
        if c["MISMATCH"]:
            return EXIT_MISMATCH
        if c["UNSTABLE"]:
            return EXIT_UNSTABLE
        if c["FAILED"]:
            return EXIT_FAILED
        if c["NOT_BUILT"] or c["UNPUBLISHED"]:
            return EXIT_INCOMPLETE
        return 0

    def to_json(self) -> dict:
        return {"format": 1, "verdicts": [v.to_json() for v in self.verdicts], "summary": self.summary()}


def compare(names: Iterable[str], local: Mapping[str, str], published: Mapping[str, str],
            failed: Mapping[str, str] | None = None, deps_from: str = "built",
            not_ours: Mapping[str, str] | None = None) -> Comparison:
    """A verdict for each name. `failed` maps packages whose latest build failed to its error;
    `not_ours` maps local entries rebuildx did not build here to why: they prove nothing, so they
    are NOT_BUILT, never MATCH."""
    failed, not_ours = failed or {}, not_ours or {}
    out = Comparison()
    for name in names:
        mine, theirs = local.get(name), published.get(name)
        if name in not_ours and name not in failed:
            out.verdicts.append(PackageVerdict(name, Verdict.NOT_BUILT, None, theirs, deps_from, not_ours[name]))
        elif name in failed:
            out.verdicts.append(PackageVerdict(name, Verdict.FAILED, None, theirs, deps_from, failed[name]))
        elif mine is None:
            out.verdicts.append(PackageVerdict(name, Verdict.NOT_BUILT, None, theirs, deps_from))
        elif theirs is None:
            out.verdicts.append(PackageVerdict(name, Verdict.UNPUBLISHED, mine, None, deps_from))
        else:
            verdict = Verdict.MATCH if mine == theirs else Verdict.MISMATCH
            out.verdicts.append(PackageVerdict(name, verdict, mine, theirs, deps_from))
    return out


def mark_unstable(comparison: Comparison, notes: Mapping[str, str]) -> Comparison:
    """The comparison with each package of `notes` (its rounds differ) UNSTABLE. Its note keeps
    what the first round says against the published digest; a package that failed or was not
    built keeps its verdict (there was nothing to compare twice)."""
    said = {Verdict.MATCH: "round 1 matches the published digest",
            Verdict.MISMATCH: "round 1 differs from the published digest",
            Verdict.UNPUBLISHED: "not published"}
    out = Comparison()
    for v in comparison.verdicts:
        if v.package in notes and v.verdict in said:
            note = f"{notes[v.package]}; {said[v.verdict]}"
            v = PackageVerdict(v.package, Verdict.UNSTABLE, v.local, v.published, v.deps_from, note)
        out.verdicts.append(v)
    return out
