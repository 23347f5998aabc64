"""Scheduler logic with plain functions as builds (no engine: ordering, failure, interrupt)."""

from __future__ import annotations

import threading

import pytest

from rebuildx.build.scheduler import run_schedule

DEPS = {"a": [], "b": ["a"], "c": ["b"], "d": ["a"], "e": []}


def test_one_builder_takes_the_longest_remaining_chain_first():
    order: list[str] = []
    prio = {"a": 3, "b": 2, "c": 1, "d": 1, "e": 1}
    out = run_schedule(list(DEPS), DEPS, lambda n: order.append(n) or True, bool, jobs=1, priority=prio)
    assert order == ["a", "b", "c", "d", "e"] and set(out.results) == set(DEPS)


def test_failure_stops_new_starts_but_keep_going_builds_the_rest():
    fail = {"b"}
    stopped = run_schedule(list(DEPS), DEPS, lambda n: n not in fail, bool, jobs=1,
                           priority={"a": 3, "b": 2, "c": 1, "d": 1, "e": 1})
    assert set(stopped.results) == {"a", "b"} and stopped.blocked == {"c": "b"}
    assert stopped.not_started == ["d", "e"]
    going = run_schedule(list(DEPS), DEPS, lambda n: n not in fail, bool, jobs=2, keep_going=True,
                         priority={"a": 3, "b": 2, "c": 1, "d": 1, "e": 1})
    assert set(going.results) == {"a", "b", "d", "e"} and going.blocked == {"c": "b"} and going.not_started == []


def test_parallel_builds_run_at_once_up_to_jobs():
    barrier = threading.Barrier(3, timeout=10)
    deps = {n: [] for n in "xyz"}
    out = run_schedule(list(deps), deps, lambda n: barrier.wait() >= 0, bool, jobs=3, priority={})
    assert len(out.results) == 3  # the barrier only opens when all three run together


def test_interrupt_aborts_running_builds():
    aborted = threading.Event()

    def run(name: str) -> bool:
        if name == "a":
            raise KeyboardInterrupt
        return True

    with pytest.raises(KeyboardInterrupt):
        run_schedule(list(DEPS), DEPS, run, bool, jobs=1, priority={}, abort=aborted.set)
    assert aborted.is_set()
