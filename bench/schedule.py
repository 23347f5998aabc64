"""Simulate build makespans of StageX 2026.03.0 under rebuildx's order and a make-like order.

The graph is ../shared/data/stagex-2026.03.0/graph.json (513 packages), written as a tree and read
back through rebuildx (`load_tree`, `Graph.of`), so the bench sees exactly the deps rebuildx sees.
For 1, 4 and 16 builders and several duration distributions, a list-scheduling simulator runs:

- rebuildx (known): ready packages by longest remaining path weighted by true durations
  (`Graph.remaining_path`), as rebuildx orders once build times are recorded;
- rebuildx (count): the same, weighted 1 per package (no history yet);
- make-like: GNU `make -j N` walking `all`'s prerequisites depth-first in file order, i.e. ready
  packages by their position in a DFS post-order from each package of graph.json in turn.

Each makespan is divided by the lower bound max(critical path, total work / builders): no schedule
can beat it, so the ratio is an upper bound on how far from optimal an order is. That bound is loose
where the graph is narrow (few packages ready after a long chain), so a tighter one that also
counts release times is printed too (`release_bound`), to tell a weak order from a weak bound.
Durations (seconds, fixed seed): constant; uniform(1, 10) min; lognormal (median 5 min, sigma 1.2);
realistic = that lognormal with core-llvm, core-gcc, core-rust, core-go, core-nodejs 20-60x its median.
Target: rebuildx (known) <= 1.10x the bound everywhere.

Usage: .venv/bin/python bench/schedule.py [--seed N]
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import statistics
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from treegen import write_graph_tree  # noqa: E402

from rebuildx.stagex.graph import Graph  # noqa: E402
from rebuildx.stagex.tree import load_tree  # noqa: E402

GRAPH = HERE.parent.parent / "shared" / "data" / "stagex-2026.03.0" / "graph.json"
BUILDERS = (1, 4, 16)
TARGET = 1.10
# Known-heavy StageX builds (compilers, runtimes), made 20-60x the median in "realistic".
HEAVY = ("core-llvm", "core-gcc", "core-rust", "core-go", "core-nodejs")


def simulate(deps: Mapping[str, Sequence[str]], durations: Mapping[str, float], builders: int,
             priority: Mapping[str, Any]) -> float:
    """The makespan of greedy list scheduling: whenever a builder is free, it starts the ready
    package (all deps finished) with the lowest `priority` key (any orderable values).
    Deterministic: completions at one instant are all applied before anything starts, and equal
    keys are broken by name."""
    dependents: dict[str, list[str]] = {n: [] for n in deps}
    for n, ds in deps.items():
        for d in set(ds):
            dependents[d].append(n)
    missing = {n: len(set(ds)) for n, ds in deps.items()}
    ready = [(priority[n], n) for n, m in missing.items() if m == 0]
    heapq.heapify(ready)
    running: list[tuple[float, str]] = []
    now = 0.0
    while ready or running:
        while ready and len(running) < builders:
            _, n = heapq.heappop(ready)
            heapq.heappush(running, (now + durations[n], n))
        now = running[0][0]
        while running and running[0][0] == now:
            _, done = heapq.heappop(running)
            for d in dependents[done]:
                missing[d] -= 1
                if missing[d] == 0:
                    heapq.heappush(ready, (priority[d], d))
    if any(missing.values()):
        raise ValueError("the graph has a cycle: some packages never became ready")
    return now


def lower_bound(graph: Graph, durations: Mapping[str, float], builders: int) -> float:
    """No schedule beats the heaviest chain, nor the total work spread perfectly."""
    critical, _ = graph.longest_path(set(durations), durations.__getitem__)
    return max(critical, sum(durations.values()) / builders)


def release_bound(graph: Graph, durations: Mapping[str, float], builders: int) -> float:
    """A tighter bound where the graph is narrow, to tell a weak bound from a weak order.

    A package cannot start before its heaviest chain of deps is done (its release r), so all the
    work released at or after h runs within [h, C] on N builders: C >= h + W(r >= h) / N. The
    same holds backwards, with the heaviest chain of dependents after each package."""
    nodes = set(durations)
    reverse = Graph(deps=graph.dependents, dependents=graph.deps)
    head = reverse.remaining_path(nodes, durations.__getitem__)  # through its deps, itself included
    tail = graph.remaining_path(nodes, durations.__getitem__)
    return max(_energy({n: head[n] - durations[n] for n in nodes}, durations, builders),
               _energy({n: tail[n] - durations[n] for n in nodes}, durations, builders))


def _energy(release: Mapping[str, float], durations: Mapping[str, float], builders: int) -> float:
    """max over h of h + (work released at or after h) / builders."""
    best, work = 0.0, 0.0
    for n in sorted(release, key=lambda n: -release[n]):
        work += durations[n]
        best = max(best, release[n] + work / builders)
    return best


def rebuildx_priority(graph: Graph, weight: Callable[[str], float]) -> dict[str, tuple[float, str]]:
    """rebuildx's key: longest remaining path by `weight`, highest first, then by name."""
    rem = graph.remaining_path(set(graph.deps), weight)
    return {n: (-r, n) for n, r in rem.items()}


