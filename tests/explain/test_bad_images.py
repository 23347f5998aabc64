"""Images explain cannot read, written by hand: each is one ExplainError naming the image and
what is wrong with it, before any layer is compared."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from regserver import file_info, layer_tar, layout_tarball, write_layout
from rebuildx.explain import ExplainError, ExplainOptions, LayoutSource, compare_images
from rebuildx.explain.sources import TarballSource, open_source
from rebuildx.explain.stream import LayerStream
from rebuildx.explain.limits import Limits
from rebuildx.explain.run import explain, resolve
from rebuildx.workspace import Workspace

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
LAYER = layer_tar([file_info("etc/ok", b"ok\n")])


def put(layout: Path, doc: object) -> dict:
    data = json.dumps(doc).encode() if not isinstance(doc, bytes) else doc
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs/sha256").mkdir(parents=True, exist_ok=True)
    (layout / "blobs/sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def top(layout: Path, desc: dict) -> None:
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [desc]}))
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')


def good(tmp_path: Path) -> LayoutSource:
    write_layout(tmp_path / "good", [LAYER])
    return LayoutSource(tmp_path / "good")


def explain_bad(tmp_path: Path, build) -> str:
    bad = tmp_path / "bad"
    bad.mkdir()
    build(bad)
    with pytest.raises(ExplainError) as info:
        compare_images(LayoutSource(bad), good(tmp_path), ExplainOptions(platform="linux/amd64"))
    return str(info.value)


def test_a_manifest_without_config(tmp_path):
    message = explain_bad(tmp_path, lambda p: top(p, {"mediaType": MANIFEST, **put(p, {"layers": []})}))
    assert message.endswith("has no config descriptor") and "bad: manifest sha256:" in message


def test_documents_that_are_not_json_objects(tmp_path):
    assert "is not JSON" in explain_bad(tmp_path, lambda p: top(p, {"mediaType": MANIFEST, **put(p, b"{nope")}))
    other = tmp_path / "other"
    other.mkdir()
    assert "is not a JSON object" in explain_bad(other, lambda p: top(p, {"mediaType": MANIFEST, **put(p, [1])}))


def test_indexes_without_images(tmp_path):
    def index(manifests):
        return lambda p: top(p, {"mediaType": INDEX, **put(p, {"mediaType": INDEX, "manifests": manifests})})

    for n, (manifests, message) in enumerate([
        ({"not": "a list"}, r"an index without a list of manifests"),
        ([{"mediaType": MANIFEST, "digest": "sha256:" + "a" * 64, "platform": {"os": "linux", "architecture": "arm64"}},
          {"mediaType": MANIFEST, "digest": "sha256:" + "b" * 64, "platform": {"os": "linux", "architecture": "s390x"}}],
         r"no linux/amd64 image in the index"),
    ]):
        where = tmp_path / str(n)
        where.mkdir()
        assert message in explain_bad(where, index(manifests))
    bad = tmp_path / "sig"
    bad.mkdir()
    top(bad, {"mediaType": INDEX, **put(bad, {"manifests": [{"mediaType": "application/vnd.dev.sig", "digest": "x"}]})})
    with pytest.raises(ExplainError, match=r"sig: the index lists no image manifests"):
        resolve(LayoutSource(bad), None, Limits())


def test_indexes_nested_too_deep(tmp_path):
    def deep(p: Path) -> None:
        desc = {"mediaType": MANIFEST, **put(p, {"config": {"digest": "x"}})}
        for _ in range(10):
            desc = {"mediaType": INDEX, **put(p, {"mediaType": INDEX, "manifests": [desc]})}
        top(p, desc)

    assert explain_bad(tmp_path, deep).endswith("bad: indexes nested more than 8 deep")


def test_layouts_that_are_not_layouts(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExplainError, match=r"empty: not an OCI layout \(no index.json, or an oversized one\)"):
        LayoutSource(tmp_path / "empty")
    (tmp_path / "empty/index.json").write_text("{")
    with pytest.raises(ExplainError, match=r"empty: index.json is not JSON"):
        LayoutSource(tmp_path / "empty")
    (tmp_path / "empty/index.json").write_text('{"manifests": []}')
    with pytest.raises(ExplainError, match=r"empty: index.json lists no manifests"):
        LayoutSource(tmp_path / "empty")
    (tmp_path / "empty/index.json").write_text(json.dumps({"manifests": [{"mediaType": MANIFEST, "digest": "sha256:short"}]}))
    with pytest.raises(ExplainError, match=r"empty.*sha256:short"):
        compare_images(LayoutSource(tmp_path / "empty"), good(tmp_path))
    (tmp_path / "empty/index.json").write_text(json.dumps({"manifests": [{"mediaType": MANIFEST, "digest": "sha256:" + "c" * 64}]}))
    with pytest.raises(ExplainError, match=r"empty: blob sha256:c{64} is missing \(No such file or directory\)"):
        compare_images(LayoutSource(tmp_path / "empty"), good(tmp_path))
    with pytest.raises(ExplainError, match=r"/nowhere/at/all: no such layout directory or tarball"):
        open_source("/nowhere/at/all")


def test_tarballs_that_are_not_oci_archives(tmp_path):
    write_layout(tmp_path / "img", [LAYER])
    whole = layout_tarball(tmp_path / "img", tmp_path / "img.tar")
    assert TarballSource(whole).roots()
    gz = tmp_path / "img.tar.gz"
    gz.write_bytes(gzip.compress(whole.read_bytes()))
    with pytest.raises(ExplainError, match=r"img.tar.gz: not an uncompressed tar archive .*decompressed first"):
        TarballSource(gz)
    legacy = tmp_path / "legacy.tar"
    with tarfile.open(legacy, "w") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"[]"))
    with pytest.raises(ExplainError, match=r"legacy.tar: no index.json in the tarball: not an OCI archive"):
        TarballSource(legacy)
    big = tmp_path / "big.tar"
    with tarfile.open(big, "w") as tar:
        info = tarfile.TarInfo("index.json")
        info.size = (4 << 20) + 1
        tar.addfile(info, io.BytesIO(b" " * info.size))
    with pytest.raises(ExplainError, match=r"big.tar: index.json is oversized \(4194305 bytes\)"):
        TarballSource(big)
    missing = tmp_path / "missing.tar"
    with tarfile.open(whole) as src, tarfile.open(missing, "w") as dst:
        for member in src.getmembers():
            if not member.name.startswith("blobs/"):
                dst.addfile(member, src.extractfile(member) if member.isreg() else None)
    with pytest.raises(ExplainError, match=r"missing.tar: blob sha256:[0-9a-f]{64} is missing from the tarball"):
        compare_images(TarballSource(missing), good(tmp_path))


def test_no_local_build(tmp_path):
    with pytest.raises(ExplainError, match=r"out/core-x: no local build of core-x \(run rebuildx build\)"):
        explain(Workspace(tmp_path), "core-x", good(tmp_path))


@pytest.mark.parametrize("raw, message", [
    (b"\x28\xb5\x2f\xfd" + b"\0" * 20, r"layer-x: zstd-compressed layer: not supported by explain yet"),
    (gzip.compress(LAYER)[:-30], r"layer-x: the gzip stream ends early"),
    (gzip.compress(LAYER) + b"trailing", r"layer-x: bytes after the end of the gzip stream"),
    (b"\x1f\x8b\x08\x00" + b"\xff" * 40, r"layer-x: not valid gzip"),
])
def test_layer_streams_that_cannot_be_read(raw, message):
    with pytest.raises(ExplainError, match=message):
        stream = LayerStream(io.BytesIO(raw), Limits(), "layer-x")
        stream.drain()


def test_two_gzip_members_are_one_layer():
    stream = LayerStream(io.BytesIO(gzip.compress(LAYER[:1000]) + gzip.compress(LAYER[1000:])), Limits(), "layer-x")
    stream.drain()
    assert stream.diff_id == "sha256:" + hashlib.sha256(LAYER).hexdigest()


def test_a_manifest_whose_layers_are_not_a_list(tmp_path):
    def build(p: Path) -> None:
        config = put(p, {"os": "linux", "architecture": "amd64", "rootfs": {"type": "layers", "diff_ids": []}})
        top(p, {"mediaType": MANIFEST, **put(p, {"config": config, "layers": {"digest": "x"}})})

    assert explain_bad(tmp_path, build).endswith("has no list of layer descriptors")


def test_a_tarball_of_too_many_members_is_refused(tmp_path, monkeypatch):
    import rebuildx.explain.sources as sources

    monkeypatch.setattr(sources, "MAX_TAR_MEMBERS", 3)  # the real cap is a million members
    many = tmp_path / "many.tar"
    with tarfile.open(many, "w") as tar:
        for n in range(6):
            info = tarfile.TarInfo(f"f{n}")
            tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(ExplainError, match=r"many.tar: more than 3 tar members; refused"):
        TarballSource(many)


def test_an_out_entry_from_a_manifest_over_4_mib_is_refused(tmp_path):
    from rebuildx.errors import LayoutError
    from rebuildx.oci.image import write_out_entry

    big = b" " * ((4 << 20) + 1)
    digest = "sha256:" + hashlib.sha256(big).hexdigest()
    (tmp_path / "blob").write_bytes(big)
    with pytest.raises(LayoutError, match=rf"core-x: manifest {digest} is larger than 4 MiB; refused"):
        write_out_entry(tmp_path / "core-x", digest, lambda d: tmp_path / "blob", "core-x")
