"""Placement on several builders, with plain functions as builds (no engine): which builder takes
what, builders going down and coming back, failures on two builders, and the learned speed."""

from __future__ import annotations

import threading
import time

from rebuildx.build.placement import Attempts, Farm, Fault, FaultPolicy, retry, speed_factors
from rebuildx.build.scheduler import run_on_farm

DEPS = {"a": [], "b": ["a"], "c": ["b"], "d": ["a"], "e": []}
PRIO = {"a": 3, "b": 2, "c": 1, "d": 1, "e": 1}


def ok_or(kind: Fault):
    return lambda r: Fault.NONE if r[2] else kind


def test_the_fastest_free_builder_takes_the_next_package_then_the_least_loaded():
    farm = Farm({"slow": 2, "fast": 1, "mid": 2}, {"slow": 2.0, "fast": 0.5})
    assert farm.pick() == "fast"
    farm.take("fast")
    assert farm.pick() == "mid"  # 1.0: no history yet
    farm.take("mid")
    assert farm.pick() == "mid"  # one slot left there, still faster than slow
    farm.take("mid")
    assert farm.pick() == "slow" and farm.pick(avoid=["slow"]) is None


def test_speed_is_learned_per_package_against_its_typical_time():
    f = speed_factors([("a", "x", 10), ("a", "y", 20), ("b", "x", 5), ("b", "y", 10), ("c", "z", 99)])
    assert f["x"] < 1.0 < f["y"] and f["z"] == 1.0


def test_a_lost_build_runs_again_elsewhere_and_the_builder_is_reported_down():
    runs: list[tuple[str, str]] = []
    lock = threading.Lock()

    def run(name, builder):
        with lock:
            runs.append((name, builder))
        return name, builder, builder != "x"  # x has gone: everything sent there is lost

    farm = Farm({"x": 1, "y": 1}, policy=FaultPolicy(probe_every=0.05))
    out = run_on_farm(list(DEPS), DEPS, run, ok_or(Fault.DOWN), farm, priority=PRIO, probe=lambda b: False)
    assert set(out.results) == set(DEPS) and {r[1] for r in out.results.values()} == {"y"}
    assert out.down == ["x"] and sum(len(v) for v in out.retried.values()) == 1
    assert [b for _, b in runs].count("x") == 1  # down: nothing more goes there


def test_a_down_builder_that_answers_again_takes_builds_again():
    state = {"x_up": False, "x_built": 0}
    first = threading.Event()

    def run(name, builder):
        if builder == "x" and not state["x_up"]:
            first.set()
            return name, builder, False
        if builder == "y":
            time.sleep(0.15)  # y is slow, so x gets work once it is back
        else:
            state["x_built"] += 1
        return name, builder, True

    def probe(builder):
        state["x_up"] = True
        return True

    deps = {n: [] for n in "pqrstu"}
    farm = Farm({"x": 1, "y": 1}, policy=FaultPolicy(probe_every=0.05))
    out = run_on_farm(list(deps), deps, run, ok_or(Fault.DOWN), farm, priority={}, probe=probe)
    assert set(out.results) == set(deps) and out.down == ["x"] and state["x_built"] >= 1


def test_failing_on_two_builders_is_final_and_on_one_it_runs_elsewhere():
    runs: list[tuple[str, str]] = []
    farm = Farm({"x": 1, "y": 1, "z": 1})
    out = run_on_farm(list(DEPS), DEPS, lambda n, b: runs.append((n, b)) or (n, b, n != "b"),
                      ok_or(Fault.FAILED), farm, priority=PRIO, keep_going=True)
    on = [b for n, b in runs if n == "b"]
    assert len(on) == 2 and len(set(on)) == 2 and out.blocked == {"c": "b"} and out.down == []
    flaky = {"count": 0}

    def once(n, b):
        flaky["count"] += n == "b"
        return n, b, n != "b" or flaky["count"] > 1

    again = run_on_farm(list(DEPS), DEPS, once, ok_or(Fault.FAILED), Farm({"x": 1, "y": 1}), priority=PRIO)
    assert set(again.results) == set(DEPS) and again.results["b"][2] and len(again.retried["b"]) == 1


def test_one_builder_fails_at_once_as_before():
    attempts = Attempts()
    assert not retry(attempts, Fault.FAILED, "only", Farm({"only": 2}))


def test_builds_lost_max_attempts_times_are_final():
    farm = Farm({"x": 1, "y": 1}, policy=FaultPolicy(max_attempts=2))
    attempts = Attempts()
    assert retry(attempts, Fault.DOWN, "x", farm) and not retry(attempts, Fault.DOWN, "y", farm)


