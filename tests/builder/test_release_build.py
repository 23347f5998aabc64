"""The release's recipe reaches the image: the same package built with 2025.06.1's and with
2026.03.0's commands (real engine) carries each release's names, and so another digest."""

from __future__ import annotations

import pytest

import ocitools
from rebuildx.build.run import BuildOptions, run_build
from rebuildx.engine.buildx import BuildxEngine
from rebuildx.engine.check import require_engine
from rebuildx.oci.digest import entry_digest
from rebuildx.stagex.releases import profile_for
from rebuildx.stagex.tree import load_tree
from rebuildx.workspace import Workspace
from treegen import write_fixture_tree


@pytest.mark.engine
def test_each_releases_names_are_written_into_the_manifest(tmp_path, engine):
    found = {}
    for release in ("2025.06.1", "2026.03.0"):
        tree = write_fixture_tree(tmp_path / release, hello_text="release names")
        tree.prefill_fetch()
        root = tree.root
        ws = Workspace(root)
        report = run_build(ws, load_tree(root), ["bootstrap-seed"], BuildOptions(), BuildxEngine(
            ws, profile=profile_for(release)), require_engine().identity)
        assert report.ok, [r.error for r in report.results]
        layout = ws.out_entry("bootstrap-seed")
        found[release] = (ocitools.manifest(layout).get("annotations", {}), entry_digest(layout))
    old, new = found["2025.06.1"][0], found["2026.03.0"][0]
    assert old["containerd.io/distribution.source.docker.io"] == "stagex/seed"
    assert new["containerd.io/distribution.source.docker.io"] == "stagex/bootstrap-seed"
    assert old["org.opencontainers.image.created"] == new["org.opencontainers.image.created"] == "1970-01-01T00:00:01Z"
    assert found["2025.06.1"][1] != found["2026.03.0"][1]
