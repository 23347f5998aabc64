"""check_release over a folder of signatures: every case of the issue gets its verdict."""

from __future__ import annotations

import pytest

from rebuildx.trust.signatures.check import check_release
from rebuildx.trust.signatures.gpg import Keyring
from rebuildx.trust.signatures.source import FolderSource
from rebuildx.trust.signatures.verdicts import SigStatus
from sigtree import RELEASE, SigTree, write_sigtree


@pytest.fixture(scope="module")
def sigtree(keys, tmp_path_factory) -> SigTree:
    base = tmp_path_factory.mktemp("sigs")
    return write_sigtree(base / "repo", keys, base / "outside")


@pytest.fixture(scope="module")
def report(keys, sigtree):
    trusted = {keys.fpr[p]: p for p in ("alice", "bob", "dave", "erin")}
    with Keyring([keys.keyring]) as keyring:
        return check_release(FolderSource(sigtree.root), sigtree.published, sorted(sigtree.published), keyring,
                             trusted, 2, RELEASE)


def by_name(report):
    return {p.package: p for p in report.packages}


def test_every_case_gets_its_verdict(report, sigtree):
    assert {p.package: p.verdict.value for p in report.packages} == sigtree.expected
    assert report.exit_code == 3


def test_quorum_counts_distinct_primaries_across_formats(report, keys):
    p = by_name(report)["core-quorum"]
    assert p.signers == tuple(sorted((keys.fpr["alice"], keys.fpr["bob"])))
    assert [c.payload_format for c in p.checks] == ["legacy", "atomic"]
    assert sorted(p.signer_names) == ["alice", "bob"]


@pytest.mark.parametrize("name", ["core-twice", "core-subkeys"])
def test_one_maintainer_counts_once(report, keys, name):
    p = by_name(report)[name]
    assert p.signers == (keys.fpr["alice"],)
    assert all(c.status is SigStatus.VALID for c in p.checks)
    assert len(p.checks) == 2  # README and other stray files are not signatures


def test_unknown_signer_listed_by_key_id_and_not_counted(report, keys):
    p = by_name(report)["core-unknown"]
    assert p.unknown_key_ids == [keys.subkeys["mallory"][0][-16:]]
    assert p.signers == (keys.fpr["alice"],)


def test_untrusted_signer_listed_not_counted(report, keys):
    p = by_name(report)["core-untrusted"]
    assert p.untrusted == [keys.fpr["carol"]]
    assert p.signers == (keys.fpr["bob"],)


@pytest.mark.parametrize("name, file, words", [
    ("core-copied", "signature-2", "signed for stagex/core-quorum:1.0, not stagex/core-copied"),
    ("core-empty", "signature-1", "empty file"),
    ("core-expired", "signature-1", "expired before the signature"),
    ("core-revoked", "signature-1", "revoked"),
    ("core-symlink", "signature-2", "outside the checkout"),
    ("core-otherdigest", "signature-1", "not the published"),
    ("core-altered", "signature-1", "bad signature"),
    ("core-huge", "signature-2", "cap"),
    ("core-nested", "signature-1", "nests deeper"),
    ("core-nested", "signature-2", "cap"),
    ("core-garbage", "signature-1", "not OpenPGP data"),
    ("core-truncated", "signature-1", "truncated"),
])
def test_each_bad_signature_says_why(report, name, file, words):
    checks = {c.label.rsplit("/", 1)[-1]: c for c in by_name(report)[name].checks}
    assert checks[file].status is SigStatus.INVALID
    assert words in (checks[file].reason or "")


def test_a_key_expired_after_it_signed_still_counts(report, keys):
    p = by_name(report)["core-expiredlater"]
    assert p.signers == tuple(sorted((keys.fpr["dave"], keys.fpr["bob"])))
    assert [c.reason for c in p.checks] == ["the key has expired since", None]


def test_the_good_signature_beside_a_bad_one_is_still_reported(report, keys):
    p = by_name(report)["core-revoked"]
    assert p.signers == (keys.fpr["bob"],)  # bob's counts; erin's revoked one makes it INVALID


def test_json_has_every_file(report):
    doc = report.to_json()
    assert doc["format"] == 1 and doc["summary"]["INVALID"] == 11
    assert sum(len(p["signatures"]) for p in doc["packages"]) == doc["summary"]["files"]


def test_presenters(report, tmp_path):
    import xml.etree.ElementTree as ET

    from rich.console import Console

    from rebuildx.trust.signatures.present import problems, summary_line, table, write_junit

    lines = problems(report)
    assert "core-altered signature-1: bad signature: the file was altered or not signed by this key" in lines
    assert any(line.startswith("core-untrusted: valid signatures by keys not trusted") for line in lines)
    console = Console(width=200, record=True)
    console.print(table(report))
    rows = {line.split()[0]: line.split()[1:] for line in console.export_text().splitlines()[1:]}
    assert rows["core-quorum"][:2] == ["QUORUM", "2/2"]
    assert " ".join(rows["core-quorum"][2:4]) in ("alice, bob", "bob, alice")
    assert summary_line(report).startswith("18 packages, 31 signature files: 2 quorum (>= 2), 4 under quorum, "
                                           "11 invalid, 1 unsigned; signers without a key given:")
    write_junit(report, tmp_path / "j.xml")
    suite = ET.parse(tmp_path / "j.xml").getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("18", "11", "5")
