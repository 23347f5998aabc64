"""A damaged, read-only or misplaced state DB in every verb that opens it: one line saying what
is wrong and how to fix it, or (damaged) moved aside and the run goes on, saying so (issue 16)."""

from __future__ import annotations

import subprocess
import sys

import pytest

DROP_DAC = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
            "--inh-caps", "-dac_override,-dac_read_search"]  # root that file modes apply to

VERBS = [["status", "--release", "2026.03.0"], ["fetch", "hello", "--offline"], ["compare", "--published", "PUB"],
         ["doctor", "--air-gapped"]]


def rebuildx(root, verb: list[str], prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    args = [str(root.parent / "published") if a == "PUB" else a for a in verb]
    return subprocess.run([*(prefix or []), sys.executable, "-m", "rebuildx", *args, "--tree", str(root)],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def tree(fixture_tree):
    fixture_tree.prefill_fetch()
    published = fixture_tree.root.parent / "published"
    published.mkdir()
    (published / "core.txt").write_text(f"{'ab' * 32} core-hello\n")
    return fixture_tree.root


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize("verb", [*VERBS, ["plan"]], ids=lambda v: v[0])
def test_damaged_db_is_moved_aside_and_the_run_goes_on(tree, verb):
    (tree / ".rebuildx").mkdir()
    (tree / ".rebuildx/state.sqlite").write_bytes(b"garbage, not SQLite" * 100)
    done = rebuildx(tree, verb)
    assert "Traceback" not in done.stderr and done.returncode != 1, done.stderr
    warning = done.stderr.splitlines()[0]
    assert warning.startswith(f"rebuildx: WARNING: {tree}/.rebuildx/state.sqlite: damaged (file is not a database); "
                              f"moved aside to {tree}/.rebuildx/state.sqlite.broken-"), done.stderr
    (aside,) = (tree / ".rebuildx").glob("state.sqlite.broken-*")
    assert aside.read_bytes().startswith(b"garbage")  # kept, for whoever wants to look
    assert (tree / ".rebuildx/state.sqlite").read_bytes().startswith(b"SQLite format 3")


@pytest.mark.parametrize("verb", VERBS, ids=lambda v: v[0])
def test_state_dir_that_is_a_file(tree, verb):
    (tree / ".rebuildx").write_text("oops")
    assert one_line(rebuildx(tree, verb)) == (f"rebuildx: error: {tree}/.rebuildx: a file is where rebuildx keeps "
                                              f"a directory; fix: move it away (mv {tree}/.rebuildx "
                                              f"{tree}/.rebuildx.old) and run again")


@pytest.mark.parametrize("verb", VERBS, ids=lambda v: v[0])
def test_state_db_that_is_a_directory(tree, verb):
    (tree / ".rebuildx/state.sqlite").mkdir(parents=True)
    line = one_line(rebuildx(tree, verb))
    assert line.startswith(f"rebuildx: error: {tree}/.rebuildx/state.sqlite: not a file, so not a state DB; fix:")


@pytest.mark.parametrize("verb", VERBS, ids=lambda v: v[0])
def test_read_only_db(tree, verb):
    assert rebuildx(tree, ["status", "--release", "2026.03.0"]).returncode == 0  # a good DB
    for path in (tree / ".rebuildx").glob("state.sqlite*"):
        path.chmod(0o444)
    (tree / ".rebuildx").chmod(0o555)
    try:
        line = one_line(rebuildx(tree, verb, DROP_DAC))
    finally:
        (tree / ".rebuildx").chmod(0o755)
    if verb[0] == "fetch":  # its scratch directory is made first
        assert line == (f"rebuildx: error: {tree}/.rebuildx/tmp/fetch: cannot create it (Permission denied); fix: "
                        f"make {tree}/.rebuildx writable by this user, or run as its owner")
        return
    assert line.startswith(f"rebuildx: error: {tree}/.rebuildx/state.sqlite: the state DB cannot be written")
    assert f"fix: make {tree}/.rebuildx and the files in it writable by this user" in line
