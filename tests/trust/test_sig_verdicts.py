"""A package's signature verdict from its files' checks, and the `signatures --json` report as a
script reads it (docs/signatures.md): judged without gpg, from the checks check.py would make."""

from __future__ import annotations

import pytest

from rebuildx.exitcodes import DIFFERS, INCOMPLETE, NOTHING, OK
from rebuildx.trust.signatures.verdicts import SignatureCheck, SignatureReport, SigStatus, SigVerdict, judge

DIGEST = "d" * 64
ALICE, BOB, CAROL = "A" * 40, "B" * 40, "C" * 40


def good(label: str, signer: str, name: str | None = None, key_id: str = "1111222233334444") -> SignatureCheck:
    return SignatureCheck(label, SigStatus.VALID, key_id, signer, name, None, "atomic")


def unknown(label: str, key_id: str) -> SignatureCheck:
    return SignatureCheck(label, SigStatus.UNKNOWN_SIGNER, key_id, reason="no key for it in the keyrings given")


def bad(label: str, reason: str = "bad signature") -> SignatureCheck:
    return SignatureCheck(label, SigStatus.INVALID, "5555666677778888", ALICE, "alice", reason, "legacy")


@pytest.mark.parametrize("checks, quorum, verdict", [
    ([], 2, SigVerdict.UNSIGNED),
    ([good("s1", ALICE, "alice")], 2, SigVerdict.UNDER_QUORUM),
    ([good("s1", ALICE, "alice")], 1, SigVerdict.QUORUM),
    ([good("s1", ALICE, "alice"), good("s2", BOB, "bob")], 2, SigVerdict.QUORUM),
    # one maintainer signing twice (or with two subkeys) counts once
    ([good("s1", ALICE, "alice"), good("s2", ALICE, "alice", key_id="9999")], 2, SigVerdict.UNDER_QUORUM),
    # an untrusted good signature and an unknown signer count for nothing
    ([good("s1", ALICE, "alice"), good("s2", CAROL), unknown("s3", "ABCD")], 2, SigVerdict.UNDER_QUORUM),
    # one bad file makes the package INVALID, however many good ones it has
    ([good("s1", ALICE, "alice"), good("s2", BOB, "bob"), bad("s3")], 2, SigVerdict.INVALID),
    ([bad("s1")], 0, SigVerdict.INVALID),
])
def test_verdict_of_a_package(checks, quorum, verdict):
    assert judge("core-x", DIGEST, checks, quorum).verdict is verdict


def test_who_signed_is_listed_by_name_and_fingerprint():
    checks = [good("s2", BOB, "bob"), good("s1", ALICE, "alice"), good("s3", ALICE, "alice"),
              good("s4", CAROL), unknown("s5", "FEEDFACE00000001"), unknown("s6", "FEEDFACE00000001"),
              SignatureCheck("s7", SigStatus.UNKNOWN_SIGNER)]
    p = judge("core-x", DIGEST, checks, 3)
    assert (p.package, p.digest, p.checks) == ("core-x", DIGEST, tuple(checks))
    assert p.signers == (ALICE, BOB)  # distinct, sorted, trusted only
    assert p.signer_names == ["alice", "bob"]
    assert p.untrusted == [CAROL]
    assert p.unknown_key_ids == ["?", "FEEDFACE00000001"]


def test_a_trusted_signer_without_a_handle_is_named_by_fingerprint():
    nameless = SignatureCheck("s1", SigStatus.VALID, "k", ALICE, "", None, "atomic")
    p = judge("core-x", DIGEST, [nameless, good("s2", BOB, "bob")], 2)
    assert p.verdict is SigVerdict.QUORUM and p.signer_names == [ALICE, "bob"]


@pytest.mark.parametrize("verdicts, code", [
    ([], NOTHING),
    ([SigVerdict.QUORUM, SigVerdict.QUORUM], OK),
    ([SigVerdict.QUORUM, SigVerdict.UNDER_QUORUM], INCOMPLETE),
    ([SigVerdict.QUORUM, SigVerdict.UNSIGNED], INCOMPLETE),
    ([SigVerdict.UNSIGNED, SigVerdict.INVALID, SigVerdict.UNDER_QUORUM], DIFFERS),
])
def test_exit_code_of_a_report(verdicts, code):
    cases = {SigVerdict.QUORUM: [good("s1", ALICE, "alice")], SigVerdict.UNDER_QUORUM: [good("s1", CAROL)],
             SigVerdict.UNSIGNED: [], SigVerdict.INVALID: [bad("s1")]}
    report = SignatureReport("2099.01.0", 1, "folder")
    report.packages = [judge(f"core-{i}", DIGEST, cases[v], 1) for i, v in enumerate(verdicts)]
    assert [p.verdict for p in report.packages] == verdicts
    assert report.exit_code == code


def test_json_report_field_by_field():
    report = SignatureReport("2099.01.0", 2, "git:/sigs#release/2099.01.0", keys=5)
    report.packages = [
        judge("core-x", DIGEST, [good("core-x/signature-1", ALICE, "alice", "AAAA000011112222"),
                                 unknown("core-x/signature-2", "FEEDFACE00000001")], 2),
        judge("core-y", "e" * 64, [], 2),
        judge("core-z", "f" * 64, [bad("core-z/signature-1", "made by a revoked key")], 2),
    ]
    assert report.to_json() == {
        "format": 1, "release": "2099.01.0", "quorum": 2, "source": "git:/sigs#release/2099.01.0", "keys": 5,
        "packages": [
            {"package": "core-x", "digest": DIGEST, "verdict": "UNDER_QUORUM", "signers": [ALICE],
             "signer_names": ["alice"], "unknown_key_ids": ["FEEDFACE00000001"], "untrusted_signers": [],
             "signatures": [
                 {"file": "core-x/signature-1", "status": "VALID", "key_id": "AAAA000011112222", "signer": ALICE,
                  "signer_name": "alice", "trusted": True, "reason": None, "payload_format": "atomic"},
                 {"file": "core-x/signature-2", "status": "UNKNOWN_SIGNER", "key_id": "FEEDFACE00000001",
                  "signer": None, "signer_name": None, "trusted": False,
                  "reason": "no key for it in the keyrings given", "payload_format": None}]},
            {"package": "core-y", "digest": "e" * 64, "verdict": "UNSIGNED", "signers": [], "signer_names": [],
             "unknown_key_ids": [], "untrusted_signers": [], "signatures": []},
            {"package": "core-z", "digest": "f" * 64, "verdict": "INVALID", "signers": [], "signer_names": [],
             "unknown_key_ids": [], "untrusted_signers": [],
             "signatures": [{"file": "core-z/signature-1", "status": "INVALID", "key_id": "5555666677778888",
                             "signer": ALICE, "signer_name": "alice", "trusted": False,
                             "reason": "made by a revoked key", "payload_format": "legacy"}]},
        ],
        "summary": {"QUORUM": 0, "UNDER_QUORUM": 1, "INVALID": 1, "UNSIGNED": 1, "total": 3, "files": 3,
                    "unknown_key_ids": ["FEEDFACE00000001"]},
    }
