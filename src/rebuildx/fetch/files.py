"""Where unverified bytes live, and how verified ones are put in place.

Nothing unverified is ever written under fetch/: the build step copies `fetch/<stage>/<origin>/*`
wholesale into the build context, so a stray partial file there would become part of a build.
Partial downloads and copies are kept under `.rebuildx/tmp/fetch/` (same filesystem, so the
final rename is atomic), named by the sha256 they should have, and only renamed into fetch/
after that hash was checked. A per-sha256 lock file lets two rebuildx processes share a
workspace: the second waits for the first, then finds the file in place.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rebuildx.errors import FetchError
from rebuildx.fetch.verify import copy_hashing
from rebuildx.logs import logger
from rebuildx.workspace import Workspace

log = logger(__name__)

SUFFIX = ".rebuildx-partial"
_CANNOT_LINK = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP}


def _holder(fd: int) -> str:
    """Who holds a lock: the pid its holder wrote, and its command line when it is visible."""
    pid = os.pread(fd, 32, 0).decode(errors="replace").strip()
    try:
        argv = Path(f"/proc/{int(pid)}/cmdline").read_bytes().split(b"\0")
        return f"pid {pid}: {' '.join(a.decode(errors='replace') for a in argv if a)}"
    except (ValueError, OSError):
        return f"pid {pid}" if pid else "pid unknown"


class Staging:
    """The scratch directory for one workspace's fetches."""

    def __init__(self, workspace: Workspace) -> None:
        self.dir = workspace.make_dir(workspace.tmp / "fetch")

    def partial(self, sha256: str) -> Path:
        """The resumable download of the file with this hash (shared by every mirror)."""
        return self.dir / f"{sha256}{SUFFIX}"

    def scratch(self, sha256: str) -> Path:
        """A fresh name for a one-off copy or link, unique to this process and thread."""
        return self.dir / f"{sha256}.{os.getpid()}.{threading.get_ident()}.tmp{SUFFIX}"

    def discard(self, sha256: str, *, keep_partial: bool) -> None:
        """Drop the partial download when done; after a failure keep it to resume, if it
        holds any bytes."""
        partial = self.partial(sha256)
        try:
            if not keep_partial or partial.stat().st_size == 0:
                partial.unlink()
        except FileNotFoundError:
            pass

    @contextmanager
    def lock(self, sha256: str, what: str = "") -> Iterator[None]:
        """Hold the file lock for this hash; stale scratch files of killed runs are then
        safe to remove, since every user of them holds this lock. A lock another process
        holds is waited for, saying which process (its pid is written in the lock file)."""
        fd = os.open(self.dir / f"{sha256}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.warning("%s: another rebuildx (%s) is fetching it in this workspace; waiting for it",
                            what or sha256, _holder(fd))
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            for stale in self.dir.glob(f"{sha256}.*.tmp{SUFFIX}"):
                stale.unlink(missing_ok=True)
            yield
        finally:
            os.close(fd)  # releases the lock; the kernel does the same for a killed process

    def place(self, verified: Path, target: Path, sha256: str, *, move: bool) -> None:
        """Put a verified file at `target` atomically: moved or hard-linked when it can be,
        else copied (and the copy hashed again)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.scratch(sha256)
        try:
            if move:
                os.replace(verified, target)
            else:
                os.link(verified, tmp)
                os.replace(tmp, target)
            return
        except OSError as e:
            tmp.unlink(missing_ok=True)
            if e.errno not in _CANNOT_LINK:
                raise
        self._copy_beside(verified, target, sha256)
        if move:
            verified.unlink()

    @staticmethod
    def _copy_beside(verified: Path, target: Path, sha256: str) -> None:
        """fetch/ is on another filesystem (a symlink to a bigger disk) or refuses hard links:
        copy next to the target under a dot name, which the build step's
        `cp -lR fetch/<stage>/<origin>/*` never matches, and rename once the copy checks out."""
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}{SUFFIX}")
        try:
            if copy_hashing(verified, tmp) != sha256:
                raise FetchError(f"{verified}: changed while being copied to {target}")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
