"""doctor: pure checks over facts, and the real thing against engines set up wrong."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from rebuildx.doctor.checks import Facts, Level, diagnose
from rebuildx.stagex.releases import release_minimum
from rebuildx.engine.check import EngineInfo

GOOD = dict(machine="x86_64", ram_bytes=64 * 2**30, free_disk_bytes=900 * 10**9,
            disk_needed_bytes=500 * 10**9, engine=EngineInfo("29.1.5", "v0.30.1", True), podman="5.4.2")


def levels(facts: Facts) -> dict[str, Level]:
    return {f.check: f.level for f in diagnose(facts)}


def test_a_good_machine_passes_everything():
    assert set(levels(Facts(**GOOD)).values()) == {Level.PASS}


@pytest.mark.parametrize("change, check, level, fix_part", [
    (dict(machine="aarch64"), "cpu", Level.FAIL, "architecture"),
    (dict(ram_bytes=2 * 2**30), "ram", Level.FAIL, "4 GiB"),
    (dict(ram_bytes=8 * 2**30), "ram", Level.WARN, "fewer --jobs"),
    (dict(free_disk_bytes=100 * 10**9), "disk", Level.FAIL, "free disk"),
    (dict(engine=None, engine_error="no Docker engine answers"), "docker", Level.FAIL, "scripts/setup"),
    (dict(engine=EngineInfo("20.10.24", "v0.13.1", True)), "docker", Level.FAIL, "Docker >= 25"),
    (dict(engine=EngineInfo("26.1.5", "0.13.1", True)), "docker", Level.WARN, "upgrade Docker"),
    (dict(engine=EngineInfo("29.1.5", "0.13.1", True)), "buildx", Level.WARN, "docker-buildx"),
    (dict(engine=EngineInfo("29.1.5", "0.30.1", False)), "containerd store", Level.FAIL, "containerd-snapshotter"),
    (dict(git=False), "git", Level.FAIL, "apt-get install git"),
    (dict(release="2026.03.0", checkout_problem="at 1234, not at release"), "checkout", Level.FAIL, "branch"),
    (dict(foreign_out=["core-bash"]), "out/", Level.WARN, "rm -rf out/core-bash"),
    (dict(stale_fetch=["fetch/core/bash/old.tar.gz"]), "fetch/", Level.WARN, "remove"),
    (dict(stale_out=["core-bash"]), "out/ inputs", Level.WARN, "--cold"),
    (dict(cold=True, buildkit_cache_bytes=5 * 10**9), "buildkit cache", Level.WARN, "docker buildx prune"),
    (dict(unreachable_mirrors=["https://ftp.gnu.org"]), "mirrors", Level.WARN, "--sources"),
])
def test_each_problem_is_found_with_its_fix(change, check, level, fix_part):
    findings = {f.check: f for f in diagnose(Facts(**{**GOOD, **change}))}
    assert findings[check].level is level
    assert fix_part in (findings[check].fix or "")
    assert fix_part in findings[check].line()


def test_release_minimums_follow_compat_sh():
    assert release_minimum("2026.03.0") == ((29, 1, 5), (0, 30, 1))
    assert release_minimum("2025.11.0") == ((26, 0, 0), (0, 13, 0))
    # an older engine is a warning, not a failure: it reproduces packages too
    assert levels(Facts(**{**GOOD, "release": "2025.11.0", "engine": EngineInfo("26.1.5", "0.13.1", True)}))[
        "docker"] is Level.PASS


@pytest.fixture
def dockerd_without_containerd_store():
    """A second, real dockerd on its own socket, with the classic overlay2 store. It runs in its
    own network namespace: a dockerd started with --bridge=none deletes the host's docker0,
    which would break the main engine's RUN steps."""
    d = Path(tempfile.mkdtemp(prefix="rbx-d2-", dir="/tmp"))
    (d / "daemon.json").write_text("{}")
    sock = d / "docker.sock"
    proc = subprocess.Popen(
        ["unshare", "--net", "dockerd", "--host", f"unix://{sock}", "--data-root", str(d / "data"), "--exec-root", str(d / "exec"),
         "--pidfile", str(d / "pid"), "--config-file", str(d / "daemon.json"), "--iptables=false",
         "--ip6tables=false", "--bridge=none", "--containerd", "/run/containerd/containerd.sock",
         "--containerd-namespace", d.name, "--containerd-plugins-namespace", d.name + "-p"],
        stdout=subprocess.DEVNULL, stderr=open(d / "log", "wb"), start_new_session=True)
    env = {**os.environ, "DOCKER_HOST": f"unix://{sock}"}
    for _ in range(120):
        if subprocess.run(["docker", "info"], env=env, capture_output=True).returncode == 0:
            break
        time.sleep(0.25)
    else:
        proc.kill()
        pytest.fail(f"second dockerd did not start: {(d / 'log').read_text()[-2000:]}")
    yield env
    proc.terminate()
    proc.wait(timeout=30)
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.engine
def test_doctor_and_build_against_an_engine_without_the_containerd_store(engine, fixture_tree,
                                                                          dockerd_without_containerd_store):
    env = dockerd_without_containerd_store
    cmd = [sys.executable, "-m", "rebuildx"]
    done = subprocess.run([*cmd, "doctor", "--tree", str(fixture_tree.root), "--json", "--air-gapped"],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 4
    store = next(f for f in json.loads(done.stdout)["findings"] if f["check"] == "containerd store")
    assert store["level"] == "fail" and "containerd-snapshotter" in store["fix"]
    done = subprocess.run([*cmd, "build", "--tree", str(fixture_tree.root)], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(
        "rebuildx: error: Docker runs without the containerd image store")
    assert "containerd-snapshotter" in done.stderr and "Traceback" not in done.stderr


def test_no_engine_at_all_is_one_line(fixture_tree, tmp_path):
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/nothing.sock"}
    done = subprocess.run([sys.executable, "-m", "rebuildx", "build", "--tree", str(fixture_tree.root)],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "no Docker engine answers" in done.stderr and "scripts/setup" in done.stderr


@pytest.mark.engine
def test_failing_build_writes_a_support_bundle(engine, fixture_tree):
    (fixture_tree.root / "packages/core/hello/Containerfile").write_text(
        "FROM stagex/bootstrap-seed\nRUN --network=none echo the-last-words && exit 9\n")
    done = subprocess.run([sys.executable, "-m", "rebuildx", "build", "core-hello", "--tree",
                           str(fixture_tree.root)], capture_output=True, text=True)
    assert done.returncode == 4
    bundle = fixture_tree.root / ".rebuildx/support-bundle.md"
    assert f"support bundle (paste it into the StageX chat room): {bundle}" in done.stderr
    text = bundle.read_text()
    for field in ("- release:", "- commit:", "- docker: client", "- buildx: github.com/docker/buildx",
                  "- containerd: containerd", "- cpu: x86_64", "- ram:", "- free disk:",
                  "- command: `rebuildx build core-hello --tree", "- failing package: core-hello",
                  "## doctor", "pass  containerd store: on", "the-last-words",
                  "- cause: unknown: ERROR: failed to solve:", "- engine smoke test after the failure: pass",
                  "## failed builds", "- core-hello: unknown", "pass  engine smoke:"):
        assert field in text, field


def test_disk_estimate_from_history_else_pro_rata(tmp_path):
    from rebuildx.doctor.facts import FULL_TREE_BYTES, FULL_TREE_PACKAGES, SNAPSHOT_FACTOR, _disk_estimate
    from rebuildx.workspace import Workspace

    ws = Workspace(tmp_path)
    (tmp_path / "out/core-built").mkdir(parents=True)
    estimate = _disk_estimate(ws, ["core-built", "core-known", "core-new"], {"core-known": 1000})
    assert estimate == 1000 * SNAPSHOT_FACTOR + FULL_TREE_BYTES // FULL_TREE_PACKAGES
    assert _disk_estimate(ws, [], {}) == FULL_TREE_BYTES // FULL_TREE_PACKAGES * FULL_TREE_PACKAGES


@pytest.mark.engine
def test_doctor_finds_out_entries_built_from_other_inputs(engine, fixture_tree):
    fixture_tree.prefill_fetch()
    cmd = [sys.executable, "-m", "rebuildx"]
    assert subprocess.run([*cmd, "build", "hello", "--tree", str(fixture_tree.root)],
                          capture_output=True).returncode == 0
    cf = fixture_tree.root / "packages/core/hello/Containerfile"
    cf.write_text(cf.read_text() + "# changed\n")
    done = subprocess.run([*cmd, "doctor", "--tree", str(fixture_tree.root), "--json", "--air-gapped"],
                          capture_output=True, text=True)
    findings = {f["check"]: f for f in json.loads(done.stdout)["findings"]}
    assert findings["out/ inputs"]["level"] == "warn" and "core-hello" in findings["out/ inputs"]["message"]
    assert "bootstrap-seed" not in findings["out/ inputs"]["message"]


@pytest.mark.engine
def test_a_fetch_failure_before_any_build_still_writes_a_bundle(engine, tmp_path):
    from treegen import write_fixture_tree

    tree = write_fixture_tree(tmp_path / "stagex")  # its mirror is a closed port: nothing can be had
    done = subprocess.run([sys.executable, "-m", "rebuildx", "build", "core-hello", "--tree", str(tree.root)],
                          capture_output=True, text=True)
    assert done.returncode == 1 and "could not be fetched" in done.stderr
    text = (tree.root / ".rebuildx/support-bundle.md").read_text()
    assert "- error: 2 of 2 sources could not be fetched" in text
    assert "## doctor" in text and "pass  containerd store: on" in text


def test_podman_is_required_only_for_the_podman_engine():
    from rebuildx.doctor.checks import Facts, Level, diagnose

    def level(check: str, facts: Facts) -> Level:
        return next(f.level for f in diagnose(facts) if f.check == check)

    missing = dict(ram_bytes=32 * 2**30, free_disk_bytes=10**12, machine="x86_64", podman_error="no Podman answers")
    assert level("podman", Facts(**missing)) is Level.WARN
    assert level("podman", Facts(**missing, engine_name="podman")) is Level.FAIL
    assert level("podman", Facts(**missing, podman="5.4.2")) is Level.PASS
    # no Docker at all: a failure for BuildKit builds, a warning for Podman's
    assert level("docker", Facts(**missing)) is Level.FAIL
    assert level("docker", Facts(**missing, engine_name="podman", podman="5.4.2")) is Level.WARN