def test_when_no_builder_answers_the_run_stops_and_says_what_was_not_built():
    farm = Farm({"x": 1}, policy=FaultPolicy(probe_every=0.05, give_up_after=0.3))
    began = time.monotonic()
    out = run_on_farm(list(DEPS), DEPS, lambda n, b: (n, b, False), ok_or(Fault.DOWN), farm, priority=PRIO,
                      probe=lambda b: False)
    assert time.monotonic() - began < 5
    assert out.results == {} and sorted(out.not_started) == sorted(DEPS) and out.down == ["x"]


def test_avoid_sends_a_package_to_another_builder():
    runs: dict[str, str] = {}
    deps = {n: [] for n in "pqr"}
    run_on_farm(list(deps), deps, lambda n, b: runs.setdefault(n, b) and (n, b, True), ok_or(Fault.FAILED),
                Farm({"x": 3, "y": 3}), priority={}, avoid={"p": ["x"], "q": ["y"], "r": ["x"]})
    assert runs == {"p": "y", "q": "x", "r": "y"}


def test_the_only_builder_answering_again_after_a_while_builds_what_waited():
    """All builders down: the run waits, probing, and builds once one answers (here on the third
    probe); a probe asks about the builder that is down, by name."""
    probes: list[str] = []
    state = {"up": False}

    def run(name, builder):
        return name, builder, state["up"]

    def probe(builder):
        probes.append(builder)
        state["up"] = len(probes) >= 3
        return state["up"] and builder == "x"

    farm = Farm({"x": 1}, policy=FaultPolicy(probe_every=0.05, give_up_after=30))
    out = run_on_farm(["p"], {"p": []}, run, ok_or(Fault.DOWN), farm, priority={}, probe=probe)
    assert out.results == {"p": ("p", "x", True)} and out.not_started == []
    assert out.retried == {"p": [("p", "x", False)]} and set(probes) == {"x"} and len(probes) == 3


def test_what_no_builder_may_take_is_left_at_once():
    """A package kept off its only builder, or a builder down with nothing to probe it: the run
    stops at once (not after give_up_after) and says what was not built."""
    farm = Farm({"x": 1}, policy=FaultPolicy(probe_every=0.05, give_up_after=60))
    began = time.monotonic()
    out = run_on_farm(["p", "q"], {"p": [], "q": []}, lambda n, b: (n, b, True), ok_or(Fault.DOWN), farm,
                      priority={}, probe=lambda b: True, avoid={"p": ["x"]})
    assert set(out.results) == {"q"} and out.not_started == ["p"]
    lost = run_on_farm(["p"], {"p": []}, lambda n, b: (n, b, False), ok_or(Fault.DOWN),
                       Farm({"x": 1}, policy=FaultPolicy(give_up_after=60)), priority={})
    assert lost.results == {} and lost.not_started == ["p"] and lost.down == ["x"]
    assert time.monotonic() - began < 10


def test_a_lost_build_goes_back_in_line_with_its_priority():
    """x loses everything; y is busy with e while a is lost on x. When y is free, a (priority 3)
    goes before f (priority 1), as it would have the first time."""
    order: list[str] = []
    lost = threading.Event()

    def run(name, builder):
        if builder == "x":
            lost.set()
            return name, builder, False
        if name == "e":
            lost.wait(5)
            time.sleep(0.2)  # a is back in line before y is free
        order.append(name)
        return name, builder, True

    deps = {"a": [], "e": [], "f": []}
    farm = Farm({"x": 1, "y": 1}, policy=FaultPolicy(probe_every=60))
    out = run_on_farm(["a", "e", "f"], deps, run, ok_or(Fault.DOWN), farm, priority={"a": 3, "e": 2, "f": 1},
                      probe=lambda b: False)
    assert order == ["e", "a", "f"] and out.down == ["x"] and list(out.retried) == ["a"]


def test_a_final_failure_stops_new_builds_unless_keep_going():
    deps = {"a": [], "e": []}
    stop = run_on_farm(["a", "e"], deps, lambda n, b: (n, b, n != "a"), ok_or(Fault.FAILED), Farm({"x": 1}),
                       priority={"a": 2, "e": 1})
    assert list(stop.results) == ["a"] and stop.not_started == ["e"]
    going = run_on_farm(["a", "e"], deps, lambda n, b: (n, b, n != "a"), ok_or(Fault.FAILED), Farm({"x": 1}),
                        priority={"a": 2, "e": 1}, keep_going=True)
    assert list(going.results) == ["a", "e"] and going.not_started == []
