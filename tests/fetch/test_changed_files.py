"""A verified file that no longer has its hash when copied is refused, and nothing is left."""

from __future__ import annotations

import hashlib

import pytest

from rebuildx.errors import FetchError
from rebuildx.fetch.export import _copy
from rebuildx.fetch.files import Staging


def test_export_refuses_a_file_changed_in_place(tmp_path):
    src = tmp_path / "a.tgz"
    src.write_bytes(b"changed since")
    recorded = hashlib.sha256(b"as verified").hexdigest()
    (tmp_path / "to").mkdir()
    with pytest.raises(FetchError, match=rf"a.tgz: does not have sha256 {recorded} any more \(changed in place "
                                         r"since it was verified\); run `rebuildx fetch --rehash`"):
        _copy(src, tmp_path / "to/a.tgz", recorded)
    assert list((tmp_path / "to").iterdir()) == []
    _copy(src, tmp_path / "to/a.tgz", hashlib.sha256(b"changed since").hexdigest())
    assert (tmp_path / "to/a.tgz").read_bytes() == b"changed since"


def test_staging_refuses_a_file_changed_while_copied(tmp_path):
    src = tmp_path / "verified"
    src.write_bytes(b"other bytes")
    (tmp_path / "fetch").mkdir()
    with pytest.raises(FetchError, match=r"verified: changed while being copied to .*fetch/a.tgz$"):
        Staging._copy_beside(src, tmp_path / "fetch/a.tgz", hashlib.sha256(b"what was verified").hexdigest())
    assert list((tmp_path / "fetch").iterdir()) == []
