"""Run a plan's packages concurrently along the dependency graph, on one builder or several.

Ready packages (all deps done) start whenever a builder has a free slot, the one heading the
longest remaining chain first (by recorded durations when the history has them, else by count),
which keeps the critical path busy; which builder takes it is the `Farm`'s choice (placement.py).
On the first failure nothing new starts and running builds finish; with `keep_going`, everything
that does not depend on a failure still builds, and the rest is reported as blocked, naming the
failed dep. A build lost to a builder that stopped answering goes back to the queue and runs
elsewhere (placement.retry); the down builder is probed again later. The scheduler knows nothing
of engines: it calls `run(name, builder)` and asks `fault(result)`.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from rebuildx.build.placement import Attempts, Farm, Fault, retry

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
    retried: dict[str, list[R]] = field(default_factory=dict)  # package -> its attempts that ran again
    down: list[str] = field(default_factory=list)  # builders marked down during the run, in order


def run_schedule(order: Sequence[str], deps: Mapping[str, Sequence[str]], run: Callable[[str], R],
                 ok: Callable[[R], bool], *, jobs: int, priority: Mapping[str, float],
                 keep_going: bool = False, listener: Listener | None = None,
                 abort: Callable[[], None] | None = None) -> Schedule[R]:
    """Build every name of `order` (deps outside it count as done) on one builder of `jobs` slots."""
    return run_on_farm(order, deps, lambda name, _builder: run(name),
                       lambda r: Fault.NONE if ok(r) else Fault.FAILED, Farm({"": jobs}),
                       priority=priority, keep_going=keep_going, listener=listener, abort=abort)


def run_on_farm(order: Sequence[str], deps: Mapping[str, Sequence[str]], run: Callable[[str, str], R],
                fault: Callable[[R], Fault], farm: Farm, *, priority: Mapping[str, float],
                keep_going: bool = False, listener: Listener | None = None,
                abort: Callable[[], None] | None = None, probe: Callable[[str], bool] | None = None,
                clock: Callable[[], float] = time.monotonic,
                avoid: Mapping[str, Sequence[str]] | None = None) -> Schedule[R]:
    """Build every name of `order` on the builders of `farm` and return what happened.
    `avoid` names builders a package should not go to (they count as builders it failed on).

    `probe(builder)` says whether a down builder answers again (none: down builders stay down).
    On an interrupt (Ctrl-C) nothing new starts, `abort()` stops what runs, and the interrupt
    goes on to the caller once the running builds have returned."""
    state: _Run[R] = _Run(order, deps, priority, listener or _Quiet(), farm)
    for name, builders in (avoid or {}).items():
        state.attempts[name] = Attempts(failed_on=list(builders))
    with ThreadPoolExecutor(max_workers=max(1, farm.slots)) as pool:
        try:
            state.drive(pool, run, fault, keep_going, probe, clock)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            if abort:
                abort()
            raise
    out = state.out
    out.not_started = [n for n in order if n not in out.results and n not in out.blocked]
    out.down = list(farm.went_down)
    return out


class _Run(Generic[R]):
    def __init__(self, order: Sequence[str], deps: Mapping[str, Sequence[str]],
                 priority: Mapping[str, float], listener: Listener, farm: Farm) -> None:
        nodes = set(order)
        self.waiting = {n: {d for d in deps[n] if d in nodes} for n in order}
        self.dependents: dict[str, list[str]] = {n: [] for n in order}
        for n, ds in self.waiting.items():
            for d in ds:
                self.dependents[d].append(n)
        self.priority, self.listener, self.farm = priority, listener, farm
        self.ready = [(-priority.get(n, 0.0), n) for n in order if not self.waiting[n]]
        heapq.heapify(self.ready)
        self.attempts: dict[str, Attempts] = {}
        self.out: Schedule[R] = Schedule()

    def drive(self, pool: ThreadPoolExecutor, run: Callable[[str, str], R], fault: Callable[[R], Fault],
              keep_going: bool, probe: Callable[[str], bool] | None, clock: Callable[[], float]) -> None:
        running: dict[Future[R], tuple[str, str]] = {}
        stopping, idle_since = False, None
        while self.ready or running:
            if probe:
                for builder in self.farm.due(clock()):
                    self.farm.probed(builder, probe(builder), clock())
            if not stopping:
                self._start(pool, run, running)
            if not running:  # what is ready waits for a down builder to answer again, or never runs
                idle_since = clock() if idle_since is None else idle_since
                if (not self.ready or probe is None or self.farm.next_probe() is None
                        or clock() - idle_since >= self.farm.policy.give_up_after):
                    break
                self._sleep_until_probe(clock)
                continue
            idle_since = None
            done, _ = wait(running, timeout=self._probe_wait(clock), return_when=FIRST_COMPLETED)
            for future in done:
                name, builder = running.pop(future)
                self.farm.release(builder)
                stopping = self._finish(name, builder, future.result(), fault, clock) and not keep_going or stopping

    def _start(self, pool: ThreadPoolExecutor, run: Callable[[str, str], R],
               running: dict[Future[R], tuple[str, str]]) -> None:
        """Start ready packages, best first, while builders have room; a package that may not go to
        any free builder (it failed there) waits for another."""
        held = []
        while self.ready:
            entry = heapq.heappop(self.ready)
            name = entry[1]
            if name in self.out.blocked:
                continue
            builder = self.farm.pick(self.attempts.get(name, Attempts()).failed_on)
            if builder is None:
                held.append(entry)
                if self.farm.pick() is None:
                    break
                continue
            self.farm.take(builder)
            self.listener.started(name)
            running[pool.submit(run, name, builder)] = (name, builder)
        for entry in held:
            heapq.heappush(self.ready, entry)

    def _finish(self, name: str, builder: str, result: R, fault: Callable[[R], Fault],
                clock: Callable[[], float]) -> bool:
        """Take one finished build; True when it is a final failure."""
        kind = fault(result)
        if kind is Fault.DOWN:
            self.farm.mark_down(builder, clock())
        attempts = self.attempts.setdefault(name, Attempts())
        if retry(attempts, kind, builder, self.farm):
            self.out.retried.setdefault(name, []).append(result)
            heapq.heappush(self.ready, (-self.priority.get(name, 0.0), name))
            return False
        self.out.results[name] = result
        self.listener.finished(name, result)
        if kind is Fault.NONE:
            self._release(name)
            return False
        self._block(name)
        return True

    def _probe_wait(self, clock: Callable[[], float]) -> float | None:
        at = self.farm.next_probe()
        return None if at is None else max(0.05, at - clock())

    def _sleep_until_probe(self, clock: Callable[[], float]) -> None:
        at = self.farm.next_probe()
        if at is not None:
            time.sleep(min(max(0.0, at - clock()), 5.0))

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
