"""Verdicts on the cases a wrong one-line change gets wrong: digests that differ only at the end,
the two kinds of missing, a failure next to a foreign out/ entry, and the counts."""

from __future__ import annotations

import pytest

from rebuildx.compare.verdicts import compare
from rebuildx.outcomes import Verdict

PREFIX = "0123456789abcdef" * 3 + "0123456789abcde"  # 63 characters shared
A, B = PREFIX + "a", PREFIX + "b"
C = "b" + PREFIX  # the same characters, in another place
OK, DIFFERS, FAILED, INCOMPLETE, NOTHING = 0, 3, 4, 5, 6  # as the README promises


def verdict(local=None, published=None, failed=None, not_ours=None) -> Verdict:
    result = compare(["core-x"], {"core-x": local} if local else {}, {"core-x": published} if published else {},
                     {"core-x": failed} if failed else None, not_ours={"core-x": not_ours} if not_ours else None)
    return result.verdicts[0].verdict


def test_digests_differing_in_the_last_character_mismatch():
    assert verdict(A, B) is Verdict.MISMATCH
    assert verdict(A, A) is Verdict.MATCH
    assert verdict(A, C) is Verdict.MISMATCH
    assert verdict(A, A[:-1]) is Verdict.MISMATCH


def test_not_built_is_a_missing_local_digest_and_unpublished_a_missing_published_one():
    assert verdict(local=None, published=A) is Verdict.NOT_BUILT
    assert verdict(local=A, published=None) is Verdict.UNPUBLISHED
    assert verdict() is Verdict.NOT_BUILT


def test_a_failure_is_never_hidden_by_a_foreign_out_entry():
    assert verdict(local=A, published=A, failed="exit 1", not_ours="built by make") is Verdict.FAILED
    assert verdict(local=A, published=A, failed="exit 1") is Verdict.FAILED
    assert verdict(local=A, published=A, not_ours="built by make") is Verdict.NOT_BUILT


def test_each_verdict_carries_its_digests_and_note():
    result = compare(["core-m", "core-d", "core-n", "core-u", "core-f", "core-o"],
                     local={"core-m": A, "core-d": A, "core-u": B, "core-f": A, "core-o": A},
                     published={"core-m": A, "core-d": B, "core-n": A, "core-f": B, "core-o": A},
                     failed={"core-f": "exit 2"}, deps_from="published", not_ours={"core-o": "from make"})
    rows = [(v.package, v.verdict, v.local, v.published, v.deps_from, v.note) for v in result.verdicts]
    assert rows == [
        ("core-m", Verdict.MATCH, A, A, "published", None),
        ("core-d", Verdict.MISMATCH, A, B, "published", None),
        ("core-n", Verdict.NOT_BUILT, None, A, "published", None),
        ("core-u", Verdict.UNPUBLISHED, B, None, "published", None),
        ("core-f", Verdict.FAILED, None, B, "published", "exit 2"),
        ("core-o", Verdict.NOT_BUILT, None, A, "published", "from make"),
    ]
    assert compare(["core-m"], {"core-m": A}, {"core-m": A}).verdicts[0].deps_from == "built"
    assert result.counts() == {"MATCH": 1, "MISMATCH": 1, "NOT_BUILT": 2, "UNPUBLISHED": 1, "FAILED": 1, "UNSTABLE": 0}
    summary = result.summary()
    assert summary == {"MATCH": 1, "MISMATCH": 1, "NOT_BUILT": 2, "UNPUBLISHED": 1, "FAILED": 1, "UNSTABLE": 0,
                       "total": 6, "built": 3, "reproduced_percent": 50.0}
    doc = result.to_json()
    assert doc["format"] == 1 and doc["summary"] == summary
    assert doc["verdicts"][4] == {"package": "core-f", "verdict": "FAILED", "local": None, "published": B,
                                  "deps_from": "published", "note": "exit 2"}


def test_built_counts_what_was_built_here_and_percent_rounds():
    result = compare(["core-a", "core-b", "core-c", "core-d"], {"core-a": A, "core-b": A, "core-c": A},
                     {"core-a": A, "core-b": A, "core-c": B, "core-d": A})
    assert result.summary()["built"] == 3
    assert result.summary()["reproduced_percent"] == 66.7
    assert compare(["core-a"], {}, {"core-a": A}).summary()["reproduced_percent"] is None
    assert compare(["core-a"], {"core-a": A}, {}).summary() == {
        "MATCH": 0, "MISMATCH": 0, "NOT_BUILT": 0, "UNPUBLISHED": 1, "FAILED": 0, "UNSTABLE": 0, "total": 1, "built": 1,
        "reproduced_percent": None}


@pytest.mark.parametrize("verdicts, code", [
    ([], NOTHING),
    ([Verdict.NOT_BUILT], NOTHING),
    ([Verdict.NOT_BUILT, Verdict.NOT_BUILT], NOTHING),
    ([Verdict.MATCH], OK),
    ([Verdict.MATCH, Verdict.NOT_BUILT], INCOMPLETE),
    ([Verdict.UNPUBLISHED], INCOMPLETE),
    ([Verdict.MATCH, Verdict.UNPUBLISHED], INCOMPLETE),
    ([Verdict.FAILED], FAILED),
    ([Verdict.FAILED, Verdict.NOT_BUILT], FAILED),
    ([Verdict.FAILED, Verdict.UNPUBLISHED], FAILED),
    ([Verdict.MISMATCH, Verdict.FAILED], DIFFERS),
    ([Verdict.MISMATCH, Verdict.NOT_BUILT], DIFFERS),
    ([Verdict.MATCH, Verdict.MISMATCH], DIFFERS),
])
def test_exit_code_of_each_mix(verdicts, code):
    names = [f"core-p{i}" for i in range(len(verdicts))]
    local, published, failed = {}, {}, {}
    for name, v in zip(names, verdicts, strict=True):
        if v in (Verdict.MATCH, Verdict.MISMATCH, Verdict.UNPUBLISHED):
            local[name] = A
        if v in (Verdict.MATCH, Verdict.NOT_BUILT, Verdict.FAILED):
            published[name] = A
        if v is Verdict.MISMATCH:
            published[name] = B
        if v is Verdict.FAILED:
            failed[name] = "boom"
    result = compare(names, local, published, failed)
    assert [x.verdict for x in result.verdicts] == verdicts
    assert result.exit_code == code
