"""Running other programs: one helper for buildx, git, tar and every other tool.

Children get their own process group, so a timeout or an interrupt stops the whole group
(TERM, then KILL) and leaves nothing running; failures become `RebuildxError`s of the caller's
choice, with the command and the tail of its output.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from rebuildx.errors import EngineError, RebuildxError


def run(argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
        timeout: float | None = 60, error: type[RebuildxError] = EngineError,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a short command and capture its output as text."""
    try:
        done = subprocess.run(list(argv), cwd=cwd, env=dict(env) if env is not None else None,
                              capture_output=True, text=True, timeout=timeout,
                              start_new_session=True)
    except FileNotFoundError as e:
        raise error(f"{argv[0]}: not found on PATH") from e
    except subprocess.TimeoutExpired as e:
        raise error(f"{' '.join(argv[:3])}: no answer in {timeout:.0f} s") from e
    if check and done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise error(f"{' '.join(argv[:3])} failed (exit {done.returncode}): {' / '.join(tail)}")
    return done


def stop_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """TERM the child's process group, then KILL it if it has not gone after `grace` seconds."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def tail_lines(path: Path, n: int = 200) -> list[str]:
    """The last `n` lines of a (possibly large) log file, read from its end."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256 * 1024))
            return f.read().decode("utf-8", "replace").splitlines()[-n:]
    except FileNotFoundError:
        return []