def make_priority(graph: Graph, file_order: Sequence[str]) -> dict[str, int]:
    """make's key: position in a DFS post-order, roots in file order, deps in listed order."""
    position: dict[str, int] = {}
    for root in file_order:
        stack = [(root, iter(graph.deps[root]))]
        while stack:
            node, it = stack[-1]
            nxt = next((d for d in it if d not in position), None)  # a DAG: never one on the stack
            if nxt is None:
                stack.pop()
                position.setdefault(node, len(position))
            else:
                stack.append((nxt, iter(graph.deps[nxt])))
    return position


def distributions(names: Sequence[str], seed: int) -> dict[str, dict[str, float]]:
    """Per-package build seconds, each drawn from its own fixed-seed generator."""
    def draw(fn: Callable[[random.Random], float], tag: int) -> dict[str, float]:
        rng = random.Random(seed * 100 + tag)
        return {n: fn(rng) for n in names}

    median = 300.0
    lognormal = draw(lambda r: r.lognormvariate(0.0, 1.2) * median, 3)
    realistic = draw(lambda r: r.lognormvariate(0.0, 1.2) * median, 4)
    rng = random.Random(seed * 100 + 5)
    for n in HEAVY:
        if n in realistic:
            realistic[n] = rng.uniform(20, 60) * statistics.median(realistic.values())
    return {
        "constant 5 min": dict.fromkeys(names, 300.0),
        "uniform(1,10) min": draw(lambda r: r.uniform(60, 600), 2),
        "lognormal(med 5 min, sigma 1.2)": lognormal,
        "realistic (lognormal + heavy 20-60x)": realistic,
    }


def load_graph() -> tuple[Graph, list[str]]:
    """The graph as rebuildx reads it, and the package names in graph.json's order."""
    data = json.loads(GRAPH.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "stagex"
        write_graph_tree(root, data)
        graph = Graph.of(load_tree(root).packages)
    order = [f"{p['stage']}-{p['name']}" for p in data["packages"]]
    assert set(order) == set(graph.deps), "graph.json and the tree read back disagree"
    return graph, order


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    graph, file_order = load_graph()
    make_key = make_priority(graph, file_order)
    by_count = rebuildx_priority(graph, lambda _: 1.0)
    print(f"StageX 2026.03.0: {len(file_order)} packages. Ratios are makespan / bound, where bound ="
          f" max(critical path, work / N); 'tight' is rebuildx (known) / the release bound.")
    print(f"{'distribution':38} {'N':>3} {'bound h':>8} {'rebuildx known':>14} {'rebuildx count':>14}"
          f" {'make-like':>9} {'tight':>6}")
    worst = worst_tight = 0.0
    for label, durations in distributions(file_order, args.seed).items():
        known = rebuildx_priority(graph, durations.__getitem__)
        for n in BUILDERS:
            bound = lower_bound(graph, durations, n)
            spans = [simulate(graph.deps, durations, n, key) for key in (known, by_count, make_key)]
            tight = spans[0] / max(bound, release_bound(graph, durations, n))
            worst, worst_tight = max(worst, spans[0] / bound), max(worst_tight, tight)
            print(f"{label:38} {n:>3} {bound / 3600:8.2f} {spans[0] / bound:14.3f} {spans[1] / bound:14.3f}"
                  f" {spans[2] / bound:9.3f} {tight:6.3f}")
    for name, value in (("max(critical path, work / N)", worst), ("the release bound", worst_tight)):
        verdict = "met" if value <= TARGET else "NOT met"
        print(f"rebuildx (known) worst ratio to {name}: {value:.3f}; target <= {TARGET:.2f}x: {verdict}")

if __name__ == "__main__":
    main()
