"""`rebuildx digests` never loses a published digest file and writes as `mkdir` would (issue 16)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from regserver import file_info, layer_tar, write_layout

STAGES = ("bootstrap", "core", "pallet", "user")


def rebuildx(*args: str, umask: int = 0o022) -> subprocess.CompletedProcess[str]:
    argv = " ".join(f"'{a}'" for a in [sys.executable, "-m", "rebuildx", *args])
    return subprocess.run(["sh", "-c", f"umask {umask:03o}; exec {argv}"], capture_output=True, text=True,
                          timeout=120)


def git(root, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def checkout(fixture_tree):
    """The fixture tree as a git checkout tracking four published digests/<stage>.txt."""
    root = fixture_tree.root
    (root / "digests").mkdir()
    for stage in STAGES:
        (root / "digests" / f"{stage}.txt").write_text(f"{'ab' * 32} {stage}-published\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "release")
    return root


def test_empty_out_deletes_nothing_and_says_why(checkout):
    done = rebuildx("digests", "--tree", str(checkout))
    assert done.returncode == 1
    assert done.stderr.strip() == (f"rebuildx: error: {checkout}/out: no entries, so no digest file was written "
                                   f"(digests/ is left as it is); build first")
    assert git(checkout, "status", "--porcelain", "--", "digests") == ""


def test_only_stages_with_entries_are_written(checkout):
    digests = write_layout(checkout / "out/core-hello", [layer_tar([file_info("etc/ok", b"ok\n")])])
    done = rebuildx("digests", "--tree", str(checkout))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"> {checkout}/digests/core.txt"
    assert (checkout / "digests/core.txt").read_text() == f"{digests['manifest'][7:]} core-hello\n"
    assert git(checkout, "status", "--porcelain", "--", "digests").strip() == "M digests/core.txt"  # the others are kept


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_modes_follow_the_umask(fixture_tree, umask):
    root = fixture_tree.root
    write_layout(root / "out/core-hello", [layer_tar([file_info("etc/ok", b"ok\n")])])
    done = rebuildx("digests", "--tree", str(root), umask=umask)
    assert done.returncode == 0, done.stderr
    assert (root / "digests").stat().st_mode & 0o777 == 0o777 & ~umask
    assert (root / "digests/core.txt").stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in (root / "digests").iterdir()] == ["core.txt"]
