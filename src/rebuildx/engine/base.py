"""The contract between the scheduler and whatever runs a build.

An engine writes one package's OCI layout into a directory it is given and says how that went;
it never touches `out/`. Making the output appear atomically, recording it and deciding what to
build are the orchestrator's (build.py), the same for every engine: buildx today, podman or a
remote BuildKit later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rebuildx.stagex.model import DEFAULT_PLATFORM, Package


@dataclass(frozen=True)
class BuildRequest:
    """Build `package` of the workspace's tree; write its OCI layout into `dest` (empty, existing)."""

    package: Package
    dest: Path
    platform: str = DEFAULT_PLATFORM  # for packages that do not pin their platforms
    no_cache: bool = False
    log_suffix: str = ""  # the log is logs/<package><suffix>.log (".round2" for a second round)


@dataclass(frozen=True)
class BuildOutcome:
    package: str  # full name
    ok: bool
    seconds: float
    log: Path
    error: str | None = None
    # for naming the cause of a failure (build/failures.py): what the engine itself knows
    exit_status: int | None = None  # the build command's
    timed_out: bool = False
    interrupted: bool = False  # stopped by cancel() (Ctrl-C)


class Engine(Protocol):
    name: str

    def command(self, request: BuildRequest) -> list[str]:
        """The command line the build runs (it goes into the input key and the log)."""
        ...

    def build(self, request: BuildRequest) -> BuildOutcome: ...
