"""History from the ledger: runs, share per run and release, last match, flapping (pure)."""

from __future__ import annotations

from rebuildx.report.runs import VerdictRow, group_runs, latest_per_release, package_histories
from rebuildx.report.timeline import Span, assign_slots


def rows(release: str, at: float, **verdicts: str) -> list[VerdictRow]:
    return [VerdictRow(release, p, v, at + i * 0.01) for i, (p, v) in enumerate(verdicts.items())]


def test_runs_are_bursts_of_one_release():
    ledger = (rows("2026.01.0", 1000, a="MATCH", b="MISMATCH") + rows("2026.01.0", 5000, a="MATCH", b="MATCH")
              + rows("2026.03.0", 5000.5, a="MISMATCH", b="FAILED")  # right after, but another release
              + rows("2026.03.0", 5001, c="MATCH") + rows("2026.03.0", 5002, c="MATCH"))  # c twice: two runs
    runs = group_runs(ledger)
    assert [(r.release, sorted(r.verdicts)) for r in runs] == [
        ("2026.01.0", ["a", "b"]), ("2026.01.0", ["a", "b"]), ("2026.03.0", ["a", "b", "c"]), ("2026.03.0", ["c"])]
    assert [r.share for r in runs] == [50.0, 100.0, 50.0, 100.0]
    assert runs[0].count("MISMATCH") == 1
    assert group_runs(rows("r", 0, x="FAILED"))[0].share is None  # nothing compared: no share, not 0 %
    latest = latest_per_release(runs)
    assert list(latest) == ["2026.01.0", "2026.03.0"] and latest["2026.03.0"].verdicts == {"c": "MATCH"}


def test_last_match_and_flapping_within_a_release():
    ledger = (rows("1", 100, a="MATCH", b="MATCH", c="MISMATCH") + rows("1", 200, a="MISMATCH", b="MATCH", c="FAILED")
              + rows("2", 300, a="MATCH", b="MISMATCH", c="MATCH"))  # b: a new release's source may differ
    h = package_histories(group_runs(ledger))
    assert h["a"].flaps and h["a"].flips == 1 and h["a"].last_match == 300
    assert not h["b"].flaps and h["b"].last_match == 200
    assert not h["c"].flaps and h["c"].runs == 3  # FAILED between says nothing of determinism


def test_slots_never_overlap_and_reuse_the_lowest_free():
    spans = [Span("a", "MATCH", 0, 10), Span("b", "MATCH", 1, 3), Span("c", "MATCH", 4, 2),
             Span("d", "MATCH", 5, 1), Span("e", "MATCH", 10, 1), Span("f", "MATCH", 2, 1, builder="remote")]
    rows_, bars = assign_slots(spans)
    slot = {b.span.package: b.row for b in bars}
    assert rows_ == ["slot 1", "slot 2", "slot 3", "remote 1"]
    assert slot == {"a": "slot 1", "b": "slot 2", "c": "slot 2", "d": "slot 3", "e": "slot 1", "f": "remote 1"}
    for r in rows_:
        mine = sorted((b.span for b in bars if b.row == r), key=lambda s: s.started)
        assert all(x.ended <= y.started + 0.05 for x, y in zip(mine, mine[1:], strict=False))
