"""Failures caused for real on test daemons of our own, classified through `rebuildx build`'s own
path (BuildxEngine, Builder): a memory limit, a foreign-arch binary, a Containerfile typo, a
missing source, network inside --network=none, a full data-root, containerd killed mid-build,
and BuildKit's state lost under it (retried once, after the smoke test passes).

Never the shared daemon: each test points DOCKER_HOST at a TestDaemon. One daemon (with a memory
limit) serves the harmless classes; those that damage a daemon get a fresh one (half a second).
"""

from __future__ import annotations

import shutil
import struct
import threading
import time
from pathlib import Path

import pytest

from rebuildx.build.failures import Cause
from rebuildx.build.run import BuildOptions, Status, run_build
from rebuildx.engine.buildx import BuildxEngine
from rebuildx.engine.smoke import run_smoke
from rebuildx.stagex.tree import load_tree
from rebuildx.workspace import Workspace
from testdaemon import TestDaemon
from treegen import BUSYBOX, write_package

pytestmark = pytest.mark.engine
IDENTITY = "test daemon"


def aarch64_elf() -> bytes:
    """The smallest aarch64 executable header the kernel will look at (and refuse on x86_64)."""
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, 183, 1, 0x400078, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    return header + struct.pack("<IIQQQQQQ", 1, 5, 0, 0x400000, 0x400000, 120, 120, 0x1000)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, engine):
    d = TestDaemon(tmp_path_factory.mktemp("daemon"), memory_limit=96 * 2**20).start()
    yield d
    d.stop()


@pytest.fixture
def on_daemon(monkeypatch):
    def point(d: TestDaemon) -> None:
        for k, v in d.env.items():
            monkeypatch.setenv(k, v)
    return point


