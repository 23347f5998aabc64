"""The scheduler's decisions on small graphs, one builder at a time so the order is exact."""

from __future__ import annotations

import threading

import pytest

from rebuildx.build.scheduler import run_schedule

#   a <- b <- c        (c depends on b, b on a)
#   a <- d
#   e (alone), f depends on an outside package
DEPS = {"a": [], "b": ["a"], "c": ["b"], "d": ["a"], "e": [], "f": ["outside"]}
ORDER = ["a", "e", "f", "b", "d", "c"]


class Log:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def started(self, name: str) -> None:
        self.events.append(("started", name))

    def finished(self, name: str, result: object) -> None:
        self.events.append(("finished", name))


def schedule(fail=(), jobs=1, keep_going=False, priority=None, listener=None, order=ORDER, deps=DEPS):
    ran: list[str] = []

    def run(name: str) -> str:
        ran.append(name)
        return "bad" if name in fail else "good"

    out = run_schedule(order, deps, run, lambda r: r == "good", jobs=jobs, priority=priority or {},
                       keep_going=keep_going, listener=listener)
    return out, ran


def test_by_priority_then_name_and_deps_first():
    out, ran = schedule(priority={"e": 5.0, "a": 3.0, "d": 2.0, "b": 1.0})
    assert ran == ["e", "a", "d", "b", "c", "f"]
    assert out.results == dict.fromkeys(ran, "good") and out.blocked == {} and out.not_started == []


def test_without_priorities_names_break_ties():
    assert schedule()[1] == ["a", "b", "c", "d", "e", "f"]


def test_a_dependency_outside_the_order_counts_as_done():
    out, ran = schedule(order=["f"], deps={"f": ["elsewhere"]})
    assert ran == ["f"]


def test_listener_sees_each_start_before_its_end():
    log = Log()
    schedule(listener=log)
    assert log.events == [(kind, n) for n in "abcdef" for kind in ("started", "finished")]


def test_a_failure_stops_new_starts_and_names_what_it_blocks():
    out, ran = schedule(fail={"a"})
    assert ran == ["a"]
    assert out.results == {"a": "bad"}
    assert out.blocked == {"b": "a", "c": "a", "d": "a"}
    assert out.not_started == ["e", "f"]


def test_keep_going_builds_everything_not_behind_a_failure():
    out, ran = schedule(fail={"b"}, keep_going=True)
    assert sorted(ran) == ["a", "b", "d", "e", "f"]
    assert out.blocked == {"c": "b"} and out.not_started == []
    assert out.results["b"] == "bad" and out.results["d"] == "good"


def test_a_package_behind_two_failures_is_blocked_once():
    deps = {"x": [], "y": [], "z": ["x", "y"], "w": ["z"]}
    out, ran = schedule(fail={"x", "y"}, keep_going=True, order=["x", "y", "z", "w"], deps=deps)
    assert ran == ["x", "y"] and out.blocked == {"z": "x", "w": "x"}


def test_jobs_run_at_once():
    barrier = threading.Barrier(3, timeout=10)

    def run(name: str) -> str:
        barrier.wait()  # fails unless three builds run together
        return name

    out = run_schedule(["p", "q", "r"], {"p": [], "q": [], "r": []}, run, lambda r: True, jobs=3, priority={})
    assert out.results == {"p": "p", "q": "q", "r": "r"}


def test_an_interrupt_aborts_and_goes_on():
    aborted: list[bool] = []

    def run(name: str) -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_schedule(["p"], {"p": []}, run, lambda r: True, jobs=1, priority={}, abort=lambda: aborted.append(True))
    assert aborted == [True]


def test_a_package_waits_for_all_its_deps_whatever_its_priority():
    out, ran = schedule(order=["x", "y", "z"], deps={"x": [], "y": [], "z": ["x", "y"]}, priority={"z": 5.0})
    assert ran == ["x", "y", "z"]


def test_packages_without_a_priority_come_after_those_with_one():
    deps = {"r": [], "q": ["r"], "s": ["r"], "t": [], "u": []}
    assert schedule(order=list(deps), deps=deps, priority={"s": 0.5, "u": 0.25})[1] == ["u", "r", "s", "q", "t"]


def test_a_finished_build_frees_its_dependents_while_others_still_run():
    freed = threading.Event()

    def run(name: str) -> str:
        if name == "slow":
            return "good" if freed.wait(10) else "starved"
        if name == "after-fast":
            freed.set()
        return "good"

    out = run_schedule(["fast", "slow", "after-fast"], {"fast": [], "slow": [], "after-fast": ["fast"]}, run,
                       lambda r: r == "good", jobs=2, priority={"slow": 1.0})
    assert out.results == {"fast": "good", "slow": "good", "after-fast": "good"}


def test_the_listener_gets_each_result():
    got: list[tuple[str, object]] = []

    class Results:
        def started(self, name: str) -> None:
            pass

        def finished(self, name: str, result: object) -> None:
            got.append((name, result))

    schedule(fail={"b"}, keep_going=True, listener=Results())
    assert dict(got) == {"a": "good", "b": "bad", "d": "good", "e": "good", "f": "good"}
