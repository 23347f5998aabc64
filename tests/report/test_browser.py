"""The HTML report in a real browser: filters, explanations, hostile text, size and speed."""

from __future__ import annotations

import io
import statistics
import time

import pytest

from reportgen import HOSTILE, generate, write_page

pytestmark = pytest.mark.browser


@pytest.fixture
def small(tmp_path):
    fx = generate(24, tmp_path / "logs")
    return fx, write_page(fx, tmp_path / "verify.html")


def visible_rows(page) -> int:
    return page.locator("#pkgs tbody tr:not(.hidden)").count()


def test_filter_to_mismatch_and_count_rows(small, open_page):
    fx, html = small
    o = open_page(html)
    mismatches = sum(1 for v in fx.doc["verdicts"] if v["verdict"] == "MISMATCH")
    assert visible_rows(o.page) == 24
    o.page.select_option("#f-verdict", "MISMATCH")
    assert visible_rows(o.page) == mismatches == 2
    assert o.page.locator("#shown").inner_text() == "2 of 24 packages"
    assert set(o.page.locator("#pkgs tbody tr:not(.hidden) td:nth-child(3) .tag").all_inner_texts()) == {"MISMATCH"}
    # the stage filter and the search box narrow it further; a verdict chip filters too
    o.page.select_option("#f-verdict", "")
    o.page.select_option("#f-stage", "user")
    users = sum(1 for v in fx.doc["verdicts"] if v["package"].startswith("user-"))
    assert visible_rows(o.page) == users > 0
    o.page.select_option("#f-stage", "")
    o.page.fill("#f-search", "PKG01")
    assert visible_rows(o.page) == 10  # pkg010 … pkg019
    o.page.fill("#f-search", "")
    o.page.click(".chip[data-verdict=FAILED]")
    assert visible_rows(o.page) == 2 and o.page.input_value("#f-verdict") == "FAILED"
    assert o.errors == [] and o.requests == []


def test_columns_sort(small, open_page):
    fx, html = small
    o = open_page(html)
    o.page.click("#pkgs th:nth-child(6) button")  # duration, ascending: not-built (no duration) first
    got = [float(x) for x in o.page.eval_on_selector_all("#pkgs tbody td:nth-child(6)", "els => els.map(e => e.dataset.v)")]
    assert got == sorted(got) and got[0] == -1
    o.page.click("#pkgs th:nth-child(6) button")
    again = [float(x) for x in o.page.eval_on_selector_all("#pkgs tbody td:nth-child(6)", "els => els.map(e => e.dataset.v)")]
    assert again == sorted(got, reverse=True)
    assert o.page.get_attribute("#pkgs th:nth-child(6)", "aria-sort") == "descending"
    o.page.click("#pkgs th:nth-child(1) button")
    names = o.page.locator("#pkgs tbody td.pkg .name").all_inner_texts()
    assert names == sorted(names, key=str.lower)
    assert o.errors == []


def test_open_an_explanation_and_a_failure(small, open_page):
    fx, html = small
    o = open_page(html)
    o.page.select_option("#f-verdict", "MISMATCH")
    row = o.page.locator("#pkgs tbody tr:not(.hidden)").nth(1)
    name = row.locator("td.pkg .name").inner_text()
    target = row.locator("a.why").get_attribute("href")
    details = o.page.locator(target)
    assert not details.evaluate("d => d.open")
    row.locator("a.why").click()
    assert details.evaluate("d => d.open")
    assert details.locator("table.files").is_visible()
    assert name in details.locator("summary").inner_text()
    files = details.locator("table.files tbody tr").all_inner_texts()
    assert any("usr/lib/lib0.so" in f and "content" in f for f in files)
    # a failure shows its cause, fix and the log's tail (the last lines, not the first)
    o.page.select_option("#f-verdict", "FAILED")
    o.page.locator("#pkgs tbody tr:not(.hidden) a.why").first.click()
    failure = o.page.locator("#failures details[open]")
    assert failure.count() == 1
    text = failure.inner_text()
    assert "Cause: engine state" in text and "Fix: restart containerd and dockerd" in text
    assert f"Seen in the log: failed to commit {HOSTILE}" in text and "tried 2 times" in text
    assert "#199 step 199" in text and "#100 step 100" not in text
    assert o.errors == []


def test_hostile_text_shows_as_text_and_runs_nothing(small, open_page):
    fx, html = small
    o = open_page(html)
    assert o.page.evaluate("window.__pwned") is None
    assert o.page.locator("script").count() == 1  # the page's own
    assert HOSTILE in o.page.locator("#pkgs tbody td.pkg .name").first.inner_text()
    for d in o.page.locator("details").all():
        d.evaluate("d => d.open = true")
    assert HOSTILE in o.page.locator("#mismatches").inner_text()  # package name, comment, file path
    assert f"ERROR: {HOSTILE}" in o.page.locator("#failures pre.log").first.inner_text()
    assert o.page.evaluate("window.__pwned") is None
    assert o.errors == [] and o.requests == []


def test_screenshot_is_not_blank(small, open_page, tmp_path):
    from PIL import Image, ImageStat

    fx, html = small
    o = open_page(html)
    png = o.page.screenshot(full_page=True)
    (tmp_path / "page.png").write_bytes(png)
    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.size[0] == 1280 and image.size[1] > 1500
    assert ImageStat.Stat(image).stddev[0] > 20  # a blank or one-colour page is near 0
    # the header is dark, the body light: the stylesheet was applied
    assert image.getpixel((5, 5)) < 80 and image.getpixel((5, 300)) > 200


def test_513_packages_small_and_fast(tmp_path, browser, capsys):
    fx = generate(513, tmp_path / "logs")  # as many packages as StageX 2026.03.0
    html = write_page(fx, tmp_path / "verify.html")
    size = html.stat().st_size
    assert size <= 2 * 2**20, f"{size} bytes"
    wall, painted, errors = [], [], []
    # at least 7 loads, up to 15 while none has painted within 1 s: the machine is shared, and
    # other work slows some loads; the best shows what the page itself costs
    while len(painted) < 7 or (min(painted) > 1.0 and len(painted) < 15):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("pageerror", lambda e: errors.append(str(e)))
        started = time.perf_counter()
        page.goto(html.as_uri())  # until the load event
        # the first frame painted after it, in ms since the navigation began (the browser's own clock)
        painted.append(page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                                     "requestAnimationFrame(() => r(performance.now()))))") / 1000)
        wall.append(time.perf_counter() - started)
        assert page.locator("#pkgs tbody tr:not(.hidden)").count() == 513 and errors == []
        page.close()
    with capsys.disabled():
        print(f"\n513-package report: {size / 1024:.0f} KiB; painted after {min(painted):.3f} s at best, "
              f"{statistics.median(painted):.3f} s median of {len(painted)} (wall clock from goto: best "
              f"{min(wall):.3f} s, median {statistics.median(wall):.3f} s)")
    assert min(painted) <= 1.0
