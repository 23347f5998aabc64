"""The page from a verify report: what it shows, and reports damaged in every way (no browser)."""

from __future__ import annotations

import json

import pytest

from rebuildx.errors import RebuildxError
from rebuildx.report.html import render, write_html
from rebuildx.report.page import ReportError, build_page
from rebuildx.report.runs import VerdictRow
from reportgen import HOSTILE, generate


def test_page_shows_every_part(tmp_path):
    fx = generate(30, tmp_path / "logs")
    page = build_page(fx.doc, fx.ledger)
    assert len(page.rows) == 30 and page.share == fx.doc["summary"]["reproduced_percent"]
    assert page.counts["MISMATCH"] == len(page.explanations) == fx.doc["summary"]["MISMATCH"]
    assert page.counts["FAILED"] == len(page.failures) == 2
    assert all(f.cause == "engine state" and f.tail[-1] == f"ERROR: {HOSTILE}" for f in page.failures)
    assert {r.builder for r in page.rows if r.seconds} == {"slot 1", "slot 2", "slot 3", "slot 4"}
    assert [p for p, _ in page.critical] == fx.doc["critical_path"]["packages"]
    assert len(page.runs) == 4 and page.flapping
    html = render(page)
    assert HOSTILE not in html and "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
    assert html.count("<script>") == 1 and "http://" not in html.replace("http://www.w3.org/2000/svg", "")


@pytest.mark.parametrize("doc, why", [
    ([], "no `verdicts` list"), ({"verdicts": "x"}, "no `verdicts` list"), ("text", "no `verdicts` list")])
def test_not_a_report_is_refused_in_one_line(doc, why):
    with pytest.raises(ReportError, match=why):
        build_page(doc, [])


def test_damaged_fields_show_what_is_there(tmp_path):
    fx = generate(12, tmp_path / "logs")
    doc = json.loads(json.dumps(fx.doc))
    doc["verdicts"].append(42)  # not an object: left out
    doc["verdicts"][2]["verdict"] = None
    doc["builds"][0]["started"] = "yesterday"  # no timeline bar for it
    doc["builds"][1]["seconds"] = True
    failed = [b for b in doc["builds"] if b["status"] == "failed"]
    failed[0]["log"] = str(tmp_path / "gone.log")  # a failure whose log is gone: the report's copy of its tail
    failed[0]["tail"] = ["the last line"]
    failed[1]["attempts"], failed[1]["cause"] = "2", 7
    doc["explanations"][doc["verdicts"][0]["package"]]["difference"] = {"format": "other"}
    doc["summary"] = "?"
    doc["machine"], doc["engine"], doc["critical_path"] = [1], 3, {"packages": "abc", "seconds": "x"}
    page = build_page(doc, [])
    assert len(page.rows) == 12 and page.rows[2].verdict == "?" and page.share is None
    assert page.explanations[0].error and "cannot be read" in page.explanations[0].error
    assert not page.critical and page.critical_seconds is None
    assert page.failures[0].tail == ("the last line",)
    assert page.failures[1].attempts == 1 and page.failures[1].cause is None
    out = write_html(page, tmp_path / "p.html")
    assert "<table id=\"pkgs\">" in out.read_text()


def test_write_is_whole_or_nothing(tmp_path):
    page = build_page(generate(3, tmp_path / "logs").doc, [])
    (tmp_path / "file").write_text("x")
    with pytest.raises(RebuildxError, match=r"file/p.html: cannot write the HTML report"):
        write_html(page, tmp_path / "file" / "p.html")
    (tmp_path / "dir" / "p.html").mkdir(parents=True)  # the rename fails: no half page, no temporary left
    with pytest.raises(RebuildxError, match="cannot write the HTML report"):
        write_html(page, tmp_path / "dir" / "p.html")
    assert [p.name for p in (tmp_path / "dir").iterdir()] == ["p.html"]
    old = write_html(page, tmp_path / "ok.html").read_text()
    assert old.endswith("</html>\n") or old.endswith("</html>")


