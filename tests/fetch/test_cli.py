"""`rebuildx fetch` as a user runs it: selection, exit codes, --to/--sources, SIGKILL, two at once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from rebuildx.cli import app
from rebuildx.fetch.files import Staging
from rebuildx.state.db import connect
from rebuildx.workspace import Workspace

from .conftest import MirrorServer, blob, files_under, sha, write_package

A, B, C = blob(120_000, seed=1), blob(80_000, seed=2), blob(50_000, seed=3)
BIG = blob(3_000_000, seed=4)
CLI = [sys.executable, "-c", "from rebuildx.cli import main; main()"]


def run(*args: str | Path):
    return CliRunner().invoke(app, ["fetch", *map(str, args)], catch_exceptions=False)


def _tree(root: Path, mirror1: MirrorServer) -> None:
    """foo depends on bar; baz stands alone; bar and baz both have a file named v1.0.tar.gz."""
    write_package(root, "core", "bar", {"main": {"hash": sha(B), "mirrors": [mirror1.add("/bar/v{version}.tar.gz".format(version="1.0"), B)]}})
    write_package(root, "core", "foo", {"main": {"hash": sha(A), "mirrors": [mirror1.add("/foo-1.0.tgz", A)]}}, deps=("core-bar",))
    write_package(root, "core", "baz", {"main": {"hash": sha(C), "mirrors": [mirror1.add("/baz/v1.0.tar.gz", C)]}})


def test_fetches_the_closure_prints_a_line_per_file_and_a_summary(tmp_path: Path, mirror1: MirrorServer) -> None:
    _tree(tmp_path, mirror1)
    result = run("--tree", tmp_path, "foo")
    assert result.exit_code == 0, result.output
    assert files_under(tmp_path / "fetch") == {"core/foo/foo-1.0.tgz": A, "core/bar/v1.0.tar.gz": B}
    assert f"fetched  core-bar: v1.0.tar.gz (80.0 KB) from {mirror1.url('/bar/v1.0.tar.gz')}" in result.output
    assert result.output.strip().endswith("fetched 2 (200.0 KB), already present 0, failed 0")
    again = run("--tree", tmp_path, "--only", "foo", "baz")
    assert again.output.strip().endswith("fetched 1 (50.0 KB), already present 1, failed 0")


def test_failures_exit_1_naming_package_file_hash_and_each_mirror(tmp_path: Path, mirror1: MirrorServer) -> None:
    write_package(tmp_path, "core", "foo", {"main": {"hash": sha(A), "mirrors": [
        mirror1.url("/gone/foo.tgz"), mirror1.add("/bad/foo.tgz", A, mode="wrong")]}})
    write_package(tmp_path, "core", "bar", {"main": {"hash": sha(B), "mirrors": [mirror1.add("/bar.tgz", B)]}})
    result = CliRunner().invoke(app, ["fetch", "--tree", str(tmp_path)])
    assert result.exit_code == 1
    assert "rebuildx: error: 1 of 2 sources could not be fetched:" in result.output
    assert f"core-foo: source main: foo.tgz (sha256 {sha(A)})" in result.output
    assert f"{mirror1.url('/gone/foo.tgz')}: HTTP 404" in result.output
    assert f"{mirror1.url('/bad/foo.tgz')}: sha256 mismatch" in result.output
    assert files_under(tmp_path / "fetch") == {"core/bar/bar.tgz": B}


def test_name_escaping_the_fetch_dir_is_refused_before_any_request(tmp_path: Path, mirror1: MirrorServer) -> None:
    write_package(tmp_path, "core", "evil", {"main": {"hash": sha(A), "file": "../../escape.tgz",
                                                    "mirrors": [mirror1.add("/x", A)]}})
    result = CliRunner().invoke(app, ["fetch", "--tree", str(tmp_path)])
    assert result.exit_code == 1 and "core-evil" in result.output and "would not stay" in result.output
    assert mirror1.requests == [] and not (tmp_path / "escape.tgz").exists()


def test_to_dir_round_trip_to_an_air_gapped_tree(tmp_path: Path, mirror1: MirrorServer) -> None:
    online, offline, carry = tmp_path / "online", tmp_path / "offline", tmp_path / "carry"
    _tree(online, mirror1)
    result = run("--tree", online, "--to", carry, "all")
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(carry)) == sorted(["foo-1.0.tgz", "v1.0.tar.gz", sha(C)])  # a name clash goes by hash
    shutil.copytree(online / "packages", offline / "packages")
    asked = len(mirror1.requests)
    result = run("--tree", offline, "--sources", carry, "all")
    assert result.exit_code == 0, result.output
    assert len(mirror1.requests) == asked  # no network at all
    assert files_under(offline / "fetch") == files_under(online / "fetch")
    assert run("--tree", online, "--to", carry, "all").output.count("3 already there") == 1


def test_sources_dir_with_no_network_at_all(tmp_path: Path) -> None:
    dead = "http://127.0.0.1:9/{version}/a.tgz"  # the discard port: nothing listens
    write_package(tmp_path / "tree", "core", "foo", {"main": {"hash": sha(A), "mirrors": [dead]}})
    (tmp_path / "src").mkdir()
    (tmp_path / "src/a.tgz").write_bytes(A)
    result = run("--tree", tmp_path / "tree", "--sources", tmp_path / "src", "--offline")
    assert result.exit_code == 0, result.output
    assert files_under(tmp_path / "tree/fetch") == {"core/foo/a.tgz": A}


def _start(tree: Path) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "fetch", "--tree", str(tree)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _wait_for(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_sigkill_mid_download_then_run_again_resumes(tmp_path: Path, mirror1: MirrorServer) -> None:
    url = mirror1.add("/big.tgz", BIG, chunk=32_768, pause=0.01)
    write_package(tmp_path, "core", "foo", {"main": {"hash": sha(BIG), "mirrors": [url]}})
    partial = Staging(Workspace(tmp_path)).partial(sha(BIG))
    proc = _start(tmp_path)
    _wait_for(lambda: partial.exists() and partial.stat().st_size >= 300_000)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert files_under(tmp_path / "fetch") == {}  # nothing unverified ever under fetch/
    kept = partial.stat().st_size
    assert 0 < kept < len(BIG)

    mirror1.routes["/big.tgz"].pause = 0.0
    proc = _start(tmp_path)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert mirror1.hits("/big.tgz")[-1].range == f"bytes={kept}-"
    assert files_under(tmp_path / "fetch") == {"core/foo/big.tgz": BIG} and not partial.exists()
    rows = connect(Workspace(tmp_path)).execute("SELECT path, sha256 FROM verified_files").fetchall()
    assert rows == [("fetch/core/foo/big.tgz", sha(BIG))]


def test_two_fetches_of_one_workspace_at_once_download_once(tmp_path: Path, mirror1: MirrorServer) -> None:
    url = mirror1.add("/big.tgz", BIG, chunk=65_536, pause=0.02)
    write_package(tmp_path, "core", "foo", {"main": {"hash": sha(BIG), "mirrors": [url]}})
    write_package(tmp_path, "core", "bar", {"main": {"hash": sha(BIG), "mirrors": [url]}})
    partial = Staging(Workspace(tmp_path)).partial(sha(BIG))
    first = _start(tmp_path)
    _wait_for(lambda: partial.exists() and partial.stat().st_size > 0)
    second = _start(tmp_path)  # while the first is still downloading: it waits on the lock
    outs = [p.communicate(timeout=30)[0] for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outs
    assert len(mirror1.hits("/big.tgz")) == 1 and mirror1.sent["/big.tgz"] == len(BIG)
    assert files_under(tmp_path / "fetch") == {"core/foo/big.tgz": BIG, "core/bar/big.tgz": BIG}
    assert sorted(o.strip().splitlines()[-1] for o in outs) == [
        "fetched 0 (0 B), already present 2, failed 0", "fetched 2 (3.0 MB), already present 0, failed 0"]


def test_ctrl_c_stops_promptly_and_keeps_the_partial_for_later(tmp_path: Path, mirror1: MirrorServer) -> None:
    url = mirror1.add("/big.tgz", BIG, chunk=32_768, pause=0.02)
    write_package(tmp_path, "core", "foo", {"main": {"hash": sha(BIG), "mirrors": [url]}})
    partial = Staging(Workspace(tmp_path)).partial(sha(BIG))
    proc = _start(tmp_path)
    _wait_for(lambda: partial.exists() and partial.stat().st_size >= 100_000)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=5)  # the download alone would take ~2 s more
    assert proc.returncode == 130 and "Traceback" not in out, out  # the README: 130 interrupted
    assert files_under(tmp_path / "fetch") == {}
    assert 0 < partial.stat().st_size < len(BIG)


def test_ctrl_c_does_not_wait_for_a_stalled_server(tmp_path: Path, mirror1: MirrorServer) -> None:
    url = mirror1.add("/big.tgz", BIG, chunk=50_000, pause=120)  # one chunk, then silence
    write_package(tmp_path, "core", "foo", {"main": {"hash": sha(BIG), "mirrors": [url]}})
    partial = Staging(Workspace(tmp_path)).partial(sha(BIG))
    proc = _start(tmp_path)
    _wait_for(lambda: partial.exists() and partial.stat().st_size >= 50_000)
    time.sleep(0.5)  # the reader is now blocked on the silent socket
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert time.monotonic() - started < 10, "waited for the read timeout"
    assert proc.returncode == 130 and "Traceback" not in out, out  # the README: 130 interrupted
    assert files_under(tmp_path / "fetch") == {} and partial.stat().st_size == 50_000
