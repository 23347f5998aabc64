"""Every way an out/ entry can be damaged gives one LayoutError naming the entry and what is wrong;
the layouts are written here byte by byte, a whole one first, then each damaged in one place."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from rebuildx.errors import LayoutError
from rebuildx.oci.digest import Semantics, entry_digest
from rebuildx.oci.layout import blob_path, check_layout, read_json

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def put(layout: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs/sha256").mkdir(parents=True, exist_ok=True)
    (layout / "blobs/sha256" / digest).write_bytes(data)
    return digest


def desc(media: str, layout: Path, data: bytes) -> dict:
    return {"mediaType": media, "digest": f"sha256:{put(layout, data)}", "size": len(data)}


def whole(layout: Path) -> dict[str, str]:
    """A complete entry as buildx writes it: index -> nested index -> manifest -> config, layer.
    Returns the hex digests by role."""
    layer = b"layer bytes"
    config = json.dumps({"rootfs": {"type": "layers"}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST,
                           "config": desc("application/vnd.oci.image.config.v1+json", layout, config),
                           "layers": [desc("application/vnd.oci.image.layer.v1.tar", layout, layer)]}).encode()
    m = desc(MANIFEST, layout, manifest)
    nested = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": [m]}).encode()
    n = desc(INDEX, layout, nested)
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [n]}))
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return {"nested": n["digest"], "manifest": m["digest"], "layer": "sha256:" + hashlib.sha256(layer).hexdigest()}


def index_says(layout: Path, doc: object) -> None:
    (layout / "index.json").write_text(json.dumps(doc))


def _blob(layout: Path, digest: str) -> Path:
    return layout / "blobs/sha256" / digest.split(":")[1]


DAMAGES: dict[str, tuple[Callable[[Path, dict], None], str]] = {
    "no oci-layout": (lambda p, d: (p / "oci-layout").unlink(), r"core-x: no oci-layout file$"),
    "index not JSON": (lambda p, d: (p / "index.json").write_text("{"), r"index.json: not readable JSON"),
    "index missing": (lambda p, d: (p / "index.json").unlink(), r"index.json: not readable JSON"),
    "manifests not a list": (lambda p, d: index_says(p, {"manifests": {"digest": "x"}}),
                             r"index.json: malformed 'manifests' \(expected a list of descriptors with digests\)"),
    "descriptor without digest": (lambda p, d: index_says(p, {"manifests": [{"size": 1}]}), r"malformed 'manifests'"),
    "no manifests": (lambda p, d: index_says(p, {"manifests": []}), r"core-x/index.json: no manifests$"),
    "malformed digest": (lambda p, d: index_says(p, {"manifests": [{"digest": "sha256:abc"}]}),
                         r"unsupported or malformed digest 'sha256:abc'"),
    "other algorithm": (lambda p, d: index_says(p, {"manifests": [{"digest": "sha512:" + "a" * 64}]}),
                        r"unsupported or malformed digest"),
    "blob missing": (lambda p, d: _blob(p, d["layer"]).unlink(), r"blob sha256:[0-9a-f]{64} is missing$"),
    "blob of the wrong size": (lambda p, d: _blob(p, d["layer"]).write_bytes(b"layer bytes!"),
                               r"blob sha256:[0-9a-f]{64} has size 12, expected 11$"),
    "blob changed, same size": (lambda p, d: _blob(p, d["layer"]).write_bytes(b"LAYER BYTES"),
                                r"blob sha256:[0-9a-f]{64} does not match its digest$"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_each_damage_is_one_named_error(tmp_path, damage):
    layout = tmp_path / "core-x"
    digests = whole(layout)
    check_layout(layout)  # whole first
    do, message = DAMAGES[damage]
    do(layout, digests)
    with pytest.raises(LayoutError, match=message) as info:
        check_layout(layout)
    assert str(layout) in str(info.value) and "\n" not in str(info.value)


def test_entry_digest_of_a_whole_entry_under_both_semantics(tmp_path):
    digests = whole(tmp_path / "core-x")
    assert entry_digest(tmp_path / "core-x", Semantics.INDEX, check=True) == digests["nested"]
    assert entry_digest(tmp_path / "core-x", Semantics.MANIFEST, check=True) == digests["manifest"]


def test_entry_digest_refuses_what_it_cannot_read(tmp_path):
    layout = tmp_path / "core-x"
    digests = whole(layout)
    index_says(layout, {"manifests": []})
    with pytest.raises(LayoutError, match=r"core-x/index.json: no manifests"):
        entry_digest(layout)
    index_says(layout, {"manifests": [{"mediaType": INDEX, "digest": "sha256:" + "A" * 64}]})
    with pytest.raises(LayoutError, match=r"unsupported or malformed digest"):
        entry_digest(layout)
    index_says(layout, {"manifests": [{"mediaType": MANIFEST, "digest": "sha256:" + "a" * 63}]})
    with pytest.raises(LayoutError, match=r"index.json: malformed digest 'sha256:a{63}'"):
        entry_digest(layout, Semantics.INDEX)
    empty = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": []}).encode()
    index_says(layout, {"manifests": [desc(INDEX, layout, empty)]})
    with pytest.raises(LayoutError, match=r"core-x: the index does not lead to a nested index with a manifest"):
        entry_digest(layout)
    bad = json.dumps({"manifests": [{"mediaType": MANIFEST, "digest": "md5:00"}]}).encode()
    nested = desc(INDEX, layout, bad)
    index_says(layout, {"manifests": [nested]})
    with pytest.raises(LayoutError, match=rf"core-x/blobs/sha256/{nested['digest'][7:]}: malformed digest 'md5:00'$"):
        entry_digest(layout)
    worse = json.dumps({"manifests": {"digest": "x"}}).encode()
    nested = desc(INDEX, layout, worse)
    index_says(layout, {"manifests": [nested]})
    with pytest.raises(LayoutError, match=rf"core-x/blobs/sha256/{nested['digest'][7:]}: malformed 'manifests'"):
        entry_digest(layout)
    index_says(layout, {"manifests": "nope"})
    with pytest.raises(LayoutError, match=r"core-x/index.json: malformed 'manifests'"):
        entry_digest(layout)
    index_says(layout, {"manifests": [{"mediaType": MANIFEST, "digest": "sha256:" + "X" * 64}]})
    with pytest.raises(LayoutError, match=r"core-x/index.json: malformed digest 'sha256:X{64}'$"):
        entry_digest(layout)
    # an index naming a manifest directly (skopeo copy of a manifest): that manifest, either way
    shutil.rmtree(layout)
    digests = whole(layout)
    index_says(layout, {"manifests": [{"mediaType": MANIFEST, "digest": digests["manifest"], "size": 1}]})
    assert entry_digest(layout, Semantics.MANIFEST) == entry_digest(layout, Semantics.INDEX) == digests["manifest"]


def test_blob_path_and_read_json(tmp_path):
    assert blob_path(tmp_path, "sha256:" + "0" * 64) == tmp_path / "blobs/sha256" / ("0" * 64)
    with pytest.raises(LayoutError, match=r"unsupported or malformed digest 'sha256:" + "0" * 65):
        blob_path(tmp_path, "sha256:" + "0" * 65)
    (tmp_path / "x.json").write_bytes(b"\xff")
    with pytest.raises(LayoutError, match=r"x.json: not readable JSON"):
        read_json(tmp_path / "x.json")
