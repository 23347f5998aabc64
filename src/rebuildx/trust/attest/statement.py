"""In-toto Statements v1 for rebuildx's verdicts, and the claims read back from one (pure).

One statement per package whose published image has a digest: the subject is that image
(`stagex/<stage>-<pkg>`, its published digest); the predicate is a SLSA Verification Summary v1
(VSA) whose `verificationResult` is PASSED for a MATCH and FAILED for a MISMATCH or a failed
build, plus a `rebuild` object with what a VSA has no field for (docs/attestations.md).
NOT_BUILT and UNPUBLISHED say nothing about a published image, so they are not attested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from rebuildx.compare.verdicts import Comparison, PackageVerdict, Verdict

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/verification_summary/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
ATTESTED = (Verdict.MATCH, Verdict.MISMATCH, Verdict.FAILED)
REPRODUCED_LEVEL = "REBUILDX_REPRODUCED"  # a custom VSA level (the spec reserves only SLSA_*)
_HEX = re.compile(r"[0-9a-f]{64}")
_TIME = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class RunFacts:
    """What one verify run was: the same for every statement it makes."""

    release: str
    tree_commit: str
    engine: str  # e.g. "docker buildx"
    engine_version: str
    deps: str  # "built" or "published"
    rebuilder: str  # verifier.id: who rebuilt (the key's id unless the user names it)
    started: datetime
    finished: datetime
    rebuildx_version: str


def stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime(_TIME)


def parse_stamp(text: object) -> datetime:
    if not isinstance(text, str):
        raise ValueError("a time is not a string")
    return datetime.strptime(text, _TIME).replace(tzinfo=UTC)


def bare_hex(digest: str) -> str:
    hex_ = digest.removeprefix("sha256:")
    if not _HEX.fullmatch(hex_):
        raise ValueError(f"not a sha256 digest: {digest!r}")
    return hex_


def subject_name(package: str) -> str:
    return f"stagex/{package}"


def statement_for(v: PackageVerdict, facts: RunFacts) -> dict | None:
    """The statement of one verdict, or None when it says nothing about a published image."""
    if v.verdict not in ATTESTED or not v.published:
        return None
    published = bare_hex(v.published)
    passed = v.verdict is Verdict.MATCH
    rebuild = {
        "verdict": v.verdict.value,
        "package": v.package,
        "publishedDigest": f"sha256:{published}",
        "rebuiltDigest": f"sha256:{bare_hex(v.local)}" if v.local else None,
        "release": facts.release,
        "treeCommit": facts.tree_commit,
        "deps": v.deps_from or facts.deps,
        "engine": {"name": facts.engine, "version": facts.engine_version},
        "startedOn": stamp(facts.started),
        "finishedOn": stamp(facts.finished),
        "reason": None if passed else (v.note or _reason(v)),
    }
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": subject_name(v.package), "digest": {"sha256": published}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "verifier": {"id": facts.rebuilder, "version": {"rebuildx": facts.rebuildx_version,
                                                            facts.engine: facts.engine_version}},
            "timeVerified": stamp(facts.finished),
            "resourceUri": f"pkg:oci/{v.package}@sha256%3A{published}",
            "policy": {"uri": f"rebuildx:reproduce:stagex/release/{facts.release}",
                       "digest": {"gitCommit": facts.tree_commit}},
            "verificationResult": "PASSED" if passed else "FAILED",
            "verifiedLevels": [REPRODUCED_LEVEL] if passed else ["FAILED"],
            "rebuild": rebuild,
        },
    }


def _reason(v: PackageVerdict) -> str:
    if v.verdict is Verdict.MISMATCH:
        return f"rebuilt sha256:{bare_hex(v.local or '')} differs from the published digest"
    return "the build failed"


def statements_for(comparison: Comparison, facts: RunFacts) -> list[dict]:
    return [s for v in comparison.verdicts if (s := statement_for(v, facts)) is not None]


@dataclass(frozen=True)
class Claim:
    """What a statement says, read back strictly: anything missing or odd is a ValueError."""

    package: str
    digest: str  # bare hex of the subject's sha256
    verdict: Verdict
    release: str
    verifier: str
    time: datetime
    started: datetime


def read_claim(statement: object) -> Claim:
    """The claim of a statement made by `statement_for`; a ValueError names the field that is wrong."""
    if not isinstance(statement, dict):
        raise ValueError("the payload is not a JSON object")
    if statement.get("_type") != STATEMENT_TYPE:
        raise ValueError(f"_type is {statement.get('_type')!r}, not {STATEMENT_TYPE}")
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise ValueError(f"predicateType is {statement.get('predicateType')!r}, not {PREDICATE_TYPE}")
    subject = statement.get("subject")
    if not isinstance(subject, list) or len(subject) != 1 or not isinstance(subject[0], dict):
        raise ValueError("subject must be exactly one image")
    digest = subject[0].get("digest")
    name = subject[0].get("name")
    if not isinstance(digest, dict) or not isinstance(name, str) or not name.startswith("stagex/"):
        raise ValueError("subject has no stagex/ name or no digest")
    predicate = statement.get("predicate")
    if not isinstance(predicate, dict):
        raise ValueError("predicate is not an object")
    rebuild, verifier = predicate.get("rebuild"), predicate.get("verifier")
    if not isinstance(rebuild, dict) or not isinstance(verifier, dict) or not isinstance(verifier.get("id"), str):
        raise ValueError("predicate has no verifier.id or no rebuild object")
    verdict = Verdict(rebuild.get("verdict"))
    if verdict not in ATTESTED:
        raise ValueError(f"verdict {verdict.value} is not attested")
    result = predicate.get("verificationResult")
    if result != ("PASSED" if verdict is Verdict.MATCH else "FAILED"):
        raise ValueError(f"verificationResult {result!r} contradicts verdict {verdict.value}")
    hex_ = bare_hex(str(digest.get("sha256")))
    package = name.removeprefix("stagex/")
    if rebuild.get("package") != package or rebuild.get("publishedDigest") != f"sha256:{hex_}":
        raise ValueError("the rebuild object names another package or digest than the subject")
    release = rebuild.get("release")
    if not isinstance(release, str):
        raise ValueError("rebuild.release is missing")
    return Claim(package, hex_, verdict, release, verifier["id"], parse_stamp(predicate.get("timeVerified")),
                 parse_stamp(rebuild.get("startedOn")))
