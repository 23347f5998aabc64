"""`rebuildx build` with the real engine on the fixture tree (docker buildx, BuildKit)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ocitools
from rebuildx.build.run import BuildOptions, Status, run_build
from rebuildx.engine.buildx import BuildxEngine
from rebuildx.engine.check import require_engine
from rebuildx.errors import LayoutError, RebuildxError
from rebuildx.oci.digest import entry_digest
from rebuildx.oci.layout import check_layout
from rebuildx.stagex.tree import load_tree
from rebuildx.workspace import Workspace
from treegen import sha256, tarball, write_fixture_tree
from watching import watching

ALL = ["bootstrap-seed", "core-hello", "core-pair", "core-tool-a", "core-tool-b", "pallet-hello-kit"]


@pytest.fixture(scope="module")
def identity(engine) -> str:
    return require_engine().identity


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def started(self, name: str) -> None:
        self.seen.append(("started", name))

    def finished(self, name: str, result) -> None:
        self.seen.append(("finished", name))


def build(root: Path, identity: str, words=(), listener=None, **opts):
    ws = Workspace(root)
    return run_build(ws, load_tree(root), words, BuildOptions(**opts), BuildxEngine(ws), identity,
                     listener=listener)


def digests(report) -> dict[str, str]:
    return {r.package: r.digest for r in report.results}


def out_digests(root: Path) -> dict[str, str]:
    return {p.name: entry_digest(p) for p in sorted((root / "out").iterdir()) if not p.name.startswith(".")}


@pytest.mark.engine
def test_whole_tree_then_resume_then_cold(fixture_tree, identity):
    fixture_tree.prefill_fetch()
    first = build(fixture_tree.root, identity, jobs=2)
    assert [r.status for r in first.results] == [Status.BUILT] * 6 and first.ok
    assert sorted(digests(first)) == ALL and digests(first) == out_digests(fixture_tree.root)
    kit = fixture_tree.root / "out/pallet-hello-kit"
    assert ocitools.read_file(kit, "usr/share/pair/both.txt") == b"alpha\nbeta\n"
    assert set(ocitools.files(kit)) >= {"bin/busybox", "usr/bin/hello", "usr/bin/tool-a"}
    again = build(fixture_tree.root, identity, jobs=2)
    assert {r.status for r in again.results} == {Status.UP_TO_DATE}
    cold = build(fixture_tree.root, identity, jobs=2, cold=True)
    assert {r.status for r in cold.results} == {Status.BUILT}
    assert digests(cold) == digests(first)
    forced = build(fixture_tree.root, identity, ["core-hello"], force=True)
    assert {r.package: r.status for r in forced.results} == {
        "bootstrap-seed": Status.UP_TO_DATE, "core-hello": Status.BUILT}


@pytest.mark.engine
def test_jobs_1_and_3_give_identical_digests(tmp_path, identity):
    results = []
    for jobs in (1, 3):
        tree = write_fixture_tree(tmp_path / f"j{jobs}")
        tree.prefill_fetch()
        results.append(digests(build(tree.root, identity, jobs=jobs, cold=True)))
    assert results[0] == results[1] and len(results[0]) == 6


@pytest.mark.engine
def test_changed_source_rebuilds_exactly_it_and_its_dependents(fixture_tree, identity):
    fixture_tree.prefill_fetch()
    before = digests(build(fixture_tree.root, identity, jobs=2))
    data = tarball("hello-1.2.3", {"hello.sh": "#!/bin/sh\necho changed\n"})
    (fixture_tree.root / "fetch/core/hello/hello-1.2.3.tar.gz").write_bytes(data)
    toml = fixture_tree.root / "packages/core/hello/package.toml"
    old_hash = sha256(fixture_tree.fetch_files["fetch/core/hello/hello-1.2.3.tar.gz"])
    toml.write_text(toml.read_text().replace(old_hash, sha256(data)))
    after = build(fixture_tree.root, identity, jobs=2)
    rebuilt = {r.package for r in after.results if r.status is Status.BUILT}
    assert rebuilt == {"core-hello", "core-pair", "pallet-hello-kit"}
    assert digests(after)["core-hello"] != before["core-hello"]
    assert digests(after)["core-tool-a"] == before["core-tool-a"]


@pytest.mark.engine
def test_keep_going_builds_independent_siblings(fixture_tree, identity):
    fixture_tree.prefill_fetch()
    cf = fixture_tree.root / "packages/core/pair/Containerfile"
    cf.write_text("FROM stagex/bootstrap-seed\nRUN --network=none exit 7\n")
    report = build(fixture_tree.root, identity, jobs=1, keep_going=True)
    status = {r.package: r.status for r in report.results}
    assert status == {"bootstrap-seed": Status.BUILT, "core-hello": Status.BUILT, "core-tool-a": Status.BUILT,
                      "core-tool-b": Status.BUILT, "core-pair": Status.FAILED, "pallet-hello-kit": Status.BLOCKED}
    failed = next(r for r in report.results if r.package == "core-pair")
    assert "exited 1" in failed.error and "exit code: 7" in failed.log.read_text()
    assert next(r for r in report.results if r.package == "pallet-hello-kit").blocked_by == "core-pair"
    assert not (fixture_tree.root / "out/core-pair").exists()
    assert not report.ok
    # without --keep-going nothing new starts after the failure
    events = Events()
    stopped = build(fixture_tree.root, identity, jobs=1, cold=True, listener=events)
    after_failure = events.seen[events.seen.index(("finished", "core-pair")) + 1:]
    assert [e for e in after_failure if e[0] == "started"] == []
    status = {r.package: r.status for r in stopped.results}
    assert status["core-pair"] is Status.FAILED and status["pallet-hello-kit"] is Status.BLOCKED
    never_ran = {n for n, s in status.items() if s is Status.NOT_STARTED}
    assert never_ran == set(ALL) - {n for _, n in events.seen} - {"pallet-hello-kit"}


@pytest.mark.engine
def test_cold_refuses_foreign_out_entries(fixture_tree, identity):
    fixture_tree.prefill_fetch()
    build(fixture_tree.root, identity, ["bootstrap-seed"])
    preseeded = fixture_tree.root / "out/core-hello"
    shutil.copytree(fixture_tree.root / "out/bootstrap-seed", preseeded)  # as `make preseed` would leave
    with pytest.raises(RebuildxError, match=r"--cold refuses to start: .*\(core-hello\).*rm -rf out/core-hello"):
        build(fixture_tree.root, identity, cold=True)
    assert preseeded.exists()


def _look_at_out(out: Path, partial: list[str]) -> None:
    """Look at out/ as another tool would: every visible entry must be whole."""
    try:
        entries = list(out.iterdir())
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        try:
            ino = entry.stat().st_ino
            check_layout(entry)
        except (LayoutError, OSError) as e:
            try:
                still = entry.stat().st_ino == ino
            except OSError:
                still = False  # renamed away while we looked: not a partial entry
            if still:
                partial.append(f"{entry.name}: {e}")


def _cli(root: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rebuildx", "build", "--tree", str(root), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


TRIALS = int(os.environ.get("REBUILDX_SIGKILL_TRIALS", "10"))


@pytest.mark.engine
def test_sigkill_at_random_moments_never_leaves_partial_out(tmp_path, identity):
    reference = write_fixture_tree(tmp_path / "reference")
    reference.prefill_fetch()
    clean = digests(build(reference.root, identity, jobs=3, cold=True))
    rng = random.Random(20261126)
    tree = write_fixture_tree(tmp_path / "killed")
    tree.prefill_fetch()
    out = tree.root / "out"
    for trial in range(TRIALS):
        partial: list[str] = []
        with watching(lambda partial=partial: _look_at_out(out, partial), pause=0.02):
            proc = _cli(tree.root, "--jobs", "3", "--cold")
            time.sleep(rng.uniform(0.3, 4.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            resumed = _cli(tree.root, "--jobs", "3")
            _, err = resumed.communicate(timeout=600)
        assert partial == [], f"trial {trial}: partial out/ entries seen: {partial}"
        assert resumed.returncode == 0, f"trial {trial}: resume failed: {err[-2000:]}"
        assert out_digests(tree.root) == clean, f"trial {trial}"
        assert not list(out.glob(".*")), f"trial {trial}: leftovers in out/"


def test_staging_skips_dot_names_like_the_shell_glob(fixture_tree):
    from rebuildx.engine.buildx import stage_fetch_dir

    fixture_tree.prefill_fetch()
    (fixture_tree.root / "fetch/core/hello/.partial-leftover").write_bytes(b"not verified")
    package = load_tree(fixture_tree.root).packages["core-hello"]
    stage_fetch_dir(Workspace(fixture_tree.root), package)
    staged = sorted(p.name for p in (fixture_tree.root / "packages/core/hello/fetch").iterdir())
    assert staged == ["hello-1.2.3.tar.gz"]
    src = fixture_tree.root / "fetch/core/hello/hello-1.2.3.tar.gz"
    assert (fixture_tree.root / "packages/core/hello/fetch/hello-1.2.3.tar.gz").stat().st_ino == src.stat().st_ino


def _pids_in(root: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and Path(os.readlink(proc / "cwd")) == root:
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def _start_slow_build(fixture_tree) -> subprocess.Popen:
    """`rebuildx build --cold` with core-hello sleeping 60 s; returns once that build runs."""
    fixture_tree.prefill_fetch()
    slow = fixture_tree.root / "packages/core/hello/Containerfile"
    slow.write_text(slow.read_text().replace("RUN --network=none", "RUN --network=none sleep 60 &&"))
    proc = _cli(fixture_tree.root, "--jobs", "2", "--cold")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (fixture_tree.root / "out/bootstrap-seed").exists():
        time.sleep(0.1)
    time.sleep(3)  # let the slow build reach its sleep
    assert any("buildx" in Path(f"/proc/{p}/cmdline").read_text(errors="replace")
               for p in _pids_in(fixture_tree.root)), "the slow build is not running"
    return proc


def _none_left(root: Path) -> bool:
    for _ in range(50):
        if not _pids_in(root):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.engine
def test_ctrl_c_stops_running_builds(fixture_tree, identity):
    proc = _start_slow_build(fixture_tree)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted" in err
    assert _none_left(fixture_tree.root)  # no buildx or tar left behind
    assert not (fixture_tree.root / "out/core-hello").exists()


@pytest.mark.engine
def test_sigkill_takes_its_builds_along(fixture_tree, identity):
    proc = _start_slow_build(fixture_tree)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _none_left(fixture_tree.root), "buildx or tar outlived a killed rebuildx"


@pytest.mark.engine
def test_rerun_trusts_an_unchanged_entry_and_rebuilds_a_damaged_one(fixture_tree, identity):
    fixture_tree.prefill_fetch()
    first = digests(build(fixture_tree.root, identity, jobs=2))
    hello = fixture_tree.root / "out/core-hello"
    layer = max((hello / "blobs/sha256").iterdir(), key=lambda p: p.stat().st_size)
    data = layer.read_bytes()
    layer.unlink()
    layer.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # same size, one bit off
    again = build(fixture_tree.root, identity, jobs=2)
    status = {r.package: r.status for r in again.results}
    assert status["core-hello"] is Status.BUILT  # the damage was seen: its stamp changed
    assert {n for n, s in status.items() if s is Status.UP_TO_DATE} == set(ALL) - {"core-hello"}
    assert digests(again) == first
