"""doctor's engine smoke check, pure: its failure named as a build's would be, with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from rebuildx.doctor.checks import Facts, Level, diagnose
from rebuildx.engine.check import EngineInfo
from rebuildx.engine.smoke import SmokeResult

DATA = Path(__file__).parents[1] / "builder" / "data" / "failures"
ENGINE = EngineInfo("29.1.5", "v0.30.1", True)


def smoke_finding(smoke: SmokeResult | None, engine: EngineInfo | None = ENGINE):
    found = [f for f in diagnose(Facts(machine="x86_64", engine=engine, smoke=smoke)) if f.check == "engine smoke"]
    return found[0] if found else None


def test_a_pass_says_when():
    assert smoke_finding(SmokeResult(True, 0.8)).message.endswith("(in 0.8 s)")
    cached = smoke_finding(SmokeResult(True, 0.0, cached=True))
    assert cached.level is Level.PASS and "earlier today" in cached.message


def test_a_failure_is_a_doctor_failure_with_the_causes_fix():
    lines = tuple((DATA / "engine-no-containerd-store.log").read_text().splitlines())
    f = smoke_finding(SmokeResult(False, 0.3, lines, 1, "docker buildx build exited 1"))
    assert f.level is Level.FAIL and "OCI exporter is not supported" in f.message
    assert "containerd-snapshotter" in (f.fix or "")
    lines = tuple((DATA / "engine-snapshot-missing.log").read_text().splitlines())
    f = smoke_finding(SmokeResult(False, 0.3, lines, 1, "docker buildx build exited 1"))
    assert f.level is Level.FAIL and "restart containerd and dockerd" in (f.fix or "")


def test_an_unexplained_failure_still_says_what_to_try():
    f = smoke_finding(SmokeResult(False, 120.0, (), -1, "the smoke build gave no answer in 120 s"))
    assert f.level is Level.FAIL and "no answer" in f.message
    assert "restart containerd and dockerd" in (f.fix or "") and "free disk" in (f.fix or "")


def test_no_engine_no_smoke_line():
    assert smoke_finding(None, engine=None) is None


@pytest.mark.engine
def test_a_source_with_the_wrong_hash_is_named_in_the_bundle(engine, tmp_path, mirror):
    import subprocess
    import sys

    from treegen import write_fixture_tree

    tree = write_fixture_tree(tmp_path / "stagex", mirror)
    mirror.files["/hello/hello-1.2.3.tar.gz"] = b"not the tarball package.toml names"
    done = subprocess.run([sys.executable, "-m", "rebuildx", "build", "core-hello", "--tree", str(tree.root)],
                          capture_output=True, text=True)
    assert done.returncode == 1 and "sha256 mismatch" in done.stderr, done.stderr[-2000:]
    text = (tree.root / ".rebuildx/support-bundle.md").read_text()
    assert "- cause: source missing or wrong:" in text and "sha256 mismatch" in text
    assert "- fix: fetch the package's sources again" in text
