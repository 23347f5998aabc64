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
                 keep_going: bool = False, listener: Listener | None = None,
                 abort: Callable[[], None] | None = None) -> Schedule[R]:
    """Build every name of `order` (deps outside it count as done) and return what happened.

    On an interrupt (Ctrl-C) nothing new starts, `abort()` stops what runs, and the interrupt
    goes on to the caller once the running builds have returned."""
    state: _Run[R] = _Run(order, deps, priority, listener or _Quiet())
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        try:
            state.drive(pool, run, ok, jobs, keep_going)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            if abort:
                abort()
            raise
    state.out.not_started = [n for n in order if n not in state.out.results and n not in state.out.blocked]
    return state.out


class _Run(Generic[R]):
    def __init__(self, order: Sequence[str], deps: Mapping[str, Sequence[str]],
                 priority: Mapping[str, float], listener: Listener) -> None:
        nodes = set(order)
        self.waiting = {n: {d for d in deps[n] if d in nodes} for n in order}
        self.dependents: dict[str, list[str]] = {n: [] for n in order}
        for n, ds in self.waiting.items():
            for d in ds:
                self.dependents[d].append(n)
        self.priority, self.listener = priority, listener
        self.ready = [(-priority.get(n, 0.0), n) for n in order if not self.waiting[n]]
        heapq.heapify(self.ready)
        self.out: Schedule[R] = Schedule()

    def drive(self, pool: ThreadPoolExecutor, run: Callable[[str], R], ok: Callable[[R], bool],
              jobs: int, keep_going: bool) -> None:
        running: dict[Future[R], str] = {}
        stopping = False
        while self.ready or running:
            while self.ready and len(running) < jobs and not stopping:
                _, name = heapq.heappop(self.ready)
                if name not in self.out.blocked:
                    self.listener.started(name)
                    running[pool.submit(run, name)] = name
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                result = future.result()
                self.out.results[name] = result
                self.listener.finished(name, result)
                if ok(result):
                    self._release(name)
                else:
                    self._block(name)
                    stopping = stopping or not keep_going

    def _release(self, name: str) -> None:
        for d in self.dependents[name]:
            self.waiting[d].discard(name)
            if not self.waiting[d] and d not in self.out.blocked:
                heapq.heappush(self.ready, (-self.priority.get(d, 0.0), d))

    def _block(self, failed: str) -> None:
        todo = list(self.dependents[failed])
        while todo:
            n = todo.pop()
            if n not in self.out.blocked and n not in self.out.results:
                self.out.blocked[n] = failed
                todo.extend(self.dependents[n])
