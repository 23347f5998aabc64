"""Run a plan's packages concurrently along the dependency graph.

Ready packages (all deps done) start up to `jobs` at a time, the one heading the longest
remaining chain first (by recorded durations when the history has them, else by count), which
keeps the critical path busy. On the first failure nothing new starts and running builds finish;
with `keep_going`, everything that does not depend on a failure still builds, and the rest is
reported as blocked, naming the failed dep. The scheduler knows nothing of engines: it calls
`run(name)` and asks `ok(result)`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

R = TypeVar("R")


class Listener(Protocol):
    def started(self, name: str) -> None: ...
    def finished(self, name: str, result: object) -> None: ...


class _Quiet:
    def started(self, name: str) -> None:
        pass

    def finished(self, name: str, result: object) -> None:
        pass


@dataclass
class Schedule(Generic[R]):
    results: dict[str, R] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)  # package -> the failed dep behind it
    not_started: list[str] = field(default_factory=list)  # left when the run stopped on a failure


def run_schedule(order: Sequence[str], deps: Mapping[str, Sequence[str]], run: Callable[[str], R],
                 ok: Callable[[R], bool], *, jobs: int, priority: Mapping[str, float],
                 keep_going: bool = False, listener: Listener | None = None) -> Schedule[R]:
    """Build every name of `order` (deps outside it count as done) and return what happened."""
    listener = listener or _Quiet()
    nodes = set(order)
    waiting = {n: {d for d in deps[n] if d in nodes} for n in order}
    dependents: dict[str, list[str]] = {n: [] for n in order}
    for n, ds in waiting.items():
        for d in ds:
            dependents[d].append(n)
    ready = [(-priority.get(n, 0.0), n) for n in order if not waiting[n]]
    heapq.heapify(ready)
    out: Schedule[R] = Schedule()
    running: dict[Future[R], str] = {}
    stopping = False

    def block(failed: str) -> None:
        todo = list(dependents[failed])
        while todo:
            n = todo.pop()
            if n not in out.blocked and n not in out.results:
                out.blocked[n] = failed
                todo.extend(dependents[n])

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        while ready or running:
            while ready and len(running) < jobs and not stopping:
                _, name = heapq.heappop(ready)
                if name in out.blocked:
                    continue
                listener.started(name)
                running[pool.submit(run, name)] = name
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                result = future.result()
                out.results[name] = result
                listener.finished(name, result)
                if ok(result):
                    for d in dependents[name]:
                        waiting[d].discard(name)
                        if not waiting[d] and d not in out.blocked:
                            heapq.heappush(ready, (-priority.get(d, 0.0), d))
                else:
                    block(name)
                    stopping = stopping or not keep_going
    out.not_started = [n for n in order if n not in out.results and n not in out.blocked]
    return out
