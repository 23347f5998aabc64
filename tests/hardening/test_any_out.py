"""`compare --any-out` and malformed out/ entries: a MATCH rests on blobs that are there and hash
to what the index claims, and a broken index.json names its field (issue 16)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from regserver import file_info, layer_tar, write_layout


def rebuildx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True, timeout=120)


def blob(layout, digest: str):
    return layout / "blobs/sha256" / digest.split(":", 1)[1]


@pytest.fixture
def foreign(fixture_tree, tmp_path):
    """out/core-hello written by someone else (as StageX's make would), and its digest published."""
    layout = fixture_tree.root / "out/core-hello"
    layer = layer_tar([file_info("usr/bin/hello", b"#!/bin/sh\necho hello\n")])
    digests = write_layout(layout, [layer])
    manifest = json.loads(blob(layout, digests["manifest"]).read_text())
    published = tmp_path / "published"
    published.mkdir()
    (published / "core.txt").write_text(f"{digests['manifest'][7:]} core-hello\n")
    return fixture_tree.root, layout, manifest, digests, published


def verdict(root, published) -> dict:
    done = rebuildx("compare", "hello", "--any-out", "--json", "--tree", str(root), "--published", str(published))
    assert "Traceback" not in done.stderr, done.stderr
    return next(v for v in json.loads(done.stdout)["verdicts"] if v["package"] == "core-hello")


def test_intact_foreign_entry_matches(foreign):
    root, _, _, _, published = foreign
    assert verdict(root, published)["verdict"] == "MATCH"


def edit_manifest(layout, manifest, digests):
    blob(layout, digests["manifest"]).write_text(json.dumps(manifest) + " ")


def replace_layer(layout, manifest, digests):
    blob(layout, manifest["layers"][0]["digest"]).write_bytes(layer_tar([file_info("usr/bin/hello", b"evil\n")]))


def delete_layer(layout, manifest, digests):
    blob(layout, manifest["layers"][0]["digest"]).unlink()


def edit_config(layout, manifest, digests):
    path = blob(layout, manifest["config"]["digest"])
    path.write_bytes(path.read_bytes().replace(b"PATH", b"HACK"))


@pytest.mark.parametrize("damage", [edit_manifest, replace_layer, delete_layer, edit_config])
def test_damaged_foreign_entry_never_matches(foreign, damage):
    root, layout, manifest, digests, published = foreign
    damage(layout, manifest, digests)
    v = verdict(root, published)
    assert v["verdict"] == "NOT_BUILT", v
    assert v["note"].startswith("out/ entry is damaged, so it proves nothing (")


@pytest.mark.parametrize("index, field", [("{}", "no manifests"), ('{"manifests": 5}', "malformed 'manifests'"),
                                          ('{"manifests": [{"digest": 5}]}', "malformed 'manifests'"),
                                          ('{"manifests": [{"digest": "sha256:abc"}]}', "malformed digest")])
def test_malformed_index_names_the_field(fixture_tree, index, field):
    layout = fixture_tree.root / "out/core-hello"
    layout.mkdir(parents=True)
    (layout / "index.json").write_text(index)
    done = rebuildx("digests", "--tree", str(fixture_tree.root))
    assert done.returncode == 1
    line = done.stderr.strip()
    assert line.startswith("rebuildx: error: out/core-hello: cannot read its digest") and field in line, line
    assert "object" not in line and "subscriptable" not in line
