"""The real engine: the fixture's seed and a package on top of it, through docker buildx."""

from __future__ import annotations

from rebuildx.engine.base import BuildRequest
from rebuildx.engine.buildx import BuildxEngine
from rebuildx.oci import check_layout, manifest_digest
from rebuildx.tree import load_tree
from rebuildx.workspace import Workspace
import ocitools


def test_seed_and_dependent_build_for_real(engine, fixture_tree):
    fixture_tree.prefill_fetch()
    tree = load_tree(fixture_tree.root)
    ws = Workspace(fixture_tree.root)
    builder = BuildxEngine(ws)

    seed = builder.build(BuildRequest(tree.packages["bootstrap-seed"]))
    assert seed.ok, seed.error
    hello = builder.build(BuildRequest(tree.packages["core-hello"]))
    assert hello.ok, hello.error

    for name, outcome in (("bootstrap-seed", seed), ("core-hello", hello)):
        layout = ws.out_entry(name)
        check_layout(layout)
        assert manifest_digest(layout) == outcome.digest
    seed_files = ocitools.files(ws.out_entry("bootstrap-seed"))
    assert seed_files["bin/busybox"].mode & 0o111 and seed_files["bin/sh"].issym()
    assert ocitools.read_file(ws.out_entry("bootstrap-seed"), "bin/busybox") == fixture_tree.fetch_files[
        "fetch/bootstrap/seed/busybox-1.0"]
    # core-hello copies only its own files out of a build stage that ran on the seed
    assert ocitools.read_file(ws.out_entry("core-hello"), "usr/bin/hello") == b"#!/bin/sh\necho hello\n"
    assert "bin/busybox" not in ocitools.files(ws.out_entry("core-hello"))
    # the Makefile's staging of sources into the package directory happened
    assert (fixture_tree.root / "packages/core/hello/fetch/hello-1.2.3.tar.gz").is_file()
    # timestamps rewritten to SOURCE_DATE_EPOCH=1, as StageX publishes them
    assert {i.mtime for i in ocitools.files(ws.out_entry("core-hello")).values()} == {1}


def test_failed_build_leaves_no_out_entry(engine, fixture_tree):
    fixture_tree.prefill_fetch()
    (fixture_tree.root / "packages/core/hello/Containerfile").write_text(
        "FROM stagex/bootstrap-seed\nRUN --network=none exit 3\n")
    tree = load_tree(fixture_tree.root)
    ws = Workspace(fixture_tree.root)
    builder = BuildxEngine(ws)
    assert builder.build(BuildRequest(tree.packages["bootstrap-seed"])).ok
    failed = builder.build(BuildRequest(tree.packages["core-hello"]))
    assert not failed.ok and "exited 1" in failed.error and failed.log.is_file()
    assert not ws.out_entry("core-hello").exists()
    assert list(ws.tmp.iterdir()) == []
