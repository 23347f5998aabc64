"""Options that do not go together: a usage error (exit 2) naming both, before any work is done
(nothing written into the tree, no engine asked)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rebuildx.api.runs import engine_for
from rebuildx.errors import RebuildxError
from rebuildx.workspace import Workspace


def rebuildx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, message", [
    (["doctor", "--makefile", "{tree}/Makefile", "--targets-py"], "--makefile and --targets-py: choose one"),
    (["explain", "core-hello", "--json", "--markdown"], "--json and --markdown: choose one"),
    (["build", "core-hello", "--dry-run", "--engine", "podman"],
     "--dry-run prints buildx's commands (the release's Makefile's); not with --engine"),
    (["verify", "core-hello", "--release", "2026.03.0", "--engine", "podman", "--attest-key", "{tree}/key"],
     "--attest-key signs digest verdicts of buildx runs; --engine podman compares by content"),
    (["verify", "core-hello", "--release", "2026.03.0", "--engine", "podman", "--deps", "published"],
     "--engine podman builds the closure: it does not take --deps published"),
    (["verify", "core-hello", "--release", "2026.03.0", "--engine", "podman", "--sigs", "{tree}"],
     "--engine podman does not check signatures: run `rebuildx signatures` after it"),
])
def test_options_that_do_not_go_together(fixture_tree, args, message):
    root = fixture_tree.root
    (root / "Makefile").write_text("all:\n")
    done = rebuildx(*[a.format(tree=root) for a in args], "--tree", str(root))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] in (f"Error: {message}", f"rebuildx: error: {message}")  # click's or ours
    assert "Traceback" not in done.stderr
    made = sorted(str(p.relative_to(root)) for p in (root / ".rebuildx").rglob("*"))
    assert made in ([], [".rebuildx/cache", ".rebuildx/cache/package-toml.json", ".rebuildx/cache/tree.json"])
    assert not (root / "out").exists()  # at most the memory of the tree as read (stagex/readcache.py)


def test_an_unknown_engine_given_to_the_library_is_one_error(tmp_path):
    """The CLI offers only buildx and podman; a library caller may pass anything."""
    with pytest.raises(RebuildxError, match=r"^--engine kaniko: unknown engine \(buildx or podman\)$"):
        engine_for(Workspace(tmp_path), "kaniko")


def test_builders_with_the_podman_engine_is_one_error(fixture_tree):
    done = rebuildx("build", "core-hello", "--engine", "podman", "--builder", "unix:///nonexistent.sock",
                    "--tree", str(fixture_tree.root))
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == ("rebuildx: error: --builder names BuildKit builders: it does not go with "
                                   "--engine podman")
    assert not (fixture_tree.root / "out").exists()
