"""Progress renderers: byte totals that survive restarts, one line per finished file."""

from __future__ import annotations

import io
from pathlib import PurePosixPath

from rich.console import Console

from rebuildx.fetch import BarProgress, FileResult, LineProgress, Outcome
from rebuildx.fetch.progress import _Totals
from rebuildx.fetch.report import Attempt


def _result(outcome: Outcome, size: int = 0) -> FileResult:
    attempts = (Attempt("http://m/a.tgz", "HTTP 404"),) if outcome is Outcome.FAILED else ()
    return FileResult("core-foo", "main", PurePosixPath("fetch/core/foo/a.tgz"), "ab" * 32, outcome,
                      size, "http://m/a.tgz" if outcome is Outcome.FETCHED else "", attempts)


def test_totals_count_each_file_once_through_restarts_and_unknown_sizes() -> None:
    totals = _Totals()
    assert totals.set("a", 100, 1000) == (100, 1000)
    assert totals.set("b", 50, None) == (150, 1050)  # size not announced: what it has so far
    assert totals.set("a", 10, 1000) == (60, 1050)  # restarted from zero: no double count
    assert totals.set("a", 1000, 1000) == (1050, 1050)
    assert totals.close("b") == (1050, 1050)
    assert totals.set("c", 0, 400) == (1050, 1450)
    assert totals.close("c") == (1050, 1050)  # failed: expects nothing more


def test_line_progress_prints_a_line_per_file() -> None:
    lines: list[str] = []
    progress = LineProgress(lines.append)
    progress.transfer("x", 5, 10)
    for outcome in Outcome:
        progress.finished(_result(outcome, 2_500_000))
    assert lines == [
        "fetched  core-foo: a.tgz (2.5 MB) from http://m/a.tgz",
        "present  core-foo: a.tgz (2.5 MB)",
        f"failed   core-foo: a.tgz: none of 1 place tried delivered sha256 {'ab' * 32}",
    ]


def test_bar_progress_prints_finished_files_above_the_bar() -> None:
    out = io.StringIO()
    with BarProgress(Console(file=out, force_terminal=True, width=100)) as bar:
        bar.transfer("ab" * 32, 1_000_000, 2_000_000)
        bar.finished(_result(Outcome.FETCHED, 2_000_000))
    assert "fetched  core-foo: a.tgz (2.0 MB) from http://m/a.tgz" in out.getvalue()
    assert bar.totals.done == bar.totals.total == 1_000_000
