"""The engine smoke test: passes on the machine's engine, fails (with the right fix) on test
daemons of our own that cannot build, and a pass is remembered for the day, a failure never."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rebuildx.build.failures import Cause, FailureFacts, classify
from rebuildx.engine.check import require_engine
from rebuildx.engine.smoke import run_smoke, smoke_test
from testdaemon import TestDaemon

pytestmark = pytest.mark.engine


def doctor(tree: Path, env: dict[str, str]) -> tuple[int, dict[str, dict]]:
    """`rebuildx doctor` with a smoke cache of the test's own (beside the tree)."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tree.parent / "cache"), **env}
    done = subprocess.run([sys.executable, "-m", "rebuildx", "doctor", "--tree", str(tree), "--json", "--air-gapped"],
                          env=env, capture_output=True, text=True)
    return done.returncode, {f["check"]: f for f in json.loads(done.stdout)["findings"]}


@pytest.fixture
def tree(tmp_path) -> Path:
    (tmp_path / "stagex" / "packages").mkdir(parents=True)
    return tmp_path / "stagex"


def test_passes_on_the_real_engine_and_is_remembered_for_the_day(engine, tree):
    identity = require_engine().identity
    cache = tree.parent / "cache" / "rebuildx" / "engine-smoke.json"  # where doctor() below looks
    first = smoke_test(identity, cache=cache)
    assert first.ok and not first.cached and first.seconds < 30, first
    assert smoke_test(identity, cache=cache).cached
    assert not smoke_test(identity, cache=cache, today="2099-01-01").cached  # a new day asks again
    cache.write_text("[not what was written")  # a damaged cache is asked past, then rewritten
    assert not smoke_test(identity, cache=cache).cached
    code, findings = doctor(tree, {})
    assert findings["engine smoke"]["level"] == "pass" and "earlier today" in findings["engine smoke"]["message"]


def test_fails_without_the_containerd_store_with_that_fix(engine, tree, tmp_path, monkeypatch):
    d = TestDaemon(tmp_path / "daemon", containerd_store=False).start()
    try:
        for k, v in d.env.items():
            monkeypatch.setenv(k, v)
        result = run_smoke()
        assert not result.ok and result.exit_status == 1
        failure = classify(result.lines, FailureFacts(exit_status=result.exit_status))
        assert failure.cause is Cause.ENGINE and "containerd-snapshotter" in failure.fix
        assert "OCI exporter is not supported" in (failure.evidence or "")
        code, findings = doctor(tree, d.env)
        assert code == 4
        smoke = findings["engine smoke"]
        assert smoke["level"] == "fail" and "containerd-snapshotter" in smoke["fix"], smoke
        # a failure is never remembered: the next doctor asks the engine again
        assert not (tree.parent / "cache" / "rebuildx" / "engine-smoke.json").exists()
    finally:
        d.stop()


def test_fails_while_containerd_is_down_with_restart_as_the_fix(engine, tree, tmp_path):
    d = TestDaemon(tmp_path / "daemon").start()
    try:
        d.kill_containerd()
        code, findings = doctor(tree, d.env)
        smoke = findings["engine smoke"]
        assert code == 4 and smoke["level"] == "fail", smoke
        assert "restart containerd and dockerd" in smoke["fix"]
    finally:
        d.stop()
