"""Warnings the library tells while `logging` is not loaded (rebuildx/logs.py) read as logging
would write them, and, as with logging, a stderr nobody can write to never changes the result."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

WARNING = "rebuildx: WARNING: packages/user/orphan: Containerfile without package.toml, skipped\n"


def _plan(tree, *args: str, **kwargs) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "rebuildx", *args, "plan", "--json", "--tree", str(tree)],
                          stdout=subprocess.PIPE, timeout=60, **kwargs)


@pytest.fixture
def warned_tree(fixture_tree):
    orphan = fixture_tree.root / "packages/user/orphan"
    orphan.mkdir(parents=True)
    (orphan / "Containerfile").write_text("FROM scratch\n")
    return fixture_tree.root


@pytest.mark.parametrize("verbose", [(), ("-v",)])
def test_a_warning_reads_as_logging_writes_it(warned_tree, verbose):
    done = _plan(warned_tree, *verbose, stderr=subprocess.PIPE)
    assert done.returncode == 0 and done.stderr.decode() == WARNING


@pytest.mark.parametrize("stderr", ["full", "closed"])
def test_an_unwritable_stderr_loses_the_warning_not_the_plan(warned_tree, stderr):
    expected = _plan(warned_tree, stderr=subprocess.DEVNULL)
    assert expected.returncode == 0 and expected.stdout.startswith(b"{")
    for memo in (True, False):  # told from the tree as remembered, and as read afresh
        if not memo:
            shutil.rmtree(warned_tree / ".rebuildx" / "cache")
        if stderr == "full":  # a disk full under 2>file, as /dev/full is
            with open("/dev/full", "wb") as full:
                done = _plan(warned_tree, stderr=full)
        else:  # 2>&-
            done = _plan(warned_tree, stderr=subprocess.DEVNULL, preexec_fn=lambda: os.close(2))
        assert (done.returncode, done.stdout) == (0, expected.stdout), memo
