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


def test_a_template_that_does_not_expand_when_planning_a_fetch():
    from rebuildx.errors import TreeError
    from rebuildx.fetch.plan import plan_fetch
    from rebuildx.stagex.model import Package, Source

    source = Source(name="main", hash="0" * 64, mirrors=("https://m/{file}",), file="x-{nope}.tgz")
    package = Package(stage="core", name="x", origin="x", version="1", platforms=(), sources=(source,), deps=())
    with pytest.raises(TreeError, match=r"packages/core/x/package.toml: package core-x: \[sources.main\]: template "
                                        r"does not expand: KeyError: 'nope'"):
        plan_fetch([package])
