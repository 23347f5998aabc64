"""The makespan simulator of bench/schedule.py, on tiny graphs whose optimal makespan is known.

bench/ is not a package, so the bench file is loaded by path.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from rebuildx.stagex.graph import Graph
from rebuildx.stagex.model import Package

BENCH = Path(__file__).resolve().parents[2] / "bench" / "schedule.py"
_spec = importlib.util.spec_from_file_location("bench_schedule", BENCH)
assert _spec and _spec.loader
sched = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sched)


def graph_of(deps: dict[str, tuple[str, ...]]) -> Graph:
    return Graph.of({n: Package(stage=n.split("-")[0], name=n.split("-", 1)[1], origin=n, version=None, deps=ds)
                     for n, ds in deps.items()})


def by_name(deps: dict) -> dict[str, str]:
    return {n: n for n in deps}


def test_chain_takes_the_sum_whatever_the_builders():
    deps = {"c-a": (), "c-b": ("c-a",), "c-c": ("c-b",)}
    durations = {"c-a": 2.0, "c-b": 3.0, "c-c": 5.0}
    for n in (1, 4):
        assert sched.simulate(deps, durations, n, by_name(deps)) == 10.0


@pytest.mark.parametrize("k,builders", [(7, 1), (7, 3), (8, 4), (5, 16)])
def test_independent_equal_jobs_fill_builders_in_rounds(k, builders):
    deps = {f"c-j{i}": () for i in range(k)}
    durations = dict.fromkeys(deps, 4.0)
    assert sched.simulate(deps, durations, builders, by_name(deps)) == math.ceil(k / builders) * 4.0


def test_longest_remaining_path_beats_a_bad_order():
    # Two builders. c-long heads a 10 s chain; c-s1..c-s3 are 3 s leaves. Leaves first starts the
    # chain at 3 s (done at 13 s); longest path first starts it at once and meets the bound
    # max(10, 19 / 2) = 10.
    deps = {"c-long": (), "c-tail": ("c-long",), "c-s1": (), "c-s2": (), "c-s3": ()}
    durations = {"c-long": 5.0, "c-tail": 5.0, "c-s1": 3.0, "c-s2": 3.0, "c-s3": 3.0}
    graph = graph_of(deps)
    good = sched.rebuildx_priority(graph, durations.__getitem__)
    bad = {"c-s1": 0, "c-s2": 1, "c-s3": 2, "c-long": 3, "c-tail": 4}
    assert sched.simulate(deps, durations, 2, good) == 10.0 == sched.lower_bound(graph, durations, 2)
    assert sched.simulate(deps, durations, 2, bad) == 13.0


def test_a_job_waits_for_its_last_dep():
    deps = {"c-a": (), "c-b": (), "c-c": ("c-a", "c-b")}
    durations = {"c-a": 1.0, "c-b": 6.0, "c-c": 2.0}
    assert sched.simulate(deps, durations, 2, by_name(deps)) == 8.0


def test_make_order_is_dfs_post_order_in_file_order():
    deps = {"c-top": ("c-x", "c-y"), "c-x": ("c-y",), "c-y": (), "c-z": ()}
    key = sched.make_priority(graph_of(deps), ["c-z", "c-top", "c-x", "c-y"])
    assert sorted(key, key=key.__getitem__) == ["c-z", "c-y", "c-x", "c-top"]


def test_release_bound_is_tighter_on_a_narrow_graph_and_still_met():
    # One root, then four unit jobs, on two builders: optimum 1 + 2 = 3, plain bound 2.5.
    deps = {"c-r": (), **{f"c-j{i}": ("c-r",) for i in range(4)}}
    durations = dict.fromkeys(deps, 1.0)
    graph = graph_of(deps)
    assert sched.lower_bound(graph, durations, 2) == 2.5
    assert sched.release_bound(graph, durations, 2) == 3.0
    assert sched.simulate(deps, durations, 2, by_name(deps)) == 3.0


def test_a_cycle_is_an_error_not_a_short_makespan():
    with pytest.raises(ValueError, match="never became ready"):
        sched.simulate({"c-a": ("c-b",), "c-b": ("c-a",)}, {"c-a": 1.0, "c-b": 1.0}, 1, {"c-a": 0, "c-b": 1})
