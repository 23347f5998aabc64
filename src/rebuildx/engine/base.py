"""The contract between the scheduler and whatever runs a build.

The scheduler knows only `Engine.build(BuildRequest) -> BuildOutcome`; buildx is one
implementation, podman or a remote BuildKit may be others.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rebuildx.model import DEFAULT_PLATFORM, Package


@dataclass(frozen=True)
class BuildRequest:
    """Build one package of a tree into the workspace's `out/<stage>-<name>/`."""

    package: Package
    platform: str = DEFAULT_PLATFORM  # for packages that do not pin their platforms
    no_cache: bool = False


@dataclass(frozen=True)
class BuildOutcome:
    package: str  # full name
    ok: bool
    digest: str | None  # the manifest digest of the new out/ entry, when ok
    seconds: float
    log: Path
    error: str | None = None


class Engine(Protocol):
    name: str

    def build(self, request: BuildRequest) -> BuildOutcome: ...
