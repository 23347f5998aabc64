"""verify's HTML page of a real run (fixture release, real engine) opened in a real browser."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from releasegen import git
from treegen import sha256, tarball

pytestmark = [pytest.mark.engine, pytest.mark.browser]


def rebuildx(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=900)


def test_verify_page_shows_the_run(upstream, tmp_path, open_page):  # noqa: F811
    root = upstream.root
    data = tarball("hello-1.2.3", {"hello.sh": "#!/bin/sh\necho tampered\n"})
    old = sha256(upstream.fetch_files["fetch/core/hello/hello-1.2.3.tar.gz"])
    git(root, "checkout", "-q", "release/2099.01.0")
    toml = root / "packages/core/hello/package.toml"
    toml.write_text(toml.read_text().replace(old, sha256(data)))  # hello and what holds it: MISMATCH
    (root / "packages/core/tools/Containerfile").write_text("FROM stagex/bootstrap-seed\nRUN --network=none false\n")
    git(root, "commit", "-qam", "change hello, break tools")
    git(root, "branch", "-q", "-m", "release/2099.01.0", "release/2099.01.3")
    git(root, "checkout", "-q", "main")
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "hello-1.2.3.tar.gz").write_bytes(data)
    tree = tmp_path / "stagex"
    done = rebuildx("verify", "--release", "2099.01.3", "--repo", str(root), "--tree", str(tree), "-j", "2",
                    "--sources", str(sources), "--explain-from", str(upstream.published_out))
    assert done.returncode == 3, done.stderr[-3000:]
    html = tree / ".rebuildx/reports/verify-2099.01.3.html"
    assert f"page: {html}" in done.stdout
    doc = json.loads(html.with_suffix(".json").read_text())
    verdicts = {v["package"]: v["verdict"] for v in doc["verdicts"]}
    assert verdicts == {"bootstrap-seed": "MATCH", "core-hello": "MISMATCH", "core-pair": "MISMATCH",
                        "core-tool-a": "FAILED", "core-tool-b": "FAILED", "pallet-hello-kit": "FAILED"}
    assert "docker" in doc["engine"] and doc["machine"]["cpus"] >= 1 and doc["started"] <= doc["finished"]
    assert doc["critical_path"]["packages"][0] == "bootstrap-seed" and doc["critical_path"]["seconds"] > 0
    timed = [b for b in doc["builds"] if b["started"] and b["seconds"] > 0]
    assert len(timed) == 5  # every package but the blocked one was built or tried

    o = open_page(html)
    page = o.page
    assert page.locator("#f-verdict option").all_inner_texts() == ["all", "MATCH", "MISMATCH", "FAILED"]
    page.select_option("#f-verdict", "MISMATCH")
    assert page.locator("#pkgs tbody tr:not(.hidden)").count() == 2
    hello = page.locator("#pkgs tbody tr:not(.hidden)", has_text="core-hello")
    hello.locator("a.why").click()
    opened = page.locator("#mismatches details[open]")
    assert opened.count() == 1 and "core-hello" in opened.locator("summary").inner_text()
    assert "usr/bin/hello" in opened.locator("table.files").inner_text()
    page.select_option("#f-verdict", "FAILED")
    assert page.locator("#pkgs tbody tr:not(.hidden)").count() == 3
    tool = page.locator("#pkgs tbody tr:not(.hidden)", has_text="core-tool-a")
    tool.locator("a.why").click()
    failure = page.locator("#failures details[open]")
    log = next(b["log"] for b in doc["builds"] if b["package"] == "core-tool-a")
    last = [line for line in open(log, encoding="utf-8").read().splitlines() if line.strip()][-1]
    assert last.strip() in failure.locator("pre.log").inner_text()
    blocked = page.locator("#failures details", has_text="pallet-hello-kit")
    assert "core-tool-a" in blocked.locator("summary").inner_text()  # blocked by it: said, with no log
    assert page.locator("#timeline svg rect").count() == len(timed)
    assert doc["engine"] in page.locator(".meta").inner_text()
    page.screenshot(path=str(tmp_path / "verify-page.png"), full_page=True)
    assert o.errors == [] and o.requests == []

    # `rebuildx report` writes the same page again, where asked
    again = rebuildx("report", "--tree", str(tree), "--html", str(tmp_path / "again.html"))
    assert again.returncode == 0 and (tmp_path / "again.html").read_text().count("<tr data-verdict=") == 6
