"""Where a ready package builds, and what happens when a builder stops answering (pure: time is
passed in, nothing here runs a command).

A `Farm` holds the builders of a run: their free slots, their speed learned from history (a
factor, 1.0 = typical; lower is faster) and whether they answer. A ready package goes to the
fastest free builder that answers, the least loaded among equals. A builder whose build failed and
that then did not answer a probe is *down*: it takes nothing until a probe, every
`probe_every` seconds, finds it answering again.

`retry` decides what follows a build that did not succeed. It only needs the `Fault` of each
attempt, so a finer classifier of failures can feed it without changing it.
"""

from __future__ import annotations

import enum
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


class Fault(enum.Enum):
    NONE = "none"  # built
    FAILED = "failed"  # the build failed and its builder still answers
    DOWN = "down"  # the builder stopped answering: the build says nothing about the package


@dataclass(frozen=True)
class FaultPolicy:
    max_attempts: int = 3  # builds of one package that may be lost to builders going down
    probe_every: float = 30.0  # seconds between probes of a down builder
    give_up_after: float = 600.0  # nothing could run this long (builders down): the run stops


@dataclass
class _Builder:
    name: str
    jobs: int
    speed: float = 1.0
    busy: int = 0
    down_since: float | None = None
    next_probe: float = 0.0


class Farm:
    """The builders of one run and their state; used from the scheduler's thread only."""

    def __init__(self, slots: Mapping[str, int], speed: Mapping[str, float] | None = None,
                 policy: FaultPolicy = FaultPolicy()) -> None:
        speed = speed or {}
        self.policy = policy
        self._b = {n: _Builder(n, max(1, j), speed.get(n, 1.0)) for n, j in slots.items()}
        self.went_down: list[str] = []  # every builder marked down, in order (a builder may repeat)

    @property
    def names(self) -> list[str]:
        return list(self._b)

    @property
    def slots(self) -> int:
        return sum(b.jobs for b in self._b.values())

    def pick(self, avoid: Iterable[str] = ()) -> str | None:
        """The builder for the next ready package: free, up, not in `avoid`; fastest, then least loaded."""
        skip = set(avoid)
        free = [b for b in self._b.values() if b.down_since is None and b.busy < b.jobs and b.name not in skip]
        if not free:
            return None
        return min(free, key=lambda b: (b.speed, b.busy / b.jobs, b.name)).name

    def possible(self, avoid: Iterable[str] = ()) -> bool:
        """Could a builder outside `avoid` ever take it (up now, or down and still probed)?"""
        return bool(set(self._b) - set(avoid))

    def take(self, name: str) -> None:
        self._b[name].busy += 1

    def release(self, name: str) -> None:
        self._b[name].busy -= 1

    def is_down(self, name: str) -> bool:
        return self._b[name].down_since is not None

    def mark_down(self, name: str, now: float) -> None:
        b = self._b[name]
        if b.down_since is None:
            b.down_since = now
            self.went_down.append(name)
        b.next_probe = now + self.policy.probe_every

    def due(self, now: float) -> list[str]:
        """Down builders whose next probe is due."""
        return [b.name for b in self._b.values() if b.down_since is not None and b.next_probe <= now]

    def probed(self, name: str, answers: bool, now: float) -> None:
        b = self._b[name]
        if answers:
            b.down_since = None
        else:
            b.next_probe = now + self.policy.probe_every

    def next_probe(self) -> float | None:
        times = [b.next_probe for b in self._b.values() if b.down_since is not None]
        return min(times) if times else None


@dataclass
class Attempts:
    """What one package's builds have met so far."""

    lost: int = 0  # builds lost to a builder going down
    failed_on: list[str] = field(default_factory=list)  # builders on which it failed while they answered


def retry(attempts: Attempts, fault: Fault, builder: str, farm: Farm) -> bool:
    """Record a finished attempt; True when the package goes back to the queue.

    A build lost to a builder going down runs again elsewhere, up to `max_attempts` in all. A build
    that failed on a builder that still answers runs once more on another builder: failing on two
    builders (or on the only one) makes it FAILED."""
    if fault is Fault.DOWN:
        attempts.lost += 1
        return attempts.lost < farm.policy.max_attempts and farm.possible()
    if fault is Fault.FAILED:
        attempts.failed_on.append(builder)
        return len(set(attempts.failed_on)) < 2 and farm.possible(attempts.failed_on)
    return False


def speed_factors(samples: Iterable[tuple[str, str, float]]) -> dict[str, float]:
    """Per-builder speed from (package, builder, seconds) history: the median, over the packages a
    builder built, of its time over that package's median time on every builder. 1.0 is typical,
    0.5 twice as fast; builders without history are left out (the Farm takes 1.0)."""
    by_package: dict[str, list[tuple[str, float]]] = {}
    for package, builder, seconds in samples:
        if seconds > 0:
            by_package.setdefault(package, []).append((builder, seconds))
    ratios: dict[str, list[float]] = {}
    for runs in by_package.values():
        typical = statistics.median(s for _, s in runs)
        for builder, seconds in runs:
            ratios.setdefault(builder, []).append(seconds / typical)
    return {b: statistics.median(r) for b, r in ratios.items()}
