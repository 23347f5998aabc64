"""Verdicts on a release's signatures, one per package (pure).

StageX's MAINTENANCE.md: two or more release engineers must sign each image's digest. A package
is QUORUM when at least `quorum` distinct trusted primary keys made good signatures over its
published digest; UNDER_QUORUM when fewer did (who did is listed); INVALID when any of its
signature files is bad (damaged, altered, made by a revoked key or one expired at the time, or
claiming another image or digest: a signature folder must hold nothing false); UNSIGNED when it
has none. Exit codes (exitcodes.py): 3 INVALID, 5 UNDER_QUORUM or UNSIGNED, 6 no package, else 0.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field

from rebuildx.exitcodes import DIFFERS, INCOMPLETE, NOTHING, OK


class SigVerdict(enum.Enum):
    QUORUM = "QUORUM"
    UNDER_QUORUM = "UNDER_QUORUM"
    INVALID = "INVALID"
    UNSIGNED = "UNSIGNED"


class SigStatus(enum.Enum):
    VALID = "VALID"  # a good signature over the right claim (trusted or not: see `trusted`)
    INVALID = "INVALID"
    UNKNOWN_SIGNER = "UNKNOWN_SIGNER"  # no key for it in the keyrings given: counted nowhere


@dataclass(frozen=True)
class SignatureCheck:
    """What one `signature-N` file proved."""

    label: str
    status: SigStatus
    key_id: str | None = None  # the issuer's key ID, as written in the file
    signer: str | None = None  # primary key fingerprint, when gpg verified the signature
    signer_name: str | None = None  # the maintainer's handle, when trusted
    reason: str | None = None  # why INVALID, or a note on a VALID one (e.g. key expired since)
    payload_format: str | None = None  # "legacy" or "atomic"

    @property
    def trusted(self) -> bool:
        return self.status is SigStatus.VALID and self.signer_name is not None

    def to_json(self) -> dict:
        return {"file": self.label, "status": self.status.value, "key_id": self.key_id, "signer": self.signer,
                "signer_name": self.signer_name, "trusted": self.trusted, "reason": self.reason,
                "payload_format": self.payload_format}


@dataclass(frozen=True)
class PackageSignatures:
    package: str
    digest: str
    verdict: SigVerdict
    signers: tuple[str, ...]  # distinct trusted primary fingerprints with a good signature
    checks: tuple[SignatureCheck, ...]

    @property
    def signer_names(self) -> list[str]:
        names = {c.signer: c.signer_name for c in self.checks if c.trusted}
        return [names[s] or s for s in self.signers]

    @property
    def unknown_key_ids(self) -> list[str]:
        return sorted({c.key_id or "?" for c in self.checks if c.status is SigStatus.UNKNOWN_SIGNER})

    @property
    def untrusted(self) -> list[str]:
        return sorted({c.signer or "?" for c in self.checks if c.status is SigStatus.VALID and not c.trusted})

    def to_json(self) -> dict:
        return {"package": self.package, "digest": self.digest, "verdict": self.verdict.value,
                "signers": list(self.signers), "signer_names": self.signer_names,
                "unknown_key_ids": self.unknown_key_ids, "untrusted_signers": self.untrusted,
                "signatures": [c.to_json() for c in self.checks]}


def judge(package: str, digest: str, checks: list[SignatureCheck], quorum: int) -> PackageSignatures:
    """The package's verdict from its files' checks; one maintainer counts once, however many
    files or subkeys they signed with (a signature counts for the primary key owning its subkey)."""
    signers = tuple(sorted({c.signer for c in checks if c.trusted and c.signer}))
    if not checks:
        verdict = SigVerdict.UNSIGNED
    elif any(c.status is SigStatus.INVALID for c in checks):
        verdict = SigVerdict.INVALID
    elif len(signers) >= quorum:
        verdict = SigVerdict.QUORUM
    else:
        verdict = SigVerdict.UNDER_QUORUM
    return PackageSignatures(package, digest, verdict, signers, tuple(checks))


@dataclass
class SignatureReport:
    release: str
    quorum: int
    source: str
    packages: list[PackageSignatures] = field(default_factory=list)
    keys: int = 0  # keys and subkeys in the keyrings given

    def counts(self) -> dict[str, int]:
        c = Counter(p.verdict.value for p in self.packages)
        return {v.value: c.get(v.value, 0) for v in SigVerdict}

    @property
    def exit_code(self) -> int:
        c = self.counts()
        if not self.packages:
            return NOTHING
        if c["INVALID"]:
            return DIFFERS
        if c["UNDER_QUORUM"] or c["UNSIGNED"]:
            return INCOMPLETE
        return OK

    def summary(self) -> dict:
        files = [c for p in self.packages for c in p.checks]
        return {**self.counts(), "total": len(self.packages), "files": len(files),
                "unknown_key_ids": sorted({k for p in self.packages for k in p.unknown_key_ids})}

    def to_json(self) -> dict:
        return {"format": 1, "release": self.release, "quorum": self.quorum, "source": self.source, "keys": self.keys,
                "packages": [p.to_json() for p in self.packages], "summary": self.summary()}
