"""`rebuildx verify --rounds 2` on two extra builders, end to end: UNSTABLE in the exit code, the
JSON report (naming the file, and the builder of each build), JUnit and the ledger."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from farmgen import write_seed, write_step_package
from rebuildx.engine.check import require_engine
from releasegen import init_repo, publish, release_branch
from treegen import BUSYBOX, FixtureTree

pytestmark = pytest.mark.engine


def rebuildx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True, timeout=900)


def test_verify_rounds_names_the_unstable_package_and_file(tmp_path, daemons):
    up = FixtureTree(tmp_path / "upstream", {"fetch/bootstrap/seed/busybox-1.0": BUSYBOX.read_bytes()})
    write_seed(up.root)
    write_step_package(up.root, "stamp", [], "date +%s%N > /rootfs/usr/share/stamp/now")
    write_step_package(up.root, "steady", [], "echo same > /rootfs/usr/share/steady/same")
    init_repo(up)
    release_branch(up, "2099.01.0", publish(up, tmp_path / "published", require_engine().identity) / "digests")
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "busybox-1.0").write_bytes(BUSYBOX.read_bytes())
    report, junit, tree = tmp_path / "r.json", tmp_path / "j.xml", tmp_path / "stagex"
    builders = [a for d in daemons for a in ("--builder", f"{d.host},name={d.name}")]
    done = rebuildx("verify", "--release", "2099.01.0", "--repo", str(up.root), "--tree", str(tree),
                    "--sources", str(sources), *builders, "--rounds", "2", "--report", str(report),
                    "--junit", str(junit), "--no-explain")
    assert done.returncode == 7, done.stderr[-3000:]
    doc = json.loads(report.read_text())
    verdicts = {v["package"]: v for v in doc["verdicts"]}
    assert {p: v["verdict"] for p, v in verdicts.items()} == {
        "bootstrap-seed": "MATCH", "core-stamp": "UNSTABLE", "core-steady": "MATCH"}
    assert "usr/share/stamp/now (content)" in verdicts["core-stamp"]["note"]
    assert {b["builder"] for b in doc["builds"]} <= {"d1", "d2"}
    rounds = {r["package"]: r for r in doc["rounds"]}
    assert rounds["core-stamp"]["files"] == [{"path": "usr/share/stamp/now", "difference": "content"}]
    assert rounds["core-stamp"]["first_builder"] != rounds["core-stamp"]["second_builder"]
    assert not rounds["core-steady"]["unstable"]
    assert "UNSTABLE" in done.stdout and "1 unstable" in done.stdout
    failures = [c for c in ET.parse(junit).getroot() if c.find("failure") is not None]
    assert [c.get("name") for c in failures] == ["core-stamp"]
    status = rebuildx("status", "--release", "2099.01.0", "--tree", str(tree), "--json")
    assert json.loads(status.stdout)["unstable"] == ["core-stamp"]
