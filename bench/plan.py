"""Time the full 513-package plan of StageX 2026.03.0 against merely parsing its package.toml files.

The tree is written from ../shared/data/stagex-2026.03.0/graph.json (metadata and dep lines only).
Both are timed side by side in this run, best of N, and printed with their ratio.
Target: the full plan in <= 0.2 s (StageX's own generator takes about 1.7 s for the same tree).

Usage: .venv/bin/python bench/plan.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from treegen import write_graph_tree  # noqa: E402

from rebuildx.plan import make_plan  # noqa: E402
from rebuildx.tree import load_tree  # noqa: E402

GRAPH = HERE.parent.parent / "shared" / "data" / "stagex-2026.03.0" / "graph.json"


def best_of(n: int, fn) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "stagex"
        write_graph_tree(root, json.loads(GRAPH.read_text()))
        tomls = sorted(root.glob("packages/*/*/package.toml"))

        def parse_only() -> None:
            for path in tomls:
                with open(path, "rb") as f:
                    tomllib.load(f)

        def full_plan() -> None:
            plan = make_plan(load_tree(root))
            assert len(plan.packages) == 513
            plan.longest_path()

        parse = best_of(args.repeat, parse_only)
        plan = best_of(args.repeat, full_plan)
    print(f"package.toml files: {len(tomls)}, packages: 513")
    print(f"tomllib parse only : {parse * 1000:8.1f} ms")
    print(f"full plan          : {plan * 1000:8.1f} ms  (load tree, graph checks, closure, order, longest path)")
    print(f"ratio plan / parse : {plan / parse:8.2f}x")
    print(f"target <= 200 ms   : {'met' if plan <= 0.2 else 'NOT met'}")


if __name__ == "__main__":
    main()
