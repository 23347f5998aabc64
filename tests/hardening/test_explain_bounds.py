"""explain on a hostile layer (1M entries) and on a layout with a symlinked blob (issue 16)."""

from __future__ import annotations

import hashlib
import os

import pytest

from biglayer import empty_files_tar
from hostile import measured
from regserver import file_info, layer_tar, write_layout


@pytest.fixture(scope="module")
def million(tmp_path_factory):
    """A published image whose one layer holds 1,000,000 empty files (~14 MB gzip), and a tree
    whose out/core-x is a one-file image."""
    base = tmp_path_factory.mktemp("million")
    blob, diff_id = empty_files_tar(1_000_000)
    write_layout(base / "published", [blob], diff_ids=[diff_id])
    write_layout(base / "ws/out/core-x", [layer_tar([file_info("etc/ok", b"ok\n")])])
    return base


def test_explain_on_a_million_entries_is_bounded(million, record_property):
    run = measured("explain", "core-x", "--tree", str(million / "ws"),
                   "--published-image", str(million / "published"))
    record_property("explain_max_rss_mb", run.max_rss_mb)
    print(f"explain on a 1M-entry layer: peak RSS {run.max_rss_mb:.1f} MB")
    assert run.returncode == 1, run.stderr
    assert "more than 200000 tar entries" in run.stderr and "the comparison stopped here" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert run.max_rss_mb < 200


def test_symlinked_blob_is_named_not_hashed(tmp_path):
    layer = layer_tar([file_info("etc/ok", b"ok\n")])
    write_layout(tmp_path / "published", [layer])
    write_layout(tmp_path / "ws/out/core-x", [layer_tar([file_info("etc/ok", b"changed\n")])])
    blob = tmp_path / "published/blobs/sha256" / hashlib.sha256(layer).hexdigest()
    blob.unlink()
    os.symlink("/dev/null", blob)
    run = measured("explain", "core-x", "--tree", str(tmp_path / "ws"),
                   "--published-image", str(tmp_path / "published"))
    assert run.returncode == 1
    assert "is a symlink to /dev/null, which is not a regular file; refused" in run.stderr, run.stderr
    assert "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" not in run.stderr
