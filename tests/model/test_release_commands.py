"""Acceptance: for every release in the shared data and every package, the command rebuildx runs
is the one in that release's generated Makefile (targets.mk, from the release's own
src/targets.py), make variables expanded with the Makefile's defaults.

The tree is regenerated from the release's graph.json (packages, versions, sources, deps) and
committed to git twice, so that 2024.12.0's `$(shell git rev-list HEAD -1 packages/…)` is real
git output, different between packages. The data is read from /work/shared/data at test time
(never copied here); a missing release fails the test.

Differences by design (none reaches the image):
- `docker buildx build` for make's `$(BUILDER) build` (BUILDER is `command -v docker`, whose
  `build` is buildx's);
- `--progress=plain` for make's `auto`, so that logs are whole;
- a dep named twice in a Containerfile gives make two equal `--build-context`s, rebuildx one.
"""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import pytest

from rebuildx.engine.buildx import buildx_argv, link_steps
from rebuildx.stagex.checkout import package_revision
from rebuildx.stagex.makefile import read_recipes
from rebuildx.stagex.releases import profile_for
from rebuildx.stagex.tree import load_tree
from shareddata import shared_data
from treegen import write_graph_tree

DATA = shared_data()
RELEASES = ["2024.12.0", "2025.02.0", "2025.04.0", "2025.06.0", "2025.06.1", "2025.08.0", "2025.10.0",
            "2026.01.0", "2026.03.0"]


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   check=True, capture_output=True)


def _graph_tree(root: Path, graph: dict) -> Path:
    write_graph_tree(root, graph)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "release tree")
    first = graph["packages"][0]  # a second commit: revisions differ between packages
    with open(root / "packages" / first["stage"] / first["origin"] / "Containerfile", "a") as f:
        f.write("# touched\n")
    _git(root, "commit", "-qam", "touch one package")
    return root


def _normalised(argv: list[str] | tuple[str, ...]) -> list[str]:
    """Make's command as rebuildx runs it: the differences by design applied."""
    out: list[str] = []
    seen: set[str] = set()
    i = 0
    while i < len(argv):
        if argv[i] == "--build-context":
            if argv[i + 1] not in seen:
                seen.add(argv[i + 1])
                out += argv[i:i + 2]
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out


@pytest.mark.parametrize("release", RELEASES)
def test_every_command_is_the_releases_own(tmp_path, release):
    data = DATA / f"stagex-{release}"
    assert (data / "graph.json").is_file() and (data / "targets.mk.gz").is_file(), \
        f"{data}: the release data is missing (graph.json, targets.mk.gz); this test needs it"
    graph = json.loads((data / "graph.json").read_text())
    root = _graph_tree(tmp_path / "stagex", graph)
    tree = load_tree(root)
    profile = profile_for(release)
    recipes = read_recipes(gzip.decompress((data / "targets.mk.gz").read_bytes()).decode(),
                           name=f"stagex-{release}/targets.mk",
                           revision=lambda path: package_revision(root, path))
    assert sorted(recipes) == sorted(tree.packages)
    differ = []
    for full, package in tree.packages.items():
        theirs = recipes[full]
        ours = buildx_argv(package, "linux/amd64", profile=profile,
                           revision=package_revision(root, str(package.directory)))
        assert ours[:3] == ["docker", "buildx", "build"] and "--progress=plain" in ours
        expected = _normalised(["docker", "buildx", "build", *theirs.argv[2:]])
        expected[expected.index("--progress=auto")] = "--progress=plain"
        if ours != expected:
            differ.append(full)
        assert link_steps(package, profile) == list(theirs.steps[4:]), full
    assert not differ, f"{len(differ)} of {len(tree.packages)} commands differ from {release}'s: {differ[:10]}"
    if profile.revision:  # the revision annotation really is per package
        revisions = {package_revision(root, str(p.directory)) for p in tree.packages.values()}
        assert len(revisions) == 2


def test_the_newest_profile_is_not_every_releases(tmp_path):
    """The check above can fail: 2025.06.1's tree with 2026.03.0's profile differs everywhere."""
    data = DATA / "stagex-2025.06.1"
    root = _graph_tree(tmp_path / "stagex", json.loads((data / "graph.json").read_text()))
    tree = load_tree(root)
    recipes = read_recipes(gzip.decompress((data / "targets.mk.gz").read_bytes()).decode())
    stage0 = tree.packages["bootstrap-stage0"]
    ours = buildx_argv(stage0, "linux/amd64", profile=profile_for("2026.03.0"))
    theirs = recipes["bootstrap-stage0"].argv
    assert "name=stage0," in " ".join(theirs) and "name=bootstrap-stage0," in " ".join(ours)
