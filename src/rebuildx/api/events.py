"""What a run tells its caller as it goes (the terminal, a test, another program listen here)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rebuildx.doctor.preflight import DoctorReport
    from rebuildx.fetch import FetchReport, Progress
    from rebuildx.stagex.plan import Plan


class Events:
    """What a run tells its caller as it goes; every method does nothing unless overridden."""

    def checked(self, report: DoctorReport) -> None:
        """doctor ran before a build (its warnings are worth showing)."""

    @contextlib.contextmanager
    def fetching(self) -> Iterator[Progress]:
        """The progress sink for one fetch of sources."""
        from rebuildx.fetch import NullProgress

        yield NullProgress()

    def fetched(self, report: FetchReport) -> None:
        """Every source of the plan is in place (or the fetch failed and will raise)."""

    def planned(self, plan: Plan, durations: dict[str, float], jobs: int) -> None:
        """The builds are about to start."""

    def started(self, name: str) -> None:
        """A package's build started."""

    def finished(self, name: str, result: object) -> None:
        """A package's build ended (`result` is a BuildResult)."""

    def bundle(self, path: Path) -> None:
        """A support bundle was written after a failure."""

    def warning(self, message: str) -> None:
        """Something the user should know that does not stop the run."""


QUIET = Events()
