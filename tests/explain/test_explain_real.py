"""explain on images built by the real engine, published through a real registry, a layout
directory and a docker-save style tarball."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from regserver import layout_tarball
from rebuildx.cli import app
from rebuildx.api import default_published_image
from rebuildx.errors import RegistryError
from rebuildx.explain import (CONTENT, IDENTICAL, LAYER_SPLIT, METADATA, DiffoscopeOptions, ExplainOptions,
                              LayoutSource, RegistrySource, TarballSource, explain, from_json, render_markdown)
from rebuildx.oci.digest import entry_digest
from rebuildx.workspace import Workspace


def run(built, package, source, **opts):
    with source:
        return explain(Workspace(built.local), package, source, ExplainOptions(**opts))


def cli(*args: str):
    return CliRunner().invoke(app, ["explain", *args], catch_exceptions=False)


@pytest.mark.engine
def test_non_deterministic_step_is_named_as_content(built):
    diff = run(built, "core-clock", LayoutSource(built.published_layout("core-clock")))
    assert diff.classification == CONTENT
    assert [(f.name, f.classification) for f in diff.files()] == [("etc/build-time", CONTENT)]
    assert [c.name for c in diff.files()[0].children] == ["sha256"]  # same size, other bytes
    assert {c.kind for c in diff.children} == {"index", "manifest", "config", "layers", "files"}


@pytest.mark.engine
def test_mode_change_is_metadata(built):
    diff = run(built, "core-perm", LayoutSource(built.published_layout("core-perm")))
    assert diff.classification == METADATA
    [f] = diff.files()
    assert (f.name, [(c.name, c.published, c.local) for c in f.children]) == ("usr/bin/hi", [("mode", "0755", "0644")])


@pytest.mark.engine
def test_same_files_in_other_layers_is_layer_split_only(built):
    diff = run(built, "core-split", LayoutSource(built.published_layout("core-split")))
    assert diff.classification == LAYER_SPLIT and diff.files() == []
    layers = diff.child("layers")
    assert (layers.published, layers.local) == ("2 layers", "1 layers")
    assert "layer split only" in render_markdown(diff)


@pytest.mark.engine
def test_from_registry_by_digest_and_tag(built, registry):
    layout = built.published_layout("core-clock")
    registry.push(layout, "stagex/core-clock", "1.0")
    digest = entry_digest(layout)
    for ref in (f"{registry.host}/stagex/core-clock@{digest}", f"{registry.host}/stagex/core-clock:1.0"):
        diff = run(built, "core-clock", RegistrySource(ref))
        assert [(f.name, f.classification) for f in diff.files()] == [("etc/build-time", CONTENT)], ref
    assert diff.published.startswith(f"{registry.host}/stagex/core-clock:1.0@sha256:")


@pytest.mark.engine
def test_from_tarball_and_cli_json_round_trip(built, tmp_path):
    tarball = layout_tarball(built.published_layout("core-perm"), tmp_path / "core-perm.tar")
    assert run(built, "core-perm", TarballSource(tarball)).classification == METADATA
    result = cli("core-perm", "--tree", str(built.local), "--published-image", str(tarball), "--json")
    assert result.exit_code == 3
    doc = json.loads(result.output)
    assert doc["format"] == "rebuildx-explain" and doc["version"] == 1
    assert from_json(doc).files()[0].classification == METADATA
    md = cli("core-perm", "--tree", str(built.local), "--published-image", str(tarball), "--markdown")
    assert md.exit_code == 3 and "| metadata only | `usr/bin/hi` | mode |" in md.output
    assert default_published_image(built.local, "core-perm") == "docker.io/stagex/core-perm:1.0"


@pytest.mark.engine
def test_identical_exits_0_and_errors_exit_1(built, tmp_path):
    same = cli("core-perm", "--tree", str(built.local), "--published-image", str(built.local / "out/core-perm"))
    assert same.exit_code == 0 and IDENTICAL in same.output
    missing = cli("core-nothing", "--tree", str(built.local), "--published-image", str(built.local / "out/core-perm"))
    assert missing.exit_code == 1 and "no package 'core-nothing'" in missing.output


@pytest.mark.engine
def test_tampered_registry_blob_is_refused(built, registry):
    layout = built.published_layout("core-clock")
    registry.push(layout, "stagex/core-clock", "1.0")
    ref = f"{registry.host}/stagex/core-clock@{entry_digest(layout)}"
    layer = json.loads((layout / "blobs/sha256" / entry_digest(layout).split(":")[1]).read_text())["layers"][0]
    registry.tamper_blob(layer["digest"])
    with pytest.raises(RegistryError, match=rf"asked for blob {layer['digest']}, received sha256:"):
        run(built, "core-clock", RegistrySource(ref))
    result = cli("core-clock", "--tree", str(built.local), "--published-image", ref)
    assert result.exit_code == 1
    assert f"rebuildx: error: {ref}: asked for blob {layer['digest']}, received sha256:" in result.output


@pytest.mark.engine
def test_diffoscope_on_content_differences(built):
    if shutil.which("diffoscope") is None:
        pytest.fail("diffoscope is missing (scripts/setup installs diffoscope-minimal)")
    diff = run(built, "core-clock", LayoutSource(built.published_layout("core-clock")),
               diffoscope=DiffoscopeOptions(timeout=60))
    [f] = diff.files()
    assert f.detail is not None and "build-time" in f.detail and "@@" in f.detail
    missing = run(built, "core-clock", LayoutSource(built.published_layout("core-clock")),
                  diffoscope=DiffoscopeOptions(command="diffoscope-not-installed"))
    assert missing.files()[0].detail is None
    assert any("diffoscope is not installed" in c for c in missing.files()[0].comments)
