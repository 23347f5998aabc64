"""Builds on several real builders: the shared daemon and two extra daemons of the tests' own."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from farmgen import write_sleep_tree
from rebuildx.build.placement import FaultPolicy
from rebuildx.build.run import BuildOptions, connect_farm, run_build
from rebuildx.engine.builders import DEFAULT, parse_spec
from rebuildx.engine.buildx import BuildxEngine
from rebuildx.stagex.tree import load_tree
from rebuildx.state.db import connect
from rebuildx.workspace import Workspace

pytestmark = pytest.mark.engine


def farm_build(root: Path, specs, **opts):
    ws = Workspace(root)
    members, identity = connect_farm(ws, specs)
    return run_build(ws, load_tree(root), (), BuildOptions(**opts), BuildxEngine(ws), identity, farm=members)


def specs_of(daemons, jobs: int = 1):
    return [parse_spec(f"{d.host},name={d.name},jobs={jobs}") for d in daemons]


def digests(report) -> dict[str, str]:
    return {r.package: r.digest for r in report.results}


def test_three_builders_give_the_digests_of_one(fixture_tree, daemons, tmp_path):
    fixture_tree.prefill_fetch()
    alone = tmp_path / "alone"
    shutil.copytree(fixture_tree.root, alone)
    one = farm_build(alone, [DEFAULT], jobs=3)
    three = farm_build(fixture_tree.root, [DEFAULT, *specs_of(daemons)], cold=True)
    assert three.ok and one.ok and digests(three) == digests(one)
    used = {r.builder for r in three.results}
    assert used <= {"default", "d1", "d2"} and len(used) >= 2, used
    rows = connect(Workspace(fixture_tree.root)).execute(
        "SELECT package, builder FROM builds WHERE ok = 1 AND builder IS NOT NULL").fetchall()
    assert {p: b for p, b in rows} == {r.package: r.builder for r in three.results}


def kill_when_building(daemon, logs: Path, done: threading.Event) -> None:
    """SIGKILL `daemon`'s dockerd half a second after a build started on it."""
    marker = f"# builder {daemon.name}\n"
    while not done.is_set():
        for log in logs.glob("*.log") if logs.is_dir() else ():
            try:
                if log.read_text().startswith(marker):
                    time.sleep(0.5)
                    daemon.kill()
                    return
            except OSError:
                pass
        time.sleep(0.05)


def test_a_builder_killed_mid_run_is_marked_down_and_its_builds_run_elsewhere(tmp_path, daemons):
    reference, root = tmp_path / "reference", tmp_path / "farm"
    for r in (reference, root):
        write_sleep_tree(r, 7, sleep=(1.0, 1.5), max_deps=1)
    alone = farm_build(reference, [DEFAULT], jobs=3)
    victim = daemons[1]
    done = threading.Event()
    killer = threading.Thread(target=kill_when_building, args=(victim, root / ".rebuildx" / "logs", done))
    killer.start()
    try:
        report = farm_build(root, [*specs_of(daemons), DEFAULT], faults=FaultPolicy(probe_every=1.0))
    finally:
        done.set()
        killer.join()
        victim.start()
    assert report.ok, [(r.package, r.error) for r in report.results if not r.ok]
    assert digests(report) == digests(alone)
    assert report.down == [victim.name]
    assert victim.name in {r.builder for r in report.lost}
    assert all(r.builder_down for r in report.lost)


def test_builders_verb_checks_each_builder(daemons, tmp_path):
    done = subprocess.run([sys.executable, "-m", "rebuildx", "builders", "--builder", f"{daemons[0].host},name=d1,jobs=2",
                           "--builder", f"unix://{tmp_path}/none.sock,name=gone"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 4, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("d1") and "jobs=2" in lines[0] and lines[1].strip().startswith("ok    docker ")
    assert lines[2].startswith("gone") and "FAIL  builder gone: no Docker engine answers" in lines[3]
    assert lines[-1] == "2 builders: 1 ready, 1 not (gone)"
