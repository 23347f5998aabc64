"""UNSTABLE, the verdict of two rounds that differ: in the comparison, its exit code, the table's
summary, JUnit, and the ledger's release status."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from rebuildx.compare.present import summary_line, write_junit
from rebuildx.compare.verdicts import Verdict, compare, mark_unstable
from rebuildx.exitcodes import DIFFERS, FAILED, UNSTABLE
from rebuildx.stagex.graph import Graph
from rebuildx.state.ledger import Ledger, release_status
from rebuildx.workspace import Workspace

A, B, C = "a" * 64, "b" * 64, "c" * 64
NOTE = "round 2 on d2 gave sha256:x, not sha256:y: files differ: usr/share/stamp/now (content)"


def comparison():
    return compare(["core-x", "core-y", "core-z", "core-f"], local={"core-x": A, "core-y": B, "core-z": C},
                   published={"core-x": A, "core-y": A, "core-f": A}, failed={"core-f": "exit 1"})


def test_rounds_that_differ_make_unstable_whatever_the_published_digest_says():
    marked = mark_unstable(comparison(), {"core-x": NOTE, "core-z": NOTE, "core-f": NOTE})
    got = {v.package: v for v in marked.verdicts}
    assert got["core-x"].verdict is Verdict.UNSTABLE and got["core-x"].note.endswith(
        "round 1 matches the published digest")
    assert "usr/share/stamp/now (content)" in got["core-x"].note
    assert got["core-z"].verdict is Verdict.UNSTABLE and got["core-z"].note.endswith("not published")
    assert got["core-y"].verdict is Verdict.MISMATCH  # its rounds agreed
    assert got["core-f"].verdict is Verdict.FAILED  # nothing was built twice
    assert marked.counts()["UNSTABLE"] == 2 and marked.summary()["reproduced_percent"] == 0.0


def test_the_exit_code_of_unstable_is_its_own_and_a_mismatch_still_wins():
    assert mark_unstable(comparison(), {"core-x": NOTE}).exit_code == DIFFERS
    only = compare(["core-x", "core-f"], {"core-x": A}, {"core-x": A}, {"core-f": "exit 1"})
    assert mark_unstable(only, {"core-x": NOTE}).exit_code == UNSTABLE
    assert only.exit_code == FAILED


def test_summary_and_junit_name_unstable_packages(tmp_path):
    marked = mark_unstable(comparison(), {"core-x": NOTE})
    assert "1 unstable" in summary_line(marked)
    assert "1 unstable" not in summary_line(comparison())
    write_junit(marked, tmp_path / "j.xml")
    suite = ET.parse(tmp_path / "j.xml").getroot()
    assert suite.get("failures") == "2"  # the MISMATCH and the UNSTABLE
    case = next(c for c in suite if c.get("name") == "core-x")
    assert case.find("failure").get("message").startswith("UNSTABLE: round 2 on d2")


def test_the_ledger_keeps_unstable_apart(tmp_path):
    ledger = Ledger(Workspace(tmp_path))
    ledger.record("2026.03.0", "core-x", Verdict.UNSTABLE, A, A, "built")
    ledger.record("2026.03.0", "core-y", Verdict.MATCH, A, A, "built")
    graph = Graph(deps={"core-x": (), "core-y": ("core-x",)}, dependents={"core-x": ("core-y",), "core-y": ()})
    status = release_status(graph, ["core-x", "core-y"], Ledger(Workspace(tmp_path)).latest("2026.03.0"))
    assert status.unstable == ["core-x"] and status.counts()["unstable"] == 1
    assert status.chain_verified == [] and status.gaps == {"core-y": ["core-x"]}


def test_an_unstable_package_was_built_and_compared_but_not_reproduced():
    """The summary counts UNSTABLE among the built and the compared packages: one MATCH beside one
    UNSTABLE is 50 % reproduced, not 100 %, and an unpublished package was built too."""
    rounds = compare(["core-m", "core-u", "core-p", "core-f", "core-n"], local={"core-m": A, "core-u": A, "core-p": C},
                     published={"core-m": A, "core-u": A, "core-f": A, "core-n": A}, failed={"core-f": "exit 1"})
    summary = mark_unstable(rounds, {"core-u": NOTE}).summary()
    assert (summary["MATCH"], summary["UNSTABLE"], summary["UNPUBLISHED"], summary["FAILED"]) == (1, 1, 1, 1)
    assert summary["NOT_BUILT"] == 1 and summary["total"] == 5
    assert summary["built"] == 3 and summary["reproduced_percent"] == 50.0


def test_an_unstable_verdict_keeps_both_digests_and_how_deps_were_had():
    rounds = compare(["core-y"], local={"core-y": B}, published={"core-y": A}, deps_from="published")
    (v,) = mark_unstable(rounds, {"core-y": NOTE}).verdicts
    assert (v.verdict, v.local, v.published, v.deps_from) == (Verdict.UNSTABLE, B, A, "published")
    assert v.note == f"{NOTE}; round 1 differs from the published digest"
