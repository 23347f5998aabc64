"""Where rebuildx reads and writes: the paths of one workspace, passed in, never global.

The workspace is the StageX checkout itself by default, so that `out/` and `fetch/` are the very
directories StageX's make reads and writes, and a user can mix the two. What only rebuildx needs
(state DB, logs, temporary files) lives under `.rebuildx/`, which StageX's tooling never reads.

Another engine than BuildKit (`engine="podman"`) shares the tree and `fetch/` but keeps its own
out/, state DB, logs and scratch under `.rebuildx/engines/<engine>/`: its images never replace the
`out/` entries StageX's tooling reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rebuildx.errors import StateError


BUILDKIT = "buildx"


@dataclass(frozen=True)
class Workspace:
    root: Path
    engine: str = BUILDKIT

    @property
    def out(self) -> Path:
        return self.root / "out" if self.engine == BUILDKIT else self.state_dir / "out"

    @property
    def fetch(self) -> Path:
        return self.root / "fetch"

    @property
    def digests(self) -> Path:
        return self.root / "digests"

    @property
    def state_dir(self) -> Path:
        base = self.root / ".rebuildx"
        return base if self.engine == BUILDKIT else base / "engines" / self.engine

    @property
    def lock_file(self) -> Path:
        """One lock for every engine: builds of one tree stage the same packages/*/fetch."""
        return self.root / ".rebuildx" / "lock"

    def for_engine(self, engine: str) -> Workspace:
        return Workspace(self.root, engine)

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

    def make_dir(self, path: Path) -> Path:
        """`mkdir -p path`, or a StateError that names what is in the way and how to fix it
        (a file named `.rebuildx`, a directory that cannot be written)."""
        try:
            path.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as e:
            blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), path)
            raise StateError(f"{blocker}: a file is where rebuildx keeps a directory; fix: move it away "
                             f"(mv {blocker} {blocker}.old) and run again") from e
        except OSError as e:
            there = next((p for p in path.parents if p.exists()), path.parent)
            raise StateError(f"{path}: cannot create it ({e.strerror}); fix: make {there} writable by this "
                             f"user, or run as its owner") from e
        return path

    def out_entry(self, full_name: str) -> Path:
        return self.out / full_name
