"""Statements: one per attested verdict, valid in-toto v1 by the in-toto attestation library."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf import json_format
from in_toto_attestation.predicates.vsa.v1 import vsa_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement

from attestkit import A, B, facts
from shareddata import release_dir
from rebuildx.compare.verdicts import PackageVerdict, Verdict, compare
from rebuildx.trust.attest.statement import PREDICATE_TYPE, RunFacts, read_claim, statement_for, statements_for

STAGE0_2026_03_0 = "cee5701e9d52177885a7b4149f83a6f825f7840cb8d7d27cda0d8fc1d107367c"


def validate(statement: dict) -> None:
    """The in-toto attestation library's own checks: Statement v1, and the VSA v1 predicate
    proto (verifiedLevels aside: the library's proto has it as one string where the SLSA spec
    says an array, in-toto/attestation#425)."""
    Statement.copy_from_pb(json_format.ParseDict(statement, statement_pb2.Statement())).validate()
    predicate = {k: v for k, v in statement["predicate"].items() if k != "verifiedLevels"}
    json_format.ParseDict(predicate, vsa_pb2.VerificationSummary(), ignore_unknown_fields=True)


def test_every_attested_verdict_is_a_valid_statement():
    comparison = compare(["core-x", "core-y", "core-z", "core-n", "core-u"],
                         local={"core-x": A, "core-y": A, "core-u": A},
                         published={"core-x": A, "core-y": B, "core-z": A, "core-n": A},
                         failed={"core-z": "exit 1 in RUN make"})
    statements = statements_for(comparison, facts())
    by = {s["predicate"]["rebuild"]["package"]: s for s in statements}
    assert set(by) == {"core-x", "core-y", "core-z"}  # NOT_BUILT and UNPUBLISHED say nothing of an image
    for s in statements:
        validate(s)
        assert s["predicateType"] == PREDICATE_TYPE
    assert by["core-x"]["predicate"]["verificationResult"] == "PASSED"
    mismatch = by["core-y"]["predicate"]
    assert mismatch["verificationResult"] == "FAILED" and mismatch["verifiedLevels"] == ["FAILED"]
    assert mismatch["rebuild"]["rebuiltDigest"] == f"sha256:{A}" and mismatch["rebuild"]["publishedDigest"] == f"sha256:{B}"
    assert by["core-y"]["subject"] == [{"name": "stagex/core-y", "digest": {"sha256": B}}]
    failed = by["core-z"]["predicate"]["rebuild"]
    assert failed["verdict"] == "FAILED" and failed["reason"] == "exit 1 in RUN make" and failed["rebuiltDigest"] is None
    rebuild = by["core-x"]["predicate"]["rebuild"]
    assert {k: rebuild[k] for k in ("release", "treeCommit", "deps", "engine", "startedOn", "finishedOn")} == {
        "release": "2099.01.0", "treeCommit": "d" * 40, "deps": "built",
        "engine": {"name": "docker buildx", "version": "docker 28.2.2; buildx 0.20.1"},
        "startedOn": "2099-01-15T10:30:00Z", "finishedOn": "2099-01-15T11:00:00Z"}
    assert read_claim(by["core-y"]).verdict is Verdict.MISMATCH


def test_the_stage0_statement_of_2026_03_0_names_its_published_digest(tmp_path):
    """From the release's real published digests (the project's shared data), a Comparison whose
    local digest is set to the published one, as a matching verify of bootstrap-stage0 has it: no
    real build here (stage0 takes hours), only the statement such a run signs."""
    from rebuildx.compare.published import load_published

    digests = release_dir("2026.03.0") / "digests"
    published = load_published(tmp_path, (str(digests),), "2026.03.0")
    assert published["bootstrap-stage0"] == STAGE0_2026_03_0
    comparison = compare(["bootstrap-stage0"], {"bootstrap-stage0": STAGE0_2026_03_0}, published)
    run = RunFacts("2026.03.0", "e" * 40, "docker buildx", "docker 28.2.2; buildx 0.20.1", "built", "urn:test",
                   datetime(2026, 3, 20, 8, tzinfo=UTC), datetime(2026, 3, 20, 9, tzinfo=UTC), "0.1.0")
    statements = statements_for(comparison, run)
    assert len(statements) == 1
    validate(statements[0])
    assert statements[0]["subject"] == [{"name": "stagex/bootstrap-stage0", "digest": {"sha256": STAGE0_2026_03_0}}]
    assert statements[0]["predicate"]["rebuild"]["publishedDigest"] == f"sha256:{STAGE0_2026_03_0}"
    assert statements[0]["predicate"]["verificationResult"] == "PASSED"
    # and a MISMATCH of it is attested against the same published digest, FAILED
    other = statement_for(PackageVerdict("bootstrap-stage0", Verdict.MISMATCH, "f" * 64, STAGE0_2026_03_0), run)
    assert other is not None and other["subject"] == statements[0]["subject"]
    assert other["predicate"]["verificationResult"] == "FAILED"


@pytest.mark.parametrize("change, field", [
    (lambda s: s.update(_type="https://in-toto.io/Statement/v0.1"), "_type"),
    (lambda s: s.update(predicateType="https://slsa.dev/provenance/v1"), "predicateType"),
    (lambda s: s["subject"].append(dict(s["subject"][0])), "exactly one"),
    (lambda s: s["predicate"].update(verificationResult="PASSED"), "contradicts"),
    (lambda s: s["predicate"]["rebuild"].update(package="core-other"), "another package"),
    (lambda s: s["subject"][0]["digest"].update(sha256="zz"), "not a sha256"),
    (lambda s: s["predicate"].update(timeVerified="yesterday"), "does not match format"),
])
def test_claims_are_read_strictly(change, field):
    statement = statements_for(compare(["core-y"], {"core-y": A}, {"core-y": B}), facts())[0]
    change(statement)
    with pytest.raises(ValueError, match=field):
        read_claim(statement)


def test_a_published_deps_run_says_so():
    comparison = compare(["core-y"], {"core-y": A}, {"core-y": A}, deps_from="published")
    assert statements_for(comparison, facts())[0]["predicate"]["rebuild"]["deps"] == "published"


def test_a_failed_statement_says_why_without_a_note():
    """Without a note of its own, a MISMATCH names the rebuilt digest and a failed build says so;
    a MATCH has no reason."""
    run = facts()
    mismatch = statement_for(PackageVerdict("core-y", Verdict.MISMATCH, "sha256:" + A, B), run)
    failed = statement_for(PackageVerdict("core-z", Verdict.FAILED, None, B), run)
    match = statement_for(PackageVerdict("core-x", Verdict.MATCH, A, A), run)
    assert mismatch and failed and match
    assert mismatch["predicate"]["rebuild"]["reason"] == f"rebuilt sha256:{A} differs from the published digest"
    assert failed["predicate"]["rebuild"]["reason"] == "the build failed"
    assert failed["predicate"]["rebuild"]["rebuiltDigest"] is None
    assert match["predicate"]["rebuild"]["reason"] is None


def test_a_match_statement_field_by_field(monkeypatch):
    """The statement docs/attestations.md describes, every field, for a MATCH made in a time zone
    other than UTC, on a machine whose local zone is another again (its times are written in UTC)."""
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    east = timezone(timedelta(hours=2))
    run = RunFacts("2099.01.0", "d" * 40, "docker buildx", "docker 28.2.2; buildx 0.20.1", "built", "urn:rebuilder:a",
                   datetime(2099, 1, 15, 10, 30, tzinfo=east), datetime(2099, 1, 15, 11, 5, 9, tzinfo=east), "0.1.0")
    try:
        statement = statement_for(PackageVerdict("core-x", Verdict.MATCH, A, A), run)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert statement == {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "stagex/core-x", "digest": {"sha256": A}}],
        "predicateType": "https://slsa.dev/verification_summary/v1",
        "predicate": {
            "verifier": {"id": "urn:rebuilder:a",
                         "version": {"rebuildx": "0.1.0", "docker buildx": "docker 28.2.2; buildx 0.20.1"}},
            "timeVerified": "2099-01-15T09:05:09Z",
            "resourceUri": f"pkg:oci/core-x@sha256%3A{A}",
            "policy": {"uri": "rebuildx:reproduce:stagex/release/2099.01.0", "digest": {"gitCommit": "d" * 40}},
            "verificationResult": "PASSED",
            "verifiedLevels": ["REBUILDX_REPRODUCED"],
            "rebuild": {"verdict": "MATCH", "package": "core-x", "publishedDigest": f"sha256:{A}",
                        "rebuiltDigest": f"sha256:{A}", "release": "2099.01.0", "treeCommit": "d" * 40,
                        "deps": "built", "engine": {"name": "docker buildx", "version": "docker 28.2.2; buildx 0.20.1"},
                        "startedOn": "2099-01-15T08:30:00Z", "finishedOn": "2099-01-15T09:05:09Z", "reason": None},
        },
    }


