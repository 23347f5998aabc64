"""Planning (pure): names per mirror, one download per sha256, names that escape refused."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from rebuildx.errors import TreeError
from rebuildx.fetch.plan import MIRROR, PACKAGE, SOURCES, plan_fetch
from rebuildx.stagex.tree import load_tree

from .conftest import write_package

H1, H2 = "1" * 64, "2" * 64


def _groups(tmp_path: Path):
    return plan_fetch(load_tree(tmp_path).packages.values())


def test_file_name_and_url_follow_each_mirror(tmp_path: Path) -> None:
    write_package(tmp_path, "core", "foo", {"main": {
        "hash": H1, "mirrors": ["https://a.example/foo-{version}.tar.gz",
                                "https://b.example/pub/{version}/foo-{version}.tgz?x=1"]}}, version="2.1")
    [group] = _groups(tmp_path)
    [job] = group.jobs
    assert job.package == "core-foo" and job.directory == PurePosixPath("fetch/core/foo")
    assert job.names == ("foo-2.1.tar.gz", "foo-2.1.tgz")
    assert [(c.kind, c.where, c.file) for c in job.candidates] == [
        (PACKAGE, "https://a.example/foo-2.1.tar.gz", "foo-2.1.tar.gz"),
        (PACKAGE, "https://b.example/pub/2.1/foo-2.1.tgz?x=1", "foo-2.1.tgz")]


def test_explicit_file_names_every_mirror_alike(tmp_path: Path) -> None:
    write_package(tmp_path, "core", "foo", {"main": {
        "hash": H1, "file": "foo-{version}.tar.xz",
        "mirrors": ["https://a.example/{file}", "https://b.example/archive/v{version}.tar.xz"]}})
    [group] = _groups(tmp_path)
    assert group.jobs[0].names == ("foo-1.0.tar.xz",)
    assert group.jobs[0].candidates[1].where == "https://b.example/archive/v1.0.tar.xz"


def test_subpackages_share_one_job_and_same_hash_is_one_group(tmp_path: Path) -> None:
    src = {"hash": H1, "mirrors": ["https://a.example/shared-1.0.tar.gz"]}
    write_package(tmp_path, "core", "foo", {"main": src}, subpackages=("foo-a", "foo-b"))
    write_package(tmp_path, "core", "bar", {"main": src, "extra": {"hash": H2, "mirrors": ["https://a.example/x"]}})
    groups = _groups(tmp_path)
    by_sha = {g.sha256: g for g in groups}
    assert sorted(j.package for j in by_sha[H1].jobs) == ["core-bar", "core-foo"]
    assert [j.package for j in by_sha[H2].jobs] == ["core-bar"]


def test_candidates_order_sources_dir_then_mirrors_then_own(tmp_path: Path) -> None:
    write_package(tmp_path, "core", "foo", {"main": {"hash": H1, "mirrors": ["https://a.example/f 1.tgz"]}})
    [group] = _groups(tmp_path)
    got = [(c.kind, c.where) for c in group.candidates(Path("/srv/src"), ["http://m.example/x/"])]
    assert got == [(SOURCES, "/srv/src/f 1.tgz"), (SOURCES, f"/srv/src/{H1}"),
                   (MIRROR, "http://m.example/x/f%201.tgz"), (PACKAGE, "https://a.example/f 1.tgz")]


@pytest.mark.parametrize("spec, problem", [
    ({"file": "../../../etc/passwd"}, "path separator"),
    ({"file": "/etc/passwd"}, "path separator"),
    ({"file": ".."}, "directory reference"),
    ({"file": "..\\..\\x.tgz"}, "path separator"),
    ({"file": "a\0b.tgz"}, "control character"),
    ({"file": "foo-{version}.tgz", "version": "1/../../x"}, "path separator"),
    ({"mirrors": ["https://a.example/dir/"]}, "empty"),
    ({"mirrors": ["https://a.example/%2e%2e/.."]}, "directory reference"),
])
def test_names_that_escape_the_fetch_directory_are_refused(tmp_path: Path, spec: dict, problem: str) -> None:
    source = {"hash": H1, "mirrors": ["https://a.example/{file}"], **spec}
    write_package(tmp_path, "core", "evil", {"main": source})
    with pytest.raises(TreeError) as e:
        _groups(tmp_path)
    assert "core-evil" in str(e.value) and "[sources.main]" in str(e.value) and problem in str(e.value)


def test_template_that_does_not_expand_is_a_tree_error(tmp_path: Path) -> None:
    write_package(tmp_path, "core", "foo", {"main": {"hash": H1, "mirrors": ["https://a.example/{nope}.tgz"]}})
    with pytest.raises(TreeError, match="core-foo.*does not expand.*nope"):
        _groups(tmp_path)


def test_one_name_two_hashes_in_one_origin_is_refused(tmp_path: Path) -> None:
    write_package(tmp_path, "core", "foo", {
        "a": {"hash": H1, "mirrors": ["https://a.example/v1.tar.gz"]},
        "b": {"hash": H2, "mirrors": ["https://b.example/v1.tar.gz"]}})
    with pytest.raises(TreeError, match="core-foo: sources a and b both want fetch/core/foo/v1.tar.gz"):
        _groups(tmp_path)