def test_huge_explanations_and_histories_are_cut(tmp_path):
    fx = generate(8, tmp_path / "logs")
    package = next(iter(fx.doc["explanations"]))
    files = fx.doc["explanations"][package]["difference"]["difference"]["children"][0]
    files["children"] = files["children"] * 1000  # 4000 files: a hostile or broken report
    ledger = [VerdictRow("2026.03.0", "core-x", "MATCH", i * 100.0) for i in range(1000)]  # 1000 runs
    page = build_page(fx.doc, ledger)
    shown = next(e for e in page.explanations if e.package == package)
    assert len(shown.files) == 200 and shown.omitted == 3800
    assert len(page.runs) == 100 and page.runs_chart.count("<title>") == 100
    assert len(render(page)) < 400_000


def test_a_run_built_from_another_commit_says_so(tmp_path):
    doc = generate(3, tmp_path / "logs").doc
    assert build_page(doc, []).caveat is None
    doc.update(head="1234567890abcdef" * 2, dirty=["packages/core/x/Containerfile"])
    caveat = build_page(doc, []).caveat
    assert caveat and "Built from 1234567890ab with local changes" in caveat and "does not verify" in caveat
    assert 'class="caveat"' in render(build_page(doc, []))


def test_an_interrupted_write_leaves_the_old_page_and_no_temporary(tmp_path, monkeypatch):
    page = build_page(generate(3, tmp_path / "logs").doc, [])
    target = write_html(page, tmp_path / "p.html")
    before = target.read_text()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("rebuildx.report.html.os.replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_html(page, target)
    assert target.read_text() == before and [p.name for p in tmp_path.iterdir() if p.is_file()] == ["p.html"]


def test_signatures_checked_with_the_run_are_counted(tmp_path):
    doc = generate(3, tmp_path / "logs").doc
    doc["signatures"] = {"quorum": 2, "summary": {"QUORUM": 2, "UNDER_QUORUM": 0, "UNSIGNED": 1, "total": 3}}
    assert ("signatures", "2 QUORUM, 1 UNSIGNED (quorum 2)") in build_page(doc, []).meta
    doc["signatures"] = {"error": f"no such source {HOSTILE}"}
    assert ("signatures", f"not checked: no such source {HOSTILE}") in build_page(doc, []).meta
    doc["signatures"] = ["?"]
    assert "signatures" not in dict(build_page(doc, []).meta)


def test_explanations_damaged_in_depth_are_said_once(tmp_path):
    fx = generate(8, tmp_path / "logs")
    first, second = [p for p, _ in fx.doc["explanations"].items()][:2]
    deep: dict = {"kind": "image", "name": "x"}
    node = deep
    for _ in range(5000):  # deeper than Python's recursion limit
        node["children"] = [{"kind": "layer", "name": "y"}]
        node = node["children"][0]
    fx.doc["explanations"][first]["difference"] = {"format": "rebuildx-explain", "version": 1, "difference": deep}
    fx.doc["explanations"][second]["difference"]["difference"]["children"][0]["children"][0]["name"] = 7
    fx.doc["explanations"][second]["difference"]["difference"]["children"][0]["omitted"] = "many"
    page = build_page(fx.doc, [])
    shown = {e.package: e for e in page.explanations}
    assert shown[first].error and "cannot be read" in shown[first].error
    assert shown[second].error and "cannot be read" in shown[second].error
    assert "cannot be read" in render(page)


def _paths(o, pre=()):
    yield pre
    if isinstance(o, dict):
        for k, v in o.items():
            yield from _paths(v, (*pre, k))
    elif isinstance(o, list):
        for i, v in enumerate(o[:3]):
            yield from _paths(v, (*pre, i))


def test_any_field_of_any_type_gives_a_page_or_one_line(tmp_path):
    """A report damaged anywhere, with any JSON value (huge numbers too), gives a page of bounded
    size or a ReportError, never another exception, never unbounded work."""
    import copy
    import random

    fx = generate(10, tmp_path / "logs")
    values = [None, True, 0, -1, 1e308, -1e308, 2**70, "", HOSTILE, [], [1, "a"], {}, {"a": 1}]
    paths = [p for p in _paths(fx.doc) if p]
    rng = random.Random(14)
    for _ in range(400):
        doc = copy.deepcopy(fx.doc)
        for _ in range(rng.randint(1, 4)):
            *parents, last = rng.choice(paths)
            node = doc
            try:
                for key in parents:
                    node = node[key]
                node[last] = rng.choice(values)
            except (KeyError, IndexError, TypeError):
                pass  # an earlier change replaced the way there
        try:
            html = render(build_page(doc, fx.ledger))
        except ReportError:
            continue
        assert len(html) < 2_000_000 and HOSTILE not in html
