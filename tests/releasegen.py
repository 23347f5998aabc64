"""A StageX-like upstream repository for tests: the fixture tree in git, with release branches
whose digests/ hold "published" digests made by building the same tree elsewhere."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from rebuildx.build.run import BuildOptions, run_build
from rebuildx.compare.digestfiles import write_digests
from rebuildx.engine.buildx import BuildxEngine
from rebuildx.stagex.tree import load_tree
from rebuildx.workspace import Workspace
from treegen import FixtureTree

GITIGNORE = "out\nfetch\npackages/*/*/fetch/*\n.rebuildx\n"


def git(root: Path, *args: str) -> str:
    env_args = ["-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    return subprocess.run(["git", *env_args, "-C", str(root), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def init_repo(tree: FixtureTree) -> None:
    (tree.root / ".gitignore").write_text(GITIGNORE)
    git(tree.root, "init", "-q")
    git(tree.root, "add", "-A")
    git(tree.root, "commit", "-qm", "fixture tree")


def publish(tree: FixtureTree, scratch: Path, identity: str) -> Path:
    """Build a copy of `tree` in `scratch` (sources prefilled) and return its out/ (the
    "published images"); its digests/ is the "published digests" folder."""
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(tree.root, scratch, ignore=shutil.ignore_patterns(".git", "out", "fetch", ".rebuildx"))
    FixtureTree(scratch, tree.fetch_files).prefill_fetch()
    ws = Workspace(scratch)
    report = run_build(ws, load_tree(scratch), (), BuildOptions(jobs=2, cold=True), BuildxEngine(ws), identity)
    assert report.ok, [r.error for r in report.results if not r.ok]
    write_digests(ws)
    return scratch


def release_branch(tree: FixtureTree, release: str, digests_dir: Path) -> str:
    """Commit `digests_dir`'s files as digests/ on a new branch release/<release>; return its commit."""
    git(tree.root, "checkout", "-q", "-b", f"release/{release}")
    shutil.rmtree(tree.root / "digests", ignore_errors=True)
    shutil.copytree(digests_dir, tree.root / "digests")
    git(tree.root, "add", "-f", "digests")
    git(tree.root, "commit", "-qm", f"release {release}")
    commit = git(tree.root, "rev-parse", "HEAD")
    git(tree.root, "checkout", "-q", "main")
    return commit
