"""pull_layout and the client against a real docker-registry on 127.0.0.1 (and a token proxy)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rebuildx.errors import RegistryError
from rebuildx.oci.layout import check_layout
from rebuildx.registry import RegistryClient, parse_reference, pull_layout


def blobs(layout: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (layout / "blobs" / "sha256").iterdir()}


def top(layout: Path) -> dict:
    return json.loads((layout / "index.json").read_text())["manifests"][0]


def test_pull_by_tag_and_digest_is_the_image_as_pushed(registry, small_image, tmp_path):
    layout, digests = small_image
    registry.push(layout, "stagex/small", "1.0")
    by_tag = tmp_path / "by-tag"
    assert pull_layout(f"{registry.host}/stagex/small:1.0", by_tag) == digests["index"]
    check_layout(by_tag)
    assert blobs(by_tag) == blobs(layout)
    assert top(by_tag)["annotations"]["org.opencontainers.image.ref.name"] == "1.0"
    by_manifest = tmp_path / "by-manifest"
    pull_layout(f"{registry.host}/stagex/small@{digests['manifest']}", by_manifest)
    check_layout(by_manifest)
    assert top(by_manifest)["digest"] == digests["manifest"]
    assert top(by_manifest)["mediaType"] == "application/vnd.oci.image.manifest.v1+json"


def test_pull_one_platform_names_its_manifest(registry, small_image, tmp_path):
    layout, digests = small_image
    registry.push(layout, "stagex/small", "1.0")
    dest = tmp_path / "amd64"
    assert pull_layout(f"{registry.host}/stagex/small@{digests['index']}", dest, "linux/amd64") == digests["manifest"]
    check_layout(dest)
    assert top(dest)["platform"] == {"architecture": "amd64", "os": "linux"}
    assert top(dest)["annotations"]["io.rebuildx.pulled-from-index"] == digests["index"]
    with pytest.raises(RegistryError, match="no linux/arm64 image"):
        pull_layout(f"{registry.host}/stagex/small@{digests['index']}", tmp_path / "arm", "linux/arm64")


@pytest.mark.parametrize("how", ["flip", "longer"])
def test_tampered_blob_is_refused_and_nothing_is_left(registry, small_image, tmp_path, how):
    layout, digests = small_image
    registry.push(layout, "stagex/small", "1.0")
    manifest = json.loads((layout / "blobs/sha256" / digests["manifest"].split(":")[1]).read_text())
    layer = manifest["layers"][0]["digest"]
    registry.tamper_blob(layer, None if how == "flip" else registry.blob_file(layer).read_bytes() + b"x")
    dest = tmp_path / "pulled"
    ref = f"{registry.host}/stagex/small@{digests['index']}"
    expected = (rf"{ref}: asked for blob {layer}, received sha256:[0-9a-f]{{64}}" if how == "flip"
                else rf"{ref}: blob {layer}: received more than")
    with pytest.raises(RegistryError, match=expected):
        pull_layout(ref, dest)
    assert not dest.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["image"]


def test_bearer_token_flow(auth_proxy, registry, small_image, tmp_path):
    layout, digests = small_image
    registry.push(layout, "stagex/small", "1.0")
    dest = tmp_path / "via-proxy"
    pull_layout(f"{auth_proxy.host}/stagex/small:1.0", dest)
    check_layout(dest)
    assert auth_proxy.token_queries == [{"service": ["test-registry"], "scope": ["repository:stagex/small:pull"]}]
    first, *rest = [r for r in auth_proxy.requests if not r[0].startswith("/token")]
    assert first[1] is None and rest and all(auth == "Bearer anon-token-42" for _, auth in rest)


def test_wrong_manifest_bytes_are_refused(auth_proxy, registry, small_image, tmp_path):
    layout, digests = small_image
    registry.push(layout, "stagex/small", "1.0")
    auth_proxy.swap[f"/v2/stagex/small/manifests/{digests['manifest']}"] = b'{"schemaVersion":2}'
    ref = f"{auth_proxy.host}/stagex/small@{digests['manifest']}"
    with pytest.raises(RegistryError, match=rf"asked for manifest {digests['manifest']}, received sha256:"):
        pull_layout(ref, tmp_path / "x")
    # by tag, the registry's Docker-Content-Digest header is what the bytes must match
    auth_proxy.swap = {"/v2/stagex/small/manifests/1.0": b'{"schemaVersion":2}'}
    with pytest.raises(RegistryError, match=rf"asked for manifest {digests['index']}, received"):
        pull_layout(f"{auth_proxy.host}/stagex/small:1.0", tmp_path / "y")


def test_missing_image_and_existing_dest(registry, small_image, tmp_path):
    layout, _ = small_image
    with pytest.raises(RegistryError, match=r"not found: .*/v2/stagex/none/manifests/1.0 \(404\)"):
        pull_layout(f"{registry.host}/stagex/none:1.0", tmp_path / "none")
    registry.push(layout, "stagex/small", "1.0")
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(RegistryError, match="already exists"):
        pull_layout(f"{registry.host}/stagex/small:1.0", dest)
    pull_layout(f"{registry.host}/stagex/small:1.0", dest, replace=True)
    check_layout(dest)


def test_unreachable_registry_is_one_line(tmp_path):
    from regserver import free_port
    with RegistryClient() as client, pytest.raises(RegistryError, match=r"127\.0\.0\.1:\d+/a/b:1: .*ConnectError"):
        client.get_manifest(parse_reference(f"127.0.0.1:{free_port()}/a/b:1"))
