"""fetch_sources end to end against real servers on 127.0.0.1: failover, resume, sharing."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from rebuildx.fetch import FetchOptions, Outcome, RetryPolicy, Timeouts, fetch_sources
from rebuildx.fetch.files import Staging
from rebuildx.stagex.tree import load_tree
from rebuildx.state.db import connect
from rebuildx.workspace import Workspace
from watching import watching

from .conftest import MirrorServer, blob, files_under, sha, write_package

A, B = blob(300_000, seed=1), blob(200_000, seed=2)
FAST = {"retry": RetryPolicy(retries=1, backoff=0.0), "timeouts": Timeouts(connect=1, read=0.4)}


def fetch(root: Path, **options):
    tree = load_tree(root)
    return fetch_sources(Workspace(root), tree.packages.values(), FetchOptions(**{**FAST, **options}),
                         sleep=lambda s: None)


def one_source(root: Path, mirrors: list[str], data: bytes = A, name: str = "foo", **spec) -> None:
    write_package(root, "core", name, {"main": {"hash": sha(data), "mirrors": mirrors, **spec}})


def test_happy_path_places_every_file_and_records_it(tmp_path: Path, mirror1: MirrorServer) -> None:
    one_source(tmp_path, [mirror1.add("/a-{version}.tgz".replace("{version}", "1.0"), A)[:-len("1.0.tgz")] + "{version}.tgz"])
    write_package(tmp_path, "core", "bar", {"x": {"hash": sha(B), "file": "b.tgz", "mirrors": [mirror1.add("/b", B)]}})
    report = fetch(tmp_path)
    assert report.ok and len(report.fetched) == 2 and report.summary().startswith("fetched 2 (500.0 KB)")
    assert files_under(tmp_path / "fetch") == {"core/foo/a-1.0.tgz": A, "core/bar/b.tgz": B}
    assert not list(Staging(Workspace(tmp_path)).dir.glob("*partial"))
    rows = connect(Workspace(tmp_path)).execute("SELECT path FROM verified_files ORDER BY path").fetchall()
    assert rows == [("fetch/core/bar/b.tgz",), ("fetch/core/foo/a-1.0.tgz",)]


def test_second_run_finds_everything_present_without_network(tmp_path: Path, mirror1: MirrorServer) -> None:
    one_source(tmp_path, [mirror1.add("/a.tgz", A)])
    fetch(tmp_path)
    report = fetch(tmp_path)
    assert [r.outcome for r in report.results] == [Outcome.PRESENT]
    assert len(mirror1.hits("/a.tgz")) == 1


def test_404_fails_over_to_the_next_mirror_and_its_file_name(tmp_path: Path, mirror1: MirrorServer,
                                                           mirror2: MirrorServer) -> None:
    one_source(tmp_path, [mirror1.url("/gone/a.tgz"), mirror2.add("/other/a.tar.gz", A)])
    [result] = fetch(tmp_path).results
    assert result.outcome is Outcome.FETCHED and result.via == mirror2.url("/other/a.tar.gz")
    assert result.attempts[0].answer == "HTTP 404"
    assert files_under(tmp_path / "fetch") == {"core/foo/a.tar.gz": A}


def test_wrong_bytes_never_appear_under_fetch(tmp_path: Path, mirror1: MirrorServer, mirror2: MirrorServer) -> None:
    one_source(tmp_path, [mirror1.add("/a.tgz", A, mode="wrong", chunk=16_384, pause=0.005), mirror2.add("/a.tgz", A)])
    seen: set[bytes] = set()
    with watching(lambda: seen.update(files_under(tmp_path / "fetch").values())):
        [result] = fetch(tmp_path).results
    assert result.outcome is Outcome.FETCHED and result.via == mirror2.url("/a.tgz")
    assert result.attempts[0].answer.startswith("sha256 mismatch: got ")
    assert seen <= {A}
    assert files_under(tmp_path / "fetch") == {"core/foo/a.tgz": A}


def test_a_source_no_mirror_delivers_is_reported_and_the_rest_fetched(tmp_path: Path, mirror1: MirrorServer,
                                                                       mirror2: MirrorServer) -> None:
    one_source(tmp_path, [mirror1.url("/nope.tgz"), mirror2.add("/bad.tgz", A, mode="wrong"),
                          mirror2.add("/err.tgz", A, mode="500")], name="foo")
    write_package(tmp_path, "core", "bar", {"x": {"hash": sha(B), "mirrors": [mirror1.add("/b.tgz", B)]}})
    report = fetch(tmp_path)
    assert [r.package for r in report.failed] == ["core-foo"]
    assert [r.package for r in report.fetched] == ["core-bar"]
    assert files_under(tmp_path / "fetch") == {"core/bar/b.tgz": B}
    message = str(report.error())
    assert message.startswith("1 of 2 sources could not be fetched")
    assert f"core-foo: source main: nope.tgz (sha256 {sha(A)})" in message
    assert f"{mirror1.url('/nope.tgz')}: HTTP 404" in message
    assert f"{mirror2.url('/bad.tgz')}: sha256 mismatch" in message
    assert f"{mirror2.url('/err.tgz')}: HTTP 500 (gave up after 2 attempts)" in message
    assert not list(Staging(Workspace(tmp_path)).dir.glob("*partial"))


def test_timeout_and_redirect_loop_fail_over(tmp_path: Path, mirror1: MirrorServer, mirror2: MirrorServer) -> None:
    one_source(tmp_path, [mirror1.add("/slow.tgz", A, mode="slow", delay=1.0),
                          mirror1.add("/loop.tgz", A, mode="loop"), mirror2.add("/a.tgz", A)])
    [result] = fetch(tmp_path).results
    assert result.outcome is Outcome.FETCHED
    assert [a.answer.split(" (")[0] for a in result.attempts[:2]] == ["timed out", "too many redirects"]


def test_cut_download_resumes_on_the_next_attempt(tmp_path: Path, mirror1: MirrorServer) -> None:
    one_source(tmp_path, [mirror1.add("/a.tgz", A, faults=["reset", "truncate"])])
    [result] = fetch(tmp_path, retry=RetryPolicy(retries=1, backoff=0.0)).results
    assert result.outcome is Outcome.FETCHED
    ranges = [r.range for r in mirror1.hits("/a.tgz")]
    assert ranges[0] is None and all(r and r != "bytes=0-" for r in ranges[1:]) and len(ranges) == 3


def test_partial_left_by_a_bad_mirror_is_never_taken(tmp_path: Path, mirror1: MirrorServer) -> None:
    """Garbage in the partial file (a killed run, another mirror): the resume does not match,
    so it is thrown away and the file is fetched again from zero."""
    one_source(tmp_path, [mirror1.add("/a.tgz", A)])
    partial = Staging(Workspace(tmp_path)).partial(sha(A))
    partial.write_bytes(b"\0" * 1000)
    [result] = fetch(tmp_path).results
    assert result.outcome is Outcome.FETCHED
    assert [r.range for r in mirror1.hits("/a.tgz")] == ["bytes=1000-", None]
    assert files_under(tmp_path / "fetch") == {"core/foo/a.tgz": A} and not partial.exists()


def test_wrong_file_already_in_place_is_replaced(tmp_path: Path, mirror1: MirrorServer) -> None:
    one_source(tmp_path, [mirror1.add("/a.tgz", A)])
    target = tmp_path / "fetch/core/foo/a.tgz"
    target.parent.mkdir(parents=True)
    target.write_bytes(B)
    [result] = fetch(tmp_path).results
    assert result.outcome is Outcome.FETCHED and target.read_bytes() == A


def test_two_packages_sharing_a_source_download_it_once(tmp_path: Path, mirror1: MirrorServer) -> None:
    url = mirror1.add("/shared-1.0.tgz", A, chunk=32_768, pause=0.002)
    one_source(tmp_path, [url], name="foo")
    one_source(tmp_path, [url], name="bar")
    write_package(tmp_path, "core", "baz", {"main": {"hash": sha(A), "file": "renamed.tgz",
                                                   "mirrors": [mirror1.url("/elsewhere")]}})
    report = fetch(tmp_path, limits=FetchOptions().limits)
    assert report.ok and len(mirror1.hits("/shared-1.0.tgz")) == 1 and not mirror1.hits("/elsewhere")
    paths = [tmp_path / "fetch/core" / p for p in ("foo/shared-1.0.tgz", "bar/shared-1.0.tgz", "baz/renamed.tgz")]
    assert {p.read_bytes() for p in paths} == {A}
    assert len({p.stat().st_ino for p in paths}) == 1  # hard links: one copy on disk
    assert sorted(r.package for r in report.fetched) == ["core-bar", "core-baz", "core-foo"]


def test_sources_dir_needs_no_network(tmp_path: Path, mirror1: MirrorServer) -> None:
    one_source(tmp_path / "tree", [mirror1.url("/a.tgz")])
    (tmp_path / "src").mkdir()
    (tmp_path / "src/a.tgz").write_bytes(A)
    os.chmod(tmp_path / "src/a.tgz", 0o600)
    [result] = fetch(tmp_path / "tree", sources_dir=tmp_path / "src").results
    assert result.outcome is Outcome.FETCHED and result.via == str(tmp_path / "src/a.tgz")
    assert mirror1.requests == []
    placed = tmp_path / "tree/fetch/core/foo/a.tgz"
    assert placed.read_bytes() == A and placed.stat().st_mode & 0o777 != 0o600  # a copy, default mode


def test_wrong_file_in_sources_dir_falls_back_to_mirrors(tmp_path: Path, mirror1: MirrorServer) -> None:
    one_source(tmp_path / "tree", [mirror1.add("/a.tgz", A)])
    (tmp_path / "src").mkdir()
    (tmp_path / "src/a.tgz").write_bytes(B)
    [result] = fetch(tmp_path / "tree", sources_dir=tmp_path / "src").results
    assert result.outcome is Outcome.FETCHED and result.via == mirror1.url("/a.tgz")
    assert result.attempts[0].answer == f"sha256 mismatch: got {sha(B)}"


def test_extra_mirror_is_tried_first_by_file_name(tmp_path: Path, mirror1: MirrorServer, mirror2: MirrorServer) -> None:
    one_source(tmp_path, [mirror1.add("/upstream/a b.tgz", A)])
    mirror2.add("/flat/a%20b.tgz", A)
    [result] = fetch(tmp_path, mirrors=(mirror2.url("/flat/"),)).results
    assert result.via == mirror2.url("/flat/a%20b.tgz") and mirror1.requests == []


def test_offline_touches_no_network_and_says_so(tmp_path: Path, mirror1: MirrorServer) -> None:
    one_source(tmp_path, [mirror1.add("/a.tgz", A)])
    [result] = fetch(tmp_path, offline=True).results
    assert result.outcome is Outcome.FAILED and mirror1.requests == []
    assert result.attempts == (result.attempts[0],) and result.attempts[0].answer == "not tried: offline"


def test_fetch_dir_on_another_filesystem(tmp_path: Path, mirror1: MirrorServer) -> None:
    """fetch/ symlinked to a bigger disk: no atomic rename from .rebuildx/tmp, so a copy is
    made beside the target under a dot name, hashed, and renamed."""
    elsewhere = Path("/dev/shm")
    if elsewhere.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("/dev/shm is on the same filesystem as the test directory here")
    target_dir = Path(tempfile.mkdtemp(dir=elsewhere))
    try:
        (tmp_path / "fetch").symlink_to(target_dir)
        one_source(tmp_path, [mirror1.add("/a.tgz", A)], name="foo")
        one_source(tmp_path, [mirror1.url("/a.tgz")], name="bar")
        report = fetch(tmp_path)
        assert report.ok and len(mirror1.hits("/a.tgz")) == 1
        assert files_under(target_dir) == {"core/foo/a.tgz": A, "core/bar/a.tgz": A}
        assert not list(Staging(Workspace(tmp_path)).dir.glob("*partial"))
        assert [r.outcome for r in fetch(tmp_path).results] == [Outcome.PRESENT] * 2
    finally:
        shutil.rmtree(target_dir)


def test_warm_run_trusts_the_record_and_rehash_does_not(tmp_path: Path, mirror1: MirrorServer) -> None:
    one_source(tmp_path, [mirror1.add("/a.tgz", A)])
    fetch(tmp_path)
    target = tmp_path / "fetch/core/foo/a.tgz"
    st = target.stat()
    with open(target, "r+b") as f:  # same inode, size and (restored) mtime: only a hash can tell
        f.write(b"X")
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert [r.outcome for r in fetch(tmp_path).results] == [Outcome.PRESENT]  # not read again
    assert [r.outcome for r in fetch(tmp_path, rehash=True).results] == [Outcome.FETCHED]
    assert target.read_bytes() == A and len(mirror1.hits("/a.tgz")) == 2
