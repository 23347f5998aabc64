"""What a build may and may not touch, and what compare may conclude, with the real engine."""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rebuildx.compare.digestfiles import write_digests
from rebuildx.workspace import Workspace


def rebuildx(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


@pytest.mark.engine
def test_a_build_leaves_a_running_fetchs_partial_downloads_alone(engine, fixture_tree):
    fixture_tree.prefill_fetch()
    partial = fixture_tree.root / ".rebuildx/tmp/fetch/0123.rebuildx-partial"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"half a download")
    stale_build = fixture_tree.root / ".rebuildx/tmp/build/core-hello-dead"
    stale_build.mkdir(parents=True)
    assert rebuildx("build", "hello", "--tree", str(fixture_tree.root)).returncode == 0
    assert partial.read_bytes() == b"half a download"
    assert not stale_build.exists()  # a killed build's leftovers are cleaned


@pytest.mark.engine
def test_compare_after_a_failure_then_an_up_to_date_build(engine, fixture_tree, tmp_path):
    fixture_tree.prefill_fetch()
    root = str(fixture_tree.root)
    assert rebuildx("build", "--tree", root, "-j", "2").returncode == 0
    published = tmp_path / "published"
    shutil.copytree(fixture_tree.root / "out", published / "out")
    write_digests(Workspace(published))
    cf = fixture_tree.root / "packages/core/hello/Containerfile"
    good = cf.read_text()
    cf.write_text(good.replace("RUN --network=none", "RUN --network=none false &&"))
    assert rebuildx("build", "--tree", root).returncode == 4
    cf.write_text(good)
    again = rebuildx("build", "--tree", root)
    assert again.returncode == 0 and "6 up-to-date" in again.stdout, again.stderr
    done = rebuildx("compare", "--tree", root, "--published", str(published / "digests"),
                    "--junit", str(tmp_path / "new/dir/j.xml"))
    assert done.returncode == 0, done.stdout
    assert (tmp_path / "new/dir/j.xml").is_file()
    # an entry whose package changed since it was built proves nothing about the new source
    pair = fixture_tree.root / "packages/core/pair/Containerfile"
    pair.write_text(pair.read_text().replace("echo ${BETA_GIT_SHA}", "echo tampered ${BETA_GIT_SHA}"))
    done = rebuildx("compare", "pair", "--tree", root, "--published", str(published / "digests"), "--json")
    verdicts = {v["package"]: v for v in json.loads(done.stdout)["verdicts"]}
    assert verdicts["core-pair"]["verdict"] == "NOT_BUILT" and "other inputs" in verdicts["core-pair"]["note"]
    assert verdicts["core-hello"]["verdict"] == "MATCH"
    assert done.returncode == 5


@pytest.mark.engine
def test_doctor_failure_in_build_is_exit_4(engine, fixture_tree):
    fixture_tree.prefill_fetch()
    done = rebuildx("build", "hello", "--tree", str(fixture_tree.root), "--platform", "linux/arm64")
    assert done.returncode == 4
    assert "cannot build for linux/arm64" in done.stderr and "linux/amd64" not in done.stderr.split("cpu:")[1][:60]


@pytest.mark.engine
def test_only_with_deps_missing_is_named_up_front(engine, fixture_tree):
    fixture_tree.prefill_fetch()
    done = rebuildx("build", "pallet-hello-kit", "--only", "--tree", str(fixture_tree.root))
    assert done.returncode == 1
    assert "--only: the deps bootstrap-seed, core-hello, core-pair, core-tool-a are not in out/" in done.stderr
    assert not (fixture_tree.root / ".rebuildx/logs/pallet-hello-kit.log").exists()  # no build attempted


@pytest.mark.engine
def test_a_second_build_is_refused_while_one_holds_the_workspace(engine, fixture_tree):
    fixture_tree.prefill_fetch()
    (fixture_tree.root / ".rebuildx").mkdir()
    with open(fixture_tree.root / ".rebuildx/lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        done = rebuildx("build", "--tree", str(fixture_tree.root))
    assert done.returncode == 1 and "another rebuildx build is running" in done.stderr
    assert "plan:" not in done.stderr  # refused before doctor, fetch or plan output
    assert not (fixture_tree.root / ".rebuildx/support-bundle.md").exists()


@pytest.mark.engine
def test_an_io_error_in_the_engine_fails_that_package_only(engine, fixture_tree):
    fixture_tree.prefill_fetch()
    staged = fixture_tree.root / "packages/core/tools/fetch"
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_text("a file where the staged fetch/ directory must go")  # rmtree cannot remove it
    done = rebuildx("build", "--tree", str(fixture_tree.root), "--keep-going")
    assert done.returncode == 4 and "Traceback" not in done.stderr
    assert "FAILED core-tool-a" in done.stderr or "FAILED core-tool-b" in done.stderr
    assert (fixture_tree.root / "out/core-hello").is_dir()
