"""The failure classifier on real logs: each file under data/failures/ was recorded from a build
that failed that way on a test daemon of our own (see tests/testdaemon.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rebuildx.build.failures import Cause, Failure, FailureFacts, classify, may_retry

DATA = Path(__file__).parent / "data" / "failures"


def log(name: str) -> list[str]:
    return (DATA / f"{name}.log").read_text().splitlines()


@pytest.mark.parametrize(("name", "facts", "cause", "evidence"), [
    ("engine-snapshot-missing", FailureFacts(exit_status=1), Cause.ENGINE, "does not exist: not found"),
    ("engine-containerd-killed", FailureFacts(exit_status=1), Cause.ENGINE, "containerd.sock: connect: connection refused"),
    ("engine-containerd-restarted", FailureFacts(exit_status=1), Cause.ENGINE, "connection reset by peer"),
    ("engine-snapshot-dir-missing", FailureFacts(exit_status=1), Cause.ENGINE, "snapshots/1: no such file"),
    ("engine-no-containerd-store", FailureFacts(exit_status=1), Cause.ENGINE, "OCI exporter is not supported"),
    ("disk-full-run", FailureFacts(exit_status=1), Cause.DISK_FULL, "dd: error writing '/big': No space left on device"),
    ("disk-full-copy", FailureFacts(exit_status=1), Cause.DISK_FULL, "no space left on device"),
    ("oom", FailureFacts(exit_status=1, oom_kills=1), Cause.OUT_OF_MEMORY, "exit code: 137"),
    ("exec-format", FailureFacts(exit_status=1), Cause.PLATFORM, "exec /foreign: exec format error"),
    ("missing-source", FailureFacts(exit_status=1), Cause.SOURCE, '"/fetch/hello-1.0.tar.gz": not found'),
    ("missing-fetch-dir", FailureFacts(exit_status=1), Cause.SOURCE, "/fetch: no such file or directory"),
    ("typo", FailureFacts(exit_status=1), Cause.SYNTAX, "unknown instruction: RUNN"),
    ("missing-stage", FailureFacts(exit_status=1), Cause.SYNTAX, "could not be found"),
    ("network", FailureFacts(exit_status=1), Cause.NETWORK, "wget: bad address 'rebuildx.invalid'"),
    ("interrupted", FailureFacts(exit_status=1), Cause.INTERRUPTED, "Canceled: context canceled"),
])
def test_recorded_logs_name_their_cause(name, facts, cause, evidence):
    failure = classify(log(name), facts)
    assert failure.cause is cause
    assert failure.evidence and evidence in failure.evidence
    assert failure.fix


def test_each_cause_has_its_own_fix():
    fixes = {classify(log(n)).fix for n in ("engine-snapshot-missing", "disk-full-run", "exec-format",
                                             "missing-source", "typo", "network")}
    assert len(fixes) == 6
    assert "restart containerd and dockerd" in classify(log("engine-snapshot-missing")).fix
    assert "containerd-snapshotter" in classify(log("engine-no-containerd-store")).fix


def test_a_sigkill_is_out_of_memory_when_the_kernel_says_so_and_only_then_for_sure():
    lines = log("oom")
    assert "OOM-killed 1" in (classify(lines, FailureFacts(oom_kills=1)).evidence or "")
    plain = classify(lines, FailureFacts(oom_kills=0))
    assert plain.cause is Cause.OUT_OF_MEMORY and "no OOM record" in plain.fix


def test_a_low_disk_fact_explains_a_failure_the_log_does_not():
    lines = ["#5 ERROR: process \"/bin/sh -c make\" did not complete successfully: exit code: 2"]
    failure = classify(lines, FailureFacts(free_disk_bytes=50 * 2**20, data_root="/var/lib/docker"))
    assert failure.cause is Cause.DISK_FULL and failure.evidence == "50 MiB free on /var/lib/docker"
    assert classify(lines, FailureFacts(free_disk_bytes=80 * 2**30)).cause is Cause.UNKNOWN


def test_unknown_stays_unknown_with_the_tail():
    lines = [f"#7 {i} compiling" for i in range(40)] + [
        'ERROR: failed to solve: process "/bin/sh -c make" did not complete successfully: exit code: 2']
    failure = classify(lines, FailureFacts(exit_status=1))
    assert failure.cause is Cause.UNKNOWN
    assert failure.evidence == lines[-1] and failure.tail == tuple(lines[-20:])
    assert failure.to_json()["tail"][-1] == lines[-1]


def test_rebuildx_own_timeout_and_interrupt_win_over_the_log():
    lines = log("interrupted")  # what buildx says when it is stopped, for whatever reason
    assert classify(lines, FailureFacts(timed_out=True, error="build timed out after 5 s")).cause is Cause.TIMEOUT
    assert classify(log("disk-full-run"), FailureFacts(interrupted=True)).cause is Cause.INTERRUPTED


def test_only_engine_state_is_retried_and_only_once():
    engine = classify(log("engine-snapshot-missing"))
    assert may_retry(engine, attempts=1) and not may_retry(engine, attempts=2)
    for name in ("missing-source", "typo", "exec-format", "network", "disk-full-run", "oom", "interrupted"):
        assert not may_retry(classify(log(name)), attempts=1), name
    assert not may_retry(Failure(Cause.UNKNOWN, "x"), attempts=1)
