"""Verdicts on hand-written images: compression only, layer split with whiteouts, tarball forms."""

from __future__ import annotations

import gzip
import tarfile

import pytest

from regserver import file_info, layer_tar, layout_tarball, write_layout
from rebuildx.explain import (COMPRESSION, LAYER_SPLIT, ExplainError, LayoutSource, TarballSource,
                              compare_images, open_source)

FILES = [file_info("etc/a", b"a\n"), file_info("etc/b", b"b\n")]


def test_same_tar_other_gzip_is_compression_only(tmp_path):
    raw = layer_tar(FILES, compress=False)
    write_layout(tmp_path / "p", [gzip.compress(raw, compresslevel=1, mtime=0)])
    write_layout(tmp_path / "l", [gzip.compress(raw, compresslevel=9, mtime=0)])
    diff = compare_images(LayoutSource(tmp_path / "p"), LayoutSource(tmp_path / "l"))
    assert diff.classification == COMPRESSION and diff.child("layers").children[0].classification == "compression only"


def test_whiteouts_across_layers_equal_one_merged_layer(tmp_path):
    stale = layer_tar([file_info("etc/a", b"old\n"), file_info("tmp/junk", b"x"), file_info("var/cache/c", b"c")])
    fixup = layer_tar([file_info("etc/a", b"a\n"), file_info("etc/b", b"b\n"), file_info("tmp/.wh.junk"),
                       file_info("var/.wh.cache")])
    write_layout(tmp_path / "p", [stale, fixup])
    write_layout(tmp_path / "l", [layer_tar(FILES)])
    diff = compare_images(LayoutSource(tmp_path / "p"), LayoutSource(tmp_path / "l"))
    assert diff.files() == [] and diff.classification == LAYER_SPLIT


def test_tarball_forms(tmp_path):
    write_layout(tmp_path / "img", [layer_tar(FILES)])
    tarball = layout_tarball(tmp_path / "img", tmp_path / "img.tar")
    assert isinstance(open_source(tarball), TarballSource)
    assert compare_images(open_source(tarball), LayoutSource(tmp_path / "img")).identical
    (tmp_path / "img.tar.gz").write_bytes(gzip.compress(tarball.read_bytes()))
    with pytest.raises(ExplainError, match="not an uncompressed tar archive"):
        open_source(tmp_path / "img.tar.gz")
    with tarfile.open(tmp_path / "legacy.tar", "w") as tar:
        tar.add(tmp_path / "img" / "oci-layout", arcname="manifest.json")
    with pytest.raises(ExplainError, match="no index.json in the tarball"):
        open_source(tmp_path / "legacy.tar")
    with pytest.raises(ExplainError, match="no such layout directory or tarball"):
        open_source(tmp_path / "missing.tar")
