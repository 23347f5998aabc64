"""`rebuildx report` as a user runs it: a real process over a workspace's reports and state DB."""

from __future__ import annotations

import json
import subprocess
import sys

from rebuildx.outcomes import Verdict
from rebuildx.state.ledger import Ledger
from rebuildx.workspace import Workspace
from reportgen import HOSTILE, generate


def rebuildx(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def workspace(tmp_path, release="2026.03.0", n=12):
    """A workspace as verify leaves it: its JSON report, and the ledger's verdicts."""
    root = tmp_path / "stagex"
    fx = generate(n, root / ".rebuildx" / "logs", release=release)
    reports = root / ".rebuildx" / "reports"
    reports.mkdir(parents=True)
    (reports / f"verify-{release}.json").write_text(json.dumps(fx.doc))
    ledger = Ledger(Workspace(root))
    for v in fx.doc["verdicts"]:
        ledger.record(release, v["package"], Verdict(v["verdict"]), v["local"], v["published"], "built")
    return root, fx


def test_report_writes_the_page_beside_the_json_or_where_asked(tmp_path):
    root, fx = workspace(tmp_path)
    done = rebuildx("report", "--tree", str(root))
    assert done.returncode == 0, done.stderr
    page = root / ".rebuildx/reports/verify-2026.03.0.html"
    assert done.stdout.strip() == f"page: {page}"
    html = page.read_text()
    assert html.count("<tr data-verdict=") == 12 and HOSTILE not in html
    assert "2026.03.0" in html and "Share reproduced per run" in html  # the ledger's run is there
    other = tmp_path / "out" / "page.html"
    done = rebuildx("report", "--tree", str(root), "--release", "2026.03.0", "--html", str(other))
    assert done.returncode == 0 and other.is_file()
    # without --tree: the current directory's ./stagex, as verify clones it
    assert rebuildx("report", cwd=tmp_path).returncode == 0
    # without --release: the newest run's report, never another kind of report beside it
    (root / ".rebuildx/reports/verify-2026.03.0-podman.json").write_text('{"rows": []}')
    done = rebuildx("report", "--tree", str(root))
    assert done.returncode == 0 and done.stdout.strip() == f"page: {page}"


def test_report_errors_are_one_line_with_exit_1(tmp_path):
    root, fx = workspace(tmp_path)
    cases = {
        ("--release", "2026.04.0"): "no verify report of release 2026.04.0; run `rebuildx verify --release 2026.04.0`",
        ("--html", str(tmp_path / "file" / "p.html")): "cannot write the HTML report",
    }
    (tmp_path / "file").write_text("")
    for args, message in cases.items():
        done = rebuildx("report", "--tree", str(root), *args)
        assert done.returncode == 1 and done.stdout == "", (args, done)
        assert done.stderr.count("\n") == 1 and message in done.stderr, (args, done.stderr)
    empty = tmp_path / "empty"
    empty.mkdir()
    done = rebuildx("report", "--tree", str(empty))
    assert done.returncode == 1 and "no verify report; run `rebuildx verify --release R` first" in done.stderr
    report = root / ".rebuildx/reports/verify-2026.03.0.json"
    for damage in (b"{\"verdicts\": [", b"\xff\xfe", b"[1, 2]", b"[" * 100_000):
        report.write_bytes(damage)
        done = rebuildx("report", "--tree", str(root))
        assert done.returncode == 1 and "not a verify report" in done.stderr and done.stderr.count("\n") == 1
    assert rebuildx("report", "--no-such-option").returncode == 2
    done = rebuildx("report", "--tree", str(root), "--release", "latest")  # a bad value: a usage error
    assert done.returncode == 2 and "release 'latest' is not of the form YYYY.MM.N" in done.stderr


def test_unreadable_state_db_still_gives_the_page_without_history(tmp_path):
    root, fx = workspace(tmp_path)
    (root / ".rebuildx/state.sqlite").write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (root / f".rebuildx/state.sqlite{suffix}").unlink(missing_ok=True)
    done = rebuildx("report", "--tree", str(root))
    assert done.returncode == 0, done.stderr
    html = (root / ".rebuildx/reports/verify-2026.03.0.html").read_text()
    # the damaged DB was moved aside (state/db.py) and a new one started: the page has no history yet
    assert list((root / ".rebuildx").glob("state.sqlite.broken-*")), "the damaged DB was not kept aside"
    assert html.count("<tr data-verdict=") == 12
