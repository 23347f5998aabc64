"""doctor --makefile: rebuildx's build commands against a Makefile the tree generated."""

from __future__ import annotations

import gzip
import json

from rebuildx.doctor.checks import Level
from rebuildx.doctor.commands import command_findings
from rebuildx.stagex.releases import profile_for
from rebuildx.stagex.tree import load_tree
from shareddata import shared_data
from treegen import write_graph_tree

DATA = shared_data() / "stagex-2025.06.1"


def _tree(tmp_path):
    root = tmp_path / "stagex"
    write_graph_tree(root, json.loads((DATA / "graph.json").read_text()))
    return load_tree(root)


def test_the_releases_own_makefile_agrees_and_a_changed_one_is_named(tmp_path):
    tree = _tree(tmp_path)
    packages = [tree.packages[n] for n in ("bootstrap-stage0", "core-bash", "user-linux-generic")]
    own = command_findings(tree.root, packages, profile_for("2025.06.1"), DATA / "targets.mk.gz")
    assert own.level is Level.PASS and "3 build commands equal" in own.message
    text = gzip.decompress((DATA / "targets.mk.gz").read_bytes()).decode()
    changed = tmp_path / "targets.mk"  # a newer recipe: full names for one package
    changed.write_text(text.replace("name=bash,", "name=core-bash,", 1))
    found = command_findings(tree.root, packages, profile_for("2025.06.1"), changed)
    assert found.level is Level.WARN
    assert found.message.startswith(f"1 of 3 build commands differ from {changed}'s: core-bash "
                                    f"(rebuildx: name=bash; Makefile: name=core-bash)")


def test_another_releases_profile_is_caught(tmp_path):
    tree = _tree(tmp_path)
    found = command_findings(tree.root, [tree.packages["bootstrap-stage0"]], profile_for("2026.03.0"),
                             DATA / "targets.mk.gz")
    assert found.level is Level.WARN and "name=bootstrap-stage0" in found.message and "name=stage0" in found.message


def test_a_file_that_is_no_generated_makefile_fails_with_one_line(tmp_path):
    tree = _tree(tmp_path)
    for content in (b"all:\n\techo hi\n", b"\x1f\x8b broken gzip", b"\xff\xfe",
                    b"out/core-bash/index.json:\n\t$(BUILDER) build $(WHAT) x\n",
                    b"out/core-bash/index.json:\n\tmkdir -p out\n", b"out/core-bash/index.json:\n\t$(BUILDER) build 'x\n"):
        bad = tmp_path / "bad.mk"
        bad.write_bytes(content)
        found = command_findings(tree.root, [tree.packages["core-bash"]], profile_for("2025.06.1"), bad)
        assert found.level is Level.FAIL and str(bad) in found.message and "\n" not in found.message
