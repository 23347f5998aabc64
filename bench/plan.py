"""Time the full 513-package plan of StageX 2026.03.0: in process against merely parsing its
package.toml files, and as whole processes (`rebuildx --help`; `rebuildx plan all --json` with no
cache, after one package.toml changed, and with the tree as read last time: stagex/readcache.py)
against the interpreter starting and doing nothing.

The tree is written from ../shared/data/stagex-2026.03.0/graph.json, its Containerfiles laid out as
StageX's are (ARGs, heredoc RUN blocks, package stages; tests/treegen.py), not only their dep lines,
so the timing includes reading real-sized files. Everything is timed side by
side in this run; processes are printed as median and best of N (targets judged on the median),
in-process figures as best of N, with their ratios. Targets (issue 9, on 2 cores): `plan all
--json` as a process <= 0.15 s, `--help` <= 0.1 s. StageX's own `src/targets.py` took 0.85-1.75 s
for the same tree; with `--stagex CHECKOUT` (a StageX checkout of release/2026.03.0) it is timed
too, inside BuildKit (bench/targets_py.py: rebuildx never runs a tree's code outside it), and
rebuildx is timed as a process on that same checkout, side by side.

Usage: .venv/bin/python bench/plan.py [--repeat N] [--stagex CHECKOUT]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from shareddata import release_dir  # noqa: E402
from treegen import write_graph_tree  # noqa: E402

from rebuildx.stagex.plan import make_plan  # noqa: E402
from rebuildx.stagex.tree import load_tree  # noqa: E402

GRAPH = release_dir("2026.03.0") / "graph.json"


def best_of(n: int, fn) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


class Timed(float):
    """A best wall time that also knows its median (quote the median: one lucky run must not
    carry a target)."""

    median: float

    def __new__(cls, times: list[float]) -> Timed:
        self = super().__new__(cls, min(times))
        self.median = statistics.median(times)
        return self

    def __str__(self) -> str:
        return f"{self.median * 1000:8.1f} ms median, {self * 1000:6.1f} best"


def process_time(n: int, argv: list[str], cwd: Path, before=None) -> Timed:
    """Wall times of `argv` as a whole process, output discarded; fails when it fails."""
    times = []
    for _ in range(n):
        if before:
            before()
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"bench: {' '.join(argv)} failed: {done.stderr.decode()[-500:]}")
    return Timed(times)


def compile_bytecode() -> None:
    """An installed rebuildx has its bytecode; a checkout run with PYTHONDONTWRITEBYTECODE would
    compile its changed modules on every start and time that instead."""
    import compileall

    import rebuildx

    compileall.compile_dir(Path(rebuildx.__file__).parent, quiet=1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--stagex", type=Path, help="a StageX checkout: also time its own src/targets.py (in BuildKit)")
    args = ap.parse_args()
    compile_bytecode()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "stagex"
        write_graph_tree(root, json.loads(GRAPH.read_text()), real_shaped=True)
        tomls = sorted(root.glob("packages/*/*/package.toml"))

        def parse_only() -> None:
            for path in tomls:
                with open(path, "rb") as f:
                    tomllib.load(f)

        def full_plan() -> None:
            shutil.rmtree(root / ".rebuildx", ignore_errors=True)  # in process: parse every file
            plan = make_plan(load_tree(root))
            assert len(plan.packages) == 513
            plan.longest_path()

        parse = best_of(args.repeat, parse_only)
        plan = best_of(args.repeat, full_plan)
        exe = [sys.executable, "-m", "rebuildx"]
        nothing = process_time(args.repeat, [sys.executable, "-c", "pass"], root)
        helptime = process_time(args.repeat, [*exe, "--help"], root)
        cache = root / ".rebuildx" / "cache"
        cold = process_time(args.repeat, [*exe, "plan", "all", "--json"], root,
                            before=lambda: shutil.rmtree(cache, ignore_errors=True))
        edited = process_time(args.repeat, [*exe, "plan", "all", "--json"], root,
                              before=lambda: tomls[0].touch())  # a new ctime: the tree is read again
        warm = process_time(args.repeat, [*exe, "plan", "all", "--json"], root)
    print(f"package.toml files: {len(tomls)}, packages: 513")
    print(f"process: python -c pass        : {nothing}")
    print(f"process: rebuildx --help        : {helptime}  (target <= 100 ms: "
          f"{'met' if helptime.median <= 0.1 else 'NOT met'})")
    print(f"process: plan all --json, cold  : {cold}  (no cache: every package.toml parsed)")
    print(f"process: plan all --json, edited: {edited}  (one package.toml changed: the tree read again, "
          f"the other parsed files remembered)")
    print(f"process: plan all --json, warm  : {warm}  (target <= 150 ms: "
          f"{'met' if warm.median <= 0.15 else 'NOT met'}); cold/warm {cold.median / warm.median:.2f}x")
    print(f"tomllib parse only : {parse * 1000:8.1f} ms")
    print(f"full plan          : {plan * 1000:8.1f} ms  (load tree, graph checks, closure, order, longest path)")
    print(f"ratio plan / parse : {plan / parse:8.2f}x")
    if args.stagex:
        from targets_py import time_targets_py

        exe = [sys.executable, "-m", "rebuildx"]
        ours = process_time(args.repeat, [*exe, "plan", "all", "--json"], args.stagex)
        in_bk_nothing, theirs = time_targets_py(args.stagex, args.repeat)
        print(f"on {args.stagex}: rebuildx plan all --json {ours} (python -c pass here {nothing}); "
              f"StageX's src/targets.py {theirs * 1000:.1f} ms best in BuildKit (python -c pass there "
              f"{in_bk_nothing * 1000:.1f} ms); targets.py / rebuildx = {theirs / ours.median:.2f}x (median)")
    print(f"target <= 200 ms   : {'met' if plan <= 0.2 else 'NOT met'}")


if __name__ == "__main__":
    main()
