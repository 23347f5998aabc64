"""Where rebuildx reads and writes: the paths of one workspace, passed in, never global.

The workspace is the StageX checkout itself by default, so that `out/` and `fetch/` are the very
directories StageX's make reads and writes, and a user can mix the two. What only rebuildx needs
(state DB, logs, temporary files) lives under `.rebuildx/`, which StageX's tooling never reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def fetch(self) -> Path:
        return self.root / "fetch"

    @property
    def digests(self) -> Path:
        return self.root / "digests"

    @property
    def state_dir(self) -> Path:
        return self.root / ".rebuildx"

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    @property
    def tmp(self) -> Path:
        """Scratch space on the same filesystem as out/ and fetch/, so renames are atomic."""
        return self.state_dir / "tmp"

    @property
    def build_tmp(self) -> Path:
        """The builds' part of tmp/ (fetch keeps its partial downloads beside it, in tmp/fetch)."""
        return self.tmp / "build"

    def out_entry(self, full_name: str) -> Path:
        return self.out / full_name
