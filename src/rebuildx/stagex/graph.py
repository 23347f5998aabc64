"""The dependency graph of a tree: closure, build order, longest path (pure)."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from rebuildx.errors import PlanError
from rebuildx.stagex.model import Package


@dataclass(frozen=True)
class Graph:
    """Deps and dependents by full name. Build with `Graph.of`, which checks it is a DAG."""

    deps: Mapping[str, tuple[str, ...]]
    dependents: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, packages: Mapping[str, Package]) -> Graph:
        """Check every dep exists and that there is no cycle, naming what is wrong."""
        for package in packages.values():
            for dep, line in zip(package.deps, package.dep_lines or (None,) * len(package.deps), strict=True):
                if dep not in packages:
                    at = f"{package.directory}/Containerfile" + (f":{line}" if line else "")
                    raise PlanError(f"{at}: package {package.full_name} depends on stagex/{dep}, "
                                    f"which is not a package of this tree")
        deps = {name: p.deps for name, p in packages.items()}
        rdeps: dict[str, list[str]] = {name: [] for name in packages}
        for name, ds in deps.items():
            for d in ds:
                rdeps[d].append(name)
        graph = cls(deps, {k: tuple(v) for k, v in rdeps.items()})
        cycle = graph._find_cycle()
        if cycle:
            raise PlanError(f"{packages[cycle[0]].directory}/Containerfile: dependency cycle: "
                            f"{' -> '.join(cycle)} (each depends on the next, through FROM/COPY --from lines)")
        return graph

    def _find_cycle(self) -> list[str] | None:
        white, grey, black = 0, 1, 2
        color = dict.fromkeys(self.deps, white)
        for start in self.deps:
            if color[start] != white:
                continue
            stack: list[tuple[str, int]] = [(start, 0)]
            path: list[str] = [start]
            color[start] = grey
            while stack:
                node, i = stack[-1]
                ds = self.deps[node]
                if i == len(ds):
                    stack.pop(); path.pop(); color[node] = black
                    continue
                stack[-1] = (node, i + 1)
                nxt = ds[i]
                if color[nxt] == grey:
                    return path[path.index(nxt):] + [nxt]
                if color[nxt] == white:
                    color[nxt] = grey
                    stack.append((nxt, 0)); path.append(nxt)
        return None

    def closure(self, roots: Iterable[str]) -> set[str]:
        """The roots and everything they depend on, transitively."""
        return _reach(roots, self.deps)

    def remaining_path(self, nodes: set[str], weight: Callable[[str], float]) -> dict[str, float]:
        """For each node, the heaviest chain from it through its dependents within `nodes`."""
        memo: dict[str, float] = {}
        for node in reversed(self._topo(nodes, key=lambda n: (n,))):
            after = [memo[d] for d in self.dependents[node] if d in nodes]
            memo[node] = weight(node) + max(after, default=0.0)
        return memo

    def order(self, nodes: set[str], weight: Callable[[str], float] = lambda _: 1.0) -> list[str]:
        """A build order of `nodes`: every node after its deps; among ready nodes, the one
        heading the longest remaining chain first (then by name, so the order is stable)."""
        rem = self.remaining_path(nodes, weight)
        return self._topo(nodes, key=lambda n: (-rem[n], n))

    def _topo(self, nodes: set[str], key: Callable[[str], tuple]) -> list[str]:
        missing = {n: sum(1 for d in set(self.deps[n]) if d in nodes) for n in nodes}
        ready = [(key(n), n) for n, m in missing.items() if m == 0]
        heapq.heapify(ready)
        out: list[str] = []
        while ready:
            _, node = heapq.heappop(ready)
            out.append(node)
            for d in self.dependents[node]:
                if d in missing:
                    missing[d] -= 1
                    if missing[d] == 0:
                        heapq.heappush(ready, (key(d), d))
        return out

    def longest_path(self, nodes: set[str], weight: Callable[[str], float] = lambda _: 1.0) -> tuple[float, list[str]]:
        """The heaviest dependency chain within `nodes`: its total weight and its packages,
        from the first to build to the last."""
        rem = self.remaining_path(nodes, weight)
        if not rem:
            return 0.0, []
        first = max(sorted(rem), key=lambda n: rem[n])
        total = rem[first]
        node: str | None = first
        path: list[str] = []
        while node is not None:
            path.append(node)
            nxt = [d for d in self.dependents[node] if d in nodes]
            node = max(sorted(nxt), key=lambda n: rem[n]) if nxt else None
        return total, path


def _reach(roots: Iterable[str], edges: Mapping[str, tuple[str, ...]]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(edges[node])
    return seen
