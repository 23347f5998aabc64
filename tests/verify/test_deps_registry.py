"""`verify --deps published` with deps pulled from a real registry on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from regserver import LocalRegistry
from rebuildx.oci.digest import entry_digest


@pytest.fixture
def registry(upstream):
    with LocalRegistry() as reg:
        for entry in sorted(upstream.published_out.iterdir()):
            reg.push(entry, f"stagex/{entry.name}", "latest")
        yield reg


def verify(upstream, tmp_path, registry, *selection):
    return subprocess.run([sys.executable, "-m", "rebuildx", "verify", *selection, "--release", "2099.01.0",
                           "--repo", str(upstream.root), "--tree", str(tmp_path / "stagex"), "-j", "2",
                           "--deps", "published", "--deps-from", f"{registry.host}/stagex"],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.engine
def test_leaf_against_deps_pulled_from_the_registry_matches(upstream, tmp_path, registry):
    done = verify(upstream, tmp_path, registry, "pallet-hello-kit")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "stagex/.rebuildx/reports/verify-2099.01.0.json").read_text())
    assert [(v["package"], v["verdict"], v["deps_from"]) for v in report["verdicts"]] == [
        ("pallet-hello-kit", "MATCH", "published")]
    for dep, digest in report["published_deps"].items():  # the deps in out/ are the published images
        assert entry_digest(tmp_path / "stagex/out" / dep) == f"sha256:{digest}"


@pytest.mark.engine
def test_tampered_registry_blob_is_refused(upstream, tmp_path, registry):
    hello = upstream.published_out / "core-hello"
    manifest = json.loads((hello / "blobs/sha256" / entry_digest(hello).split(":")[1]).read_text())
    registry.tamper_blob(manifest["layers"][0]["digest"])
    done = verify(upstream, tmp_path, registry, "core-pair")
    assert done.returncode == 1
    assert manifest["layers"][0]["digest"] in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "stagex/out/core-hello").exists()