def wait_for_smoke(timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while not run_smoke().ok:
        assert time.monotonic() < end, "the test daemon did not come back"
        time.sleep(0.5)


def build(root: Path, words=(), **opts):
    ws = Workspace(root)
    return run_build(ws, load_tree(root), words, BuildOptions(**opts), BuildxEngine(ws), IDENTITY)


def package(root: Path, name: str, containerfile: str, files: dict[str, bytes] | None = None,
            stage: str = "core") -> None:
    d = write_package(root, stage, name, f'[package]\nname = "{name}"\nversion = "1.0"\n', containerfile)
    for rel, data in (files or {}).items():
        (d / rel).write_bytes(data)


SEEDED = "FROM stagex/bootstrap-seed AS build\n"


def test_each_failure_is_named_with_its_fix(tmp_path, daemon, on_daemon):
    on_daemon(daemon)
    root = tmp_path / "stagex"
    # the fixture tree's seed, with the --network=none a bridge-less daemon needs
    package(root, "seed", 'FROM scratch AS build\nCOPY --chmod=0755 busybox /bin/busybox\n'
            'RUN --network=none ["/bin/busybox", "--install", "-s", "/bin"]\n'
            'FROM scratch AS package\nCOPY --from=build / /\n', {"busybox": BUSYBOX.read_bytes()}, stage="bootstrap")
    package(root, "oom", SEEDED + 'RUN --network=none ["/bin/busybox", "dd", "if=/dev/zero", "of=/dev/null", '
            '"bs=300M", "count=1"]\n')
    package(root, "foreign", 'FROM scratch\nCOPY --chmod=755 foreign /foreign\nRUN --network=none ["/foreign"]\n',
            {"foreign": aarch64_elf()})
    package(root, "typo", SEEDED + "RUNN --network=none true\n")
    package(root, "missing", SEEDED + "ADD fetch/gone-1.0.tar.gz /src/\n")
    package(root, "net", SEEDED + "RUN --network=none wget -O- http://rebuildx.invalid/src.tar.gz\n")
    names = ["core-oom", "core-foreign", "core-typo", "core-missing", "core-net"]
    report = build(root, ["bootstrap-seed", *names], keep_going=True, jobs=2)
    got = {r.package: r for r in report.results}
    assert got["bootstrap-seed"].status is Status.BUILT
    expect = {"core-oom": (Cause.OUT_OF_MEMORY, "exit code: 137"),
              "core-foreign": (Cause.PLATFORM, "exec format error"),
              "core-typo": (Cause.SYNTAX, "unknown instruction: RUNN"),
              "core-missing": (Cause.SOURCE, "/fetch: no such file or directory"),
              "core-net": (Cause.NETWORK, "bad address 'rebuildx.invalid'")}
    for name, (cause, evidence) in expect.items():
        r = got[name]
        assert r.status is Status.FAILED and r.failure, name
        assert r.failure.cause is cause, (name, r.failure)
        assert evidence in (r.failure.evidence or ""), (name, r.failure)
        assert r.attempts == 1, name  # none of these is worth a second attempt
    assert "OOM-killed" in (got["core-oom"].failure.evidence or "")


def test_a_full_data_root_is_disk_full(engine, tmp_path, on_daemon):
    d = TestDaemon(tmp_path / "daemon", data_size="64m").start()
    try:
        on_daemon(d)
        root = tmp_path / "stagex"
        package(root, "big", "FROM scratch\nCOPY blob /blob\n", {"blob": bytes(range(256)) * 4096 * 8})
        free = shutil.disk_usage(d.data).free
        (d.data / "filler").write_bytes(b"\0" * (free - 2**20))
        r = build(root, ["core-big"]).results[0]
        assert r.status is Status.FAILED and r.failure and r.failure.cause is Cause.DISK_FULL, r
        assert "no space left on device" in (r.failure.evidence or "").lower()
    finally:
        d.stop()


SLOW = 'FROM scratch\nCOPY --chmod=755 busybox /bin/busybox\nRUN --network=none ["/bin/busybox", "sleep", "4"]\n'


def test_a_timeout_and_an_interrupt_are_named_as_such(tmp_path, daemon, on_daemon):
    on_daemon(daemon)
    root = tmp_path / "stagex"
    package(root, "slow", SLOW, {"busybox": BUSYBOX.read_bytes()})
    ws = Workspace(root)
    timed = run_build(ws, load_tree(root), ["core-slow"], BuildOptions(), BuildxEngine(ws, timeout=1.5),
                      IDENTITY).results[0]
    assert timed.failure and timed.failure.cause is Cause.TIMEOUT and "timed out after 1.5 s" in (
        timed.failure.evidence or ""), timed
    engine = BuildxEngine(ws)
    stopper = threading.Timer(1.5, engine.cancel)  # what the scheduler does on Ctrl-C
    stopper.start()
    stopped = run_build(ws, load_tree(root), ["core-slow"], BuildOptions(force=True), engine, IDENTITY).results[0]
    stopper.join()
    assert stopped.failure and stopped.failure.cause is Cause.INTERRUPTED and stopped.attempts == 1, stopped


def test_containerd_killed_mid_build_is_engine_state_and_not_retried_while_the_engine_is_down(
        tmp_path, daemon, on_daemon):
    on_daemon(daemon)
    root = tmp_path / "stagex"
    package(root, "slow", SLOW, {"busybox": BUSYBOX.read_bytes()})
    killer = threading.Timer(2.0, daemon.kill_containerd)
    killer.start()
    try:
        r = build(root, ["core-slow"]).results[0]
    finally:
        killer.join()
        daemon.start_containerd()
    assert r.status is Status.FAILED and r.failure and r.failure.cause is Cause.ENGINE, r
    assert "restart containerd and dockerd" in r.failure.fix
    assert r.attempts == 1  # the smoke test failed too: a second attempt would fail the same way


def test_lost_engine_state_is_retried_once_after_the_smoke_test_passes(engine, tmp_path, on_daemon):
    d = TestDaemon(tmp_path / "daemon").start()
    try:
        on_daemon(d)
        root = tmp_path / "stagex"
        package(root, "plain", "FROM scratch\nCOPY file /file\n", {"file": b"x\n"})
        assert build(root, ["core-plain"]).results[0].status is Status.BUILT
        d.kill_containerd()  # BuildKit keeps its cache records; containerd loses the snapshots
        (d.data / "containerd" / "io.containerd.metadata.v1.bolt" / "meta.db").unlink()
        d.start_containerd()
        wait_for_smoke()  # dockerd's connection to the new containerd is back
        r = build(root, ["core-plain"], force=True).results[0]
        assert r.status is Status.FAILED and r.failure and r.failure.cause is Cause.ENGINE, r
        assert "snapshot" in (r.failure.evidence or "")  # BuildKit names what containerd lost
        assert r.attempts == 2
    finally:
        d.stop()
