"""Which builder slot ran each build, from start times and durations (pure).

The scheduler runs at most `jobs` builds at once and does not name its slots, so the page gives
each build the lowest slot free when it started: as many rows as builds ran at once at the
busiest moment, and no two bars of a row overlap. Builds that name a builder (several builders,
issue 13) get rows of that builder's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

EPSILON = 0.05  # seconds: a build starting as another ends may take its slot


@dataclass(frozen=True)
class Span:
    package: str
    verdict: str
    started: float
    seconds: float
    builder: str = ""

    @property
    def ended(self) -> float:
        return self.started + self.seconds


@dataclass(frozen=True)
class Bar:
    span: Span
    row: str  # the row's label: "slot 1", or "<builder> 1"


def assign_slots(spans: Iterable[Span]) -> tuple[list[str], list[Bar]]:
    """(row labels in order, one bar per span)."""
    free: dict[str, list[float]] = {}  # builder -> end time of each of its slots
    bars: list[Bar] = []
    for span in sorted(spans, key=lambda s: (s.started, s.package)):
        ends = free.setdefault(span.builder, [])
        slot = next((i for i, end in enumerate(ends) if end <= span.started + EPSILON), len(ends))
        if slot == len(ends):
            ends.append(span.ended)
        else:
            ends[slot] = span.ended
        bars.append(Bar(span, _label(span.builder, slot)))
    rows = [_label(b, i) for b in sorted(free) for i in range(len(free[b]))]
    return rows, bars


def _label(builder: str, slot: int) -> str:
    return f"{builder or 'slot'} {slot + 1}"
