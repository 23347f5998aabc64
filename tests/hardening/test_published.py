"""`--published` as a user gives it: a checkout root, a ref that does not exist, a digests file
that is not text, a URL that sends gigabytes (issue 16)."""

from __future__ import annotations

import subprocess
import sys

from hostile import Flood, measured
from rebuildx.compare.published import MAX_DIGEST_FILE

HEX = "ab" * 32


def rebuildx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True, timeout=120)


def git_tree(tree):
    root = tree.root
    (root / "digests").mkdir()
    (root / "digests/core.txt").write_text(f"{HEX} core-hello\n")
    for argv in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(root), *argv], check=True)
    return root


def test_checkout_root_is_read_as_its_digests(fixture_tree, tmp_path):
    root = git_tree(fixture_tree)
    done = rebuildx("compare", "hello", "--json", "--tree", str(root), "--published", str(root))
    assert "no published digests" not in done.stderr
    assert f'"published": "{HEX}"' in done.stdout, done.stderr


def test_missing_git_ref_says_no_such_ref(fixture_tree):
    root = git_tree(fixture_tree)
    done = rebuildx("compare", "--tree", str(root), "--published", "git:nonexistent-ref")
    assert done.returncode == 1
    assert done.stderr.strip() == (f"rebuildx: error: --published git:nonexistent-ref: no such ref in {root}'s "
                                   f"repository (see `git -C {root} branch -a`; fetch the release branch first)")


def test_non_utf8_digest_file_is_one_line(fixture_tree, tmp_path):
    published = tmp_path / "published"
    published.mkdir()
    (published / "core.txt").write_bytes(b"\xff\xfe bad\n")
    done = rebuildx("compare", "--tree", str(fixture_tree.root), "--published", str(published))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (f"rebuildx: error: {published}/core.txt: not UTF-8 text (invalid start byte "
                                   f"at byte 0); not a digest file")


def test_published_url_is_streamed_and_capped(fixture_tree, record_property):
    server = Flood(2 << 30)
    try:
        run = measured("compare", "--tree", str(fixture_tree.root), "--published", server.url)
    finally:
        server.close()
    record_property("published_url_max_rss_mb", run.max_rss_mb)
    print(f"--published URL sending 2 GB: peak RSS {run.max_rss_mb:.1f} MB, server sent {server.sent} bytes")
    assert run.returncode == 1
    assert run.stderr.strip().endswith(f"more than {MAX_DIGEST_FILE} bytes; not a digest file (stopped)")
    assert run.max_rss_mb < 200
