"""k-of-n: how many distinct trusted rebuilders attest that a published digest is reproduced.

Per package, every envelope of every source is opened against the trusted keys; what it claims
must be about this package, this published digest and this release, at a believable time, or it
is rejected with its reason and counts for nothing. A trusted key counts once per package, however
many envelopes, sources or trust files name it. Verdicts:
AGREED (at least k keys attest MATCH), SHORT (fewer, named), DISPUTED (a trusted key attests a
MISMATCH of this digest: listed, and it outweighs any number of MATCHes), NONE (no trusted MATCH).
Exit codes as `compare`'s: 3 DISPUTED, 5 SHORT or NONE, 6 every package NONE, else 0.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from securesystemslib.signer import Key

from rebuildx.compare.verdicts import Verdict
from rebuildx.exitcodes import DIFFERS, INCOMPLETE, NOTHING, OK
from rebuildx.trust.attest.envelope import Rejected, open_envelope
from rebuildx.trust.attest.keys import AttestError
from rebuildx.trust.attest.sources import Source, SourceError
from rebuildx.trust.attest.statement import read_claim

CLOCK_SKEW = timedelta(minutes=10)  # a rebuilder's clock may run a little ahead
EARLIEST = datetime(2019, 1, 1, tzinfo=UTC)  # before StageX existed: an absurd time


class CheckVerdict(enum.Enum):
    AGREED = "AGREED"
    SHORT = "SHORT"
    DISPUTED = "DISPUTED"
    NONE = "NONE"


@dataclass
class PackageCheck:
    package: str
    published: str  # bare hex
    verdict: CheckVerdict = CheckVerdict.NONE
    matched_by: set[str] = field(default_factory=set)  # trusted key ids
    mismatched_by: set[str] = field(default_factory=set)
    failed_by: set[str] = field(default_factory=set)
    rejected: list[str] = field(default_factory=list)  # envelopes that count for nothing: "<source> line N: why"
    unreadable: list[str] = field(default_factory=list)  # sources that could not be read for it, and why

    def to_json(self) -> dict:
        return {"package": self.package, "verdict": self.verdict.value, "published": self.published,
                "matched_by": sorted(self.matched_by), "mismatched_by": sorted(self.mismatched_by),
                "failed_by": sorted(self.failed_by), "rejected": self.rejected, "unreadable": self.unreadable}


@dataclass
class CheckResult:
    release: str
    threshold: int
    trusted: list[str]
    packages: list[PackageCheck] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        c = Counter(p.verdict.value for p in self.packages)
        return {v.value: c.get(v.value, 0) for v in CheckVerdict}

    @property
    def exit_code(self) -> int:
        c = self.counts()
        if c["NONE"] == len(self.packages):
            return NOTHING
        if c["DISPUTED"]:
            return DIFFERS
        if c["SHORT"] or c["NONE"]:
            return INCOMPLETE
        return OK

    def to_json(self) -> dict:
        return {"format": 1, "release": self.release, "threshold": self.threshold, "trusted": self.trusted,
                "verdicts": [p.to_json() for p in self.packages],
                "summary": {**self.counts(), "total": len(self.packages)}}


MAX_REASON = 500  # characters of one rejected or unreadable reason
MAX_REASONS = 20  # reasons listed per source and package; the rest are counted
MIN_ENVELOPE_BYTES = 200  # a signed statement is a few KiB: 32 MiB holds a bounded number of them


def one_line(text: str) -> str:
    """A reason as one printable line: what an envelope or a server says must not print lines of
    its own (a forged `AGREED …`) or reach the terminal as escape sequences."""
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    return text if len(text) <= MAX_REASON else text[:MAX_REASON - 1] + "…"


def judge(check: PackageCheck, line: bytes, where: str, release: str, trusted: Mapping[str, Key],
          now: datetime) -> None:
    """Count one envelope for `check`, or record why it is rejected."""
    try:
        opened = open_envelope(line, dict(trusted))
        claim = read_claim(opened.statement)
    except (Rejected, ValueError) as e:
        check.rejected.append(one_line(f"{where}: {e}"))
        return
    problem = None
    if claim.package != check.package or claim.digest != check.published:
        problem = f"a statement about {claim.package}@sha256:{claim.digest[:12]}, not this package's published digest"
    elif claim.release != release:
        problem = f"a statement for release {claim.release}, not {release}"
    elif claim.time > now + CLOCK_SKEW:
        problem = f"verified at {claim.time:%Y-%m-%dT%H:%M:%SZ}, in the future"
    elif claim.time < EARLIEST or claim.started > claim.time:
        problem = f"an absurd time (started {claim.started:%Y-%m-%dT%H:%M:%SZ}, verified {claim.time:%Y-%m-%dT%H:%M:%SZ})"
    if problem:
        check.rejected.append(one_line(f"{where}: {problem}"))
        return
    by = {Verdict.MATCH: check.matched_by, Verdict.MISMATCH: check.mismatched_by}.get(claim.verdict, check.failed_by)
    by.update(opened.signers)


def decide(check: PackageCheck, threshold: int) -> PackageCheck:
    if check.mismatched_by:
        check.verdict = CheckVerdict.DISPUTED
    elif len(check.matched_by) >= threshold:
        check.verdict = CheckVerdict.AGREED
    elif check.matched_by:
        check.verdict = CheckVerdict.SHORT
    else:
        check.verdict = CheckVerdict.NONE
    return check


def check_release(release: str, published: Mapping[str, str], names: Iterable[str], sources: list[Source],
                  trusted: Mapping[str, Key], threshold: int, now: datetime) -> CheckResult:
    """A verdict per package of `names` (published digests as bare hex)."""
    result = CheckResult(release, threshold, sorted(trusted))
    for name in names:
        check = PackageCheck(name, published[name])
        for source in sources:
            try:
                data = source.read(release, name, check.published)
            except SourceError as e:
                check.unreadable.append(one_line(str(e)))
                continue
            listed, more, short = len(check.rejected), 0, 0
            for n, line in enumerate((data or b"").splitlines(), 1):
                if len(line) < MIN_ENVELOPE_BYTES:  # blank, or junk: counted without parsing
                    short += bool(line.strip())
                    continue
                judge(check, line, f"{source.label} line {n}", release, trusted, now)
                if len(check.rejected) - listed > MAX_REASONS:  # a file of junk lines: counted, not listed
                    check.rejected.pop()
                    more += 1
            if short:
                check.rejected.append(f"{source.label}: {short} lines too short to be an envelope")
            if more:
                check.rejected.append(f"{source.label}: and {more} more lines rejected")
        result.packages.append(decide(check, threshold))
    return result


def require_threshold(trusted: Mapping[str, Key], threshold: int) -> None:
    """A threshold no set of the trusted keys could meet is a mistake, said before anything is read;
    so is one that no attestation is needed to meet (every package would be AGREED by nobody)."""
    if not isinstance(threshold, int) or isinstance(threshold, bool):
        raise AttestError(f"--threshold {threshold!r}: not a whole number")
    if threshold < 1:
        raise AttestError(f"--threshold {threshold}: at least 1 trusted rebuilder must attest a MATCH")
    if threshold > len(trusted):
        raise AttestError(f"--threshold {threshold} cannot be met: the --trust keys given are "
                          f"{len(trusted)} distinct trusted key{'s' if len(trusted) != 1 else ''} "
                          f"(a key given twice counts once)")
