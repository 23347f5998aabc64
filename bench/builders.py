"""Makespan of one generated tree on 3 builders against 1, and against the simulated lower bound.

Three extra Docker daemons of the bench's own (tests/daemons.py: own containerd, data-root,
socket and network namespace) build a generated 40-package tree (tests/farmgen.py) whose builds
mostly wait (`RUN sleep` of 2-6 s), so that this machine's two cores are not what limits three
builders. The tree is built cold (`--no-cache`) on one builder, then cold again on three: the
second run knows the durations of the first, as any rebuild after the first does.

Printed: both makespans and their ratio (target >= 2.5x), and the 3-builder makespan over the
lower bound max(critical path, work / 3) computed from the durations the 3-builder run measured
(bench/schedule.py's `lower_bound`; target <= 1.15x), with the makespan bench/schedule.py's
simulator gives for the same durations beside it.

Usage: .venv/bin/python bench/builders.py [--packages 40] [--seed 7]   (as root; about 5 minutes)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from daemons import Daemons  # noqa: E402
from farmgen import write_sleep_tree  # noqa: E402
from schedule import lower_bound, rebuildx_priority, simulate  # noqa: E402

from rebuildx.build.run import BuildOptions, BuildReport, connect_farm, run_build  # noqa: E402
from rebuildx.engine.builders import parse_spec  # noqa: E402
from rebuildx.engine.buildx import BuildxEngine  # noqa: E402
from rebuildx.stagex.graph import Graph  # noqa: E402
from rebuildx.stagex.tree import load_tree  # noqa: E402
from rebuildx.workspace import Workspace  # noqa: E402

SPEEDUP_TARGET, BOUND_TARGET = 2.5, 1.15


def timed_build(root: Path, daemons: list) -> tuple[float, BuildReport]:
    ws = Workspace(root)
    farm, identity = connect_farm(ws, [parse_spec(f"{d.host},name={d.name}") for d in daemons])
    began = time.monotonic()
    report = run_build(ws, load_tree(root), (), BuildOptions(cold=True), BuildxEngine(ws), identity, farm=farm)
    took = time.monotonic() - began
    if not report.ok:
        bad = [(r.package, r.error) for r in report.results if not r.ok]
        raise SystemExit(f"bench: builds failed: {bad}")
    return took, report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packages", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    farm = Daemons(3, prefix="rbxb")
    try:
        with tempfile.TemporaryDirectory(prefix="rbx-bench-") as tmp:
            root = Path(tmp) / "stagex"
            slept = write_sleep_tree(root, args.packages, seed=args.seed, sleep=(2.0, 6.0))
            print(f"{args.packages} packages, {sum(slept.values()):.0f} s of `RUN sleep` in all")
            one, _ = timed_build(root, farm.daemons[:1])
            print(f"1 builder:  {one:7.1f} s")
            three, report = timed_build(root, farm.daemons)
            used = sorted({r.builder or "-" for r in report.results})
            print(f"3 builders: {three:7.1f} s (builders used: {', '.join(used)})")
            measured = {r.package: r.seconds for r in report.results}
            graph = Graph.of(load_tree(root).packages)
            bound = lower_bound(graph, measured, 3)
            simulated = simulate(graph.deps, measured, 3, rebuildx_priority(graph, measured.__getitem__))
    finally:
        farm.close()
    speedup, to_bound = one / three, three / bound
    print(f"lower bound on 3 builders (durations measured there): {bound:.1f} s; "
          f"simulated list schedule: {simulated:.1f} s")
    print(f"speed-up 3 vs 1: {speedup:.2f}x (target >= {SPEEDUP_TARGET}x: "
          f"{'met' if speedup >= SPEEDUP_TARGET else 'NOT met'})")
    print(f"3 builders / lower bound: {to_bound:.3f}x (target <= {BOUND_TARGET}x: "
          f"{'met' if to_bound <= BOUND_TARGET else 'NOT met'}); simulated / bound {simulated / bound:.3f}x")


if __name__ == "__main__":
    main()
