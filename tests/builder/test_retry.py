"""The retry decision in the build step: an engine-state failure is tried once more, and only
after the engine passes its smoke test; nothing else is tried again. A scripted engine (no
daemon) plays the failures; the real ones are in test_failures_real.py."""

from __future__ import annotations

from pathlib import Path

from rebuildx.build.failures import Cause
from rebuildx.build.run import Builder, BuildOptions, Status
from rebuildx.engine.base import BuildOutcome, BuildRequest
from rebuildx.engine.smoke import SmokeResult
from rebuildx.stagex.tree import load_tree
from rebuildx.state.history import History
from rebuildx.workspace import Workspace
from treegen import write_package

DATA = Path(__file__).parent / "data" / "failures"


class ScriptedEngine:
    """Fails each build with the next recorded log; answers the smoke test as told."""

    name = "scripted"

    def __init__(self, logs: list[str], smoke_ok: bool) -> None:
        self.logs, self.smoke_ok = list(logs), smoke_ok
        self.builds = self.smokes = 0

    def command(self, request: BuildRequest) -> list[str]:
        return ["scripted", request.package.full_name]

    def build(self, request: BuildRequest) -> BuildOutcome:
        self.builds += 1
        log = request.dest.parent / f"attempt-{self.builds}.log"
        log.write_text((DATA / f"{self.logs.pop(0)}.log").read_text())
        return BuildOutcome(request.package.full_name, False, 0.1, log, "docker buildx build exited 1", exit_status=1)

    def smoke(self) -> SmokeResult:
        self.smokes += 1
        return SmokeResult(self.smoke_ok, 0.5)


def builder(tmp_path: Path, engine: ScriptedEngine) -> Builder:
    write_package(tmp_path, "core", "plain", '[package]\nname = "plain"\nversion = "1.0"\n',
                  "FROM scratch\nCOPY file /file\n")
    ws = Workspace(tmp_path)
    return Builder(ws, load_tree(tmp_path), engine, History(ws), "scripted", BuildOptions())


def test_engine_state_is_tried_again_once_the_smoke_test_passes(tmp_path):
    engine = ScriptedEngine(["engine-snapshot-missing", "engine-snapshot-missing", "typo"], smoke_ok=True)
    r = builder(tmp_path, engine).build("core-plain")
    assert r.status is Status.FAILED and r.failure and r.failure.cause is Cause.ENGINE
    assert (engine.builds, engine.smokes, r.attempts) == (2, 1, 2)  # once more, never a third time


def test_the_second_attempt_names_its_own_cause(tmp_path):
    engine = ScriptedEngine(["engine-containerd-killed", "typo"], smoke_ok=True)
    r = builder(tmp_path, engine).build("core-plain")
    assert r.failure and r.failure.cause is Cause.SYNTAX and r.attempts == 2


def test_no_second_attempt_while_the_engine_fails_its_smoke_test(tmp_path):
    engine = ScriptedEngine(["engine-containerd-killed", "engine-containerd-killed"], smoke_ok=False)
    r = builder(tmp_path, engine).build("core-plain")
    assert r.failure and r.failure.cause is Cause.ENGINE
    assert (engine.builds, engine.smokes, r.attempts) == (1, 1, 1)


def test_source_syntax_and_machine_failures_are_never_tried_again(tmp_path):
    for name in ("missing-source", "typo", "exec-format", "network", "disk-full-run", "oom"):
        engine = ScriptedEngine([name, name], smoke_ok=True)
        r = builder(tmp_path / name, engine).build("core-plain")
        assert r.status is Status.FAILED and r.attempts == 1, name
        assert (engine.builds, engine.smokes) == (1, 0), name