def test_a_mismatch_is_failed_at_every_level():
    s = statement_for(PackageVerdict("core-y", Verdict.MISMATCH, B, A, note="files differ"), facts())
    assert s is not None
    assert (s["predicate"]["verificationResult"], s["predicate"]["verifiedLevels"]) == ("FAILED", ["FAILED"])
    assert s["predicate"]["rebuild"]["reason"] == "files differ"


def test_a_claim_is_read_back_whole():
    run = facts(rebuilder="urn:rebuilder:b")
    claim = read_claim(statement_for(PackageVerdict("core-y", Verdict.MISMATCH, B, A), run))
    assert (claim.package, claim.digest, claim.verdict, claim.release, claim.verifier) == (
        "core-y", A, Verdict.MISMATCH, run.release, "urn:rebuilder:b")
    assert (claim.time, claim.started) == (run.finished, run.started)


def _broken(change) -> dict:
    statement = statements_for(compare(["core-y"], {"core-y": A}, {"core-y": B}), facts())[0]
    change(statement)
    return statement


@pytest.mark.parametrize("statement, message", [
    ([], "the payload is not a JSON object"),
    (_broken(lambda s: s.pop("_type")), "_type is None, not https://in-toto.io/Statement/v1"),
    (_broken(lambda s: s.update(_type="https://in-toto.io/Statement/v0.1")),
     "_type is 'https://in-toto.io/Statement/v0.1', not https://in-toto.io/Statement/v1"),
    (_broken(lambda s: s.update(predicateType="x")), "predicateType is 'x', not https://slsa.dev/verification_summary/v1"),
    (_broken(lambda s: s.update(subject={})), "subject must be exactly one image"),
    (_broken(lambda s: s["subject"][0].update(name="docker.io/core-y")), "subject has no stagex/ name or no digest"),
    (_broken(lambda s: s["subject"][0].update(name=7)), "subject has no stagex/ name or no digest"),
    (_broken(lambda s: s["subject"][0].update(digest="sha256:x")), "subject has no stagex/ name or no digest"),
    (_broken(lambda s: s.update(predicate=[])), "predicate is not an object"),
    (_broken(lambda s: s["predicate"]["verifier"].pop("id")), "predicate has no verifier.id or no rebuild object"),
    (_broken(lambda s: s["predicate"].update(verifier="urn:x")), "predicate has no verifier.id or no rebuild object"),
    (_broken(lambda s: s["predicate"].pop("rebuild")), "predicate has no verifier.id or no rebuild object"),
    (_broken(lambda s: s["predicate"]["rebuild"].update(verdict="NOT_BUILT")), "verdict NOT_BUILT is not attested"),
    (_broken(lambda s: s["predicate"]["rebuild"].update(publishedDigest="sha256:" + A)),
     "the rebuild object names another package or digest than the subject"),
    (_broken(lambda s: s["predicate"]["rebuild"].pop("release")), "rebuild.release is missing"),
    (_broken(lambda s: s["predicate"].update(timeVerified=None)), "a time is not a string"),
])
def test_each_wrong_field_is_named(statement, message):
    with pytest.raises(ValueError) as e:
        read_claim(statement)
    assert str(e.value) == message
