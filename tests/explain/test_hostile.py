"""Hostile layers, written by hand into OCI layouts: survived as data, never written to disk,
stopped with a clear message where they would exhaust the machine."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import time
from pathlib import Path

import pytest

from regserver import file_info, layer_tar, write_layout
from rebuildx.explain import (ExplainError, ExplainOptions, LayoutSource, LimitExceeded, Limits,
                              compare_images)

BENIGN = [file_info("etc/ok", b"ok\n")]


def image(tmp_path: Path, name: str, layers: list[bytes], **kw) -> LayoutSource:
    write_layout(tmp_path / name, layers, **kw)
    return LayoutSource(tmp_path / name)


def compare(tmp_path: Path, hostile: list[bytes], limits: Limits | None = None, **kw):
    return compare_images(image(tmp_path, "hostile", hostile, **kw), image(tmp_path, "benign", [layer_tar(BENIGN)]),
                          ExplainOptions(limits=limits or Limits()))


def raw_tar_header(info: tarfile.TarInfo) -> bytes:
    return info.tobuf(tarfile.PAX_FORMAT)


def test_hostile_names_and_nodes_are_data(tmp_path, monkeypatch):
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    evil = f"tmp/rebuildx-evil-{os.getpid()}"
    char = tarfile.TarInfo("dev/mem")
    char.type, char.devmajor, char.devminor = tarfile.CHRTYPE, 1, 1
    fifo = tarfile.TarInfo("run/pipe")
    fifo.type = tarfile.FIFOTYPE
    hard = tarfile.TarInfo("etc/hard")
    hard.type, hard.linkname = tarfile.LNKTYPE, "../../../etc/passwd"
    sym = tarfile.TarInfo("etc/shadow-link")
    sym.type, sym.linkname = tarfile.SYMTYPE, "/etc/shadow"
    members = [file_info(f"../../../../{evil}", b"escaped\n"), file_info("/abs/file", b"abs\n"),
               (char, None), (fifo, None), (hard, None), (sym, None), file_info("x" * 300 + "/long", b"l")]
    diff = compare(tmp_path, [layer_tar(members)])
    files = {f.name: f for f in diff.files()}
    assert "'..' in the tar path" in " ".join(files[evil].comments)
    assert "absolute path" in " ".join(files["abs/file"].comments)
    assert "device node 1:1" in " ".join(files["dev/mem"].comments)
    assert files["dev/mem"].published.startswith("char device")
    assert files["etc/hard"].published.startswith("hardlink -> ../../../etc/passwd")
    assert ("x" * 300 + "/long") in files and files["etc/ok"].local is not None
    assert not Path("/" + evil).exists() and list(workdir.iterdir()) == []


def test_absurd_sizes(tmp_path):
    huge = tarfile.TarInfo("big")
    huge.size = 1 << 40  # a header claiming 1 TiB, followed by a few bytes
    layer = gzip.compress(raw_tar_header(huge) + b"tiny" + b"\0" * 1020)
    with pytest.raises(LimitExceeded, match=r"entry 'big' claims 1099511627776 bytes"):
        compare(tmp_path, [layer])
    short = tarfile.TarInfo("short")
    short.size = 10 << 20  # plausible, but the data is not there
    with pytest.raises(ExplainError, match="broken tar stream|unexpected end"):
        compare(tmp_path, [gzip.compress(raw_tar_header(short) + b"x" * 512)])


def test_decompression_bomb_stops_at_the_cap(tmp_path):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for i in range(12):  # each entry under the cap, together well over it
            info = tarfile.TarInfo(f"zeros{i}")
            info.size = 4 << 20
            tar.addfile(info, io.BytesIO(bytes(info.size)))
    bomb = gzip.compress(raw.getvalue(), compresslevel=9)
    assert len(bomb) < 100_000
    start = time.monotonic()
    with pytest.raises(LimitExceeded, match=r"expands past 16777216 uncompressed bytes .*decompression bomb"):
        compare(tmp_path, [bomb], Limits(max_layer_bytes=16 << 20))
    assert time.monotonic() - start < 10


def test_entry_count_and_header_caps(tmp_path):
    many = layer_tar([file_info(f"f{i}", b"") for i in range(3000)])
    with pytest.raises(LimitExceeded, match="more than 1000 tar entries"):
        compare(tmp_path / "a", [many], Limits(max_entries=1000))
    big_pax = tarfile.TarInfo("xattr")
    big_pax.pax_headers = {"SCHILY.xattr.user.big": "v" * (2 << 20)}
    with pytest.raises(LimitExceeded, match=r"PAX/long-name header \(limit 1048576\)"):
        compare(tmp_path / "b", [layer_tar([(big_pax, b"")])])


def test_not_a_tar_and_trailing_garbage(tmp_path):
    with pytest.raises(ExplainError, match="not a tar archive|broken tar"):
        compare(tmp_path / "a", [gzip.compress(os.urandom(4096))])
    with pytest.raises(ExplainError, match="not valid gzip|ends early"):
        compare(tmp_path / "b", [gzip.compress(layer_tar(BENIGN, compress=False))[:-40]])
    tail = layer_tar(BENIGN, compress=False) + b"garbage after the end" + b"\0" * 491
    diff = compare(tmp_path / "c", [tail])
    assert any("non-zero bytes after the end of the tar" in c for c in diff.child("layers").comments)


def test_corrupted_local_blob_and_lying_diff_id(tmp_path):
    src = image(tmp_path, "one", [layer_tar(BENIGN)])
    layer = next(p for p in (tmp_path / "one/blobs/sha256").iterdir() if p.read_bytes()[:2] == b"\x1f\x8b")
    data = bytearray(layer.read_bytes())
    data[-5] ^= 0xFF
    layer.write_bytes(bytes(data))
    with pytest.raises(ExplainError, match=rf"asked for blob sha256:{layer.name}, received sha256:"):
        compare_images(src, image(tmp_path, "two", [layer_tar(BENIGN + [file_info("b", b"b")])]))
    diff = compare(tmp_path / "c", [layer_tar(BENIGN)], diff_ids=["sha256:" + "0" * 64])
    assert any("the config's diff_id sha256:000" in c for c in diff.child("layers").comments)
