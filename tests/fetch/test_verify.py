"""The verified-files record: a file is hashed once, and again only when it changed."""

from __future__ import annotations

import os
from pathlib import Path

from rebuildx.fetch.verify import VerifiedFiles, check_file
from rebuildx.state.db import connect
from rebuildx.workspace import Workspace

from .conftest import sha


def _setup(tmp_path: Path, data: bytes = b"hello source\n"):
    ws = Workspace(tmp_path)
    path = tmp_path / "fetch" / "core" / "foo" / "foo.tgz"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    return VerifiedFiles(tmp_path, lambda: connect(ws)), path, sha(data)


def _same_stat_other_bytes(path: Path, data: bytes) -> None:
    """Rewrite in place (same inode, same size) and put the mtime back: only a hash sees it."""
    st = path.stat()
    with open(path, "r+b") as f:
        f.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_recorded_file_is_not_hashed_again(tmp_path: Path) -> None:
    cache, path, digest = _setup(tmp_path)
    assert check_file(cache, path, digest) is True
    _same_stat_other_bytes(path, b"HELLO SOURCE\n")
    assert check_file(cache, path, digest) is True  # trusted from the record: not read
    assert check_file(cache, path, digest, rehash=True) is False  # a hash sees the change


def test_mtime_size_or_inode_change_means_hash_again(tmp_path: Path) -> None:
    cache, path, digest = _setup(tmp_path)
    assert check_file(cache, path, digest)
    _same_stat_other_bytes(path, b"HELLO SOURCE\n")
    os.utime(path, ns=(0, path.stat().st_mtime_ns + 1))
    assert check_file(cache, path, digest) is False

    cache, path, digest = _setup(tmp_path / "b")
    assert check_file(cache, path, digest)
    copy = path.with_name("copy")
    copy.write_bytes(b"HELLO SOURCE\n")
    st = path.stat()
    os.replace(copy, path)  # new inode, same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert check_file(cache, path, digest) is False


def test_a_different_declared_hash_is_not_taken_from_the_record(tmp_path: Path) -> None:
    cache, path, digest = _setup(tmp_path)
    assert check_file(cache, path, digest)
    assert check_file(cache, path, "0" * 64) is False
    assert check_file(cache, path.with_name("absent"), digest) is None


def test_record_survives_in_the_state_db(tmp_path: Path) -> None:
    cache, path, digest = _setup(tmp_path)
    check_file(cache, path, digest)
    cache.close()
    rows = connect(Workspace(tmp_path)).execute("SELECT path, sha256 FROM verified_files").fetchall()
    assert rows == [("fetch/core/foo/foo.tgz", digest)]
