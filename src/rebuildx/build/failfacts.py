"""Facts about a failed build, read the moment it fails: the edge of the classifier (failures.py).

What the log cannot say on its own: how much disk the engine's data-root has left, whether the
kernel OOM-killed anything while the build ran, and whether rebuildx itself stopped the build
(a timeout, Ctrl-C).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from rebuildx.build.failures import Failure, FailureFacts, classify
from rebuildx.engine.base import BuildOutcome, Engine
from rebuildx.proc import tail_lines

VMSTAT = Path("/proc/vmstat")


def oom_kills() -> int | None:
    """The kernel's count of OOM kills since boot (memory cgroups' included), None if unreadable."""
    try:
        for line in VMSTAT.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == "oom_kill":
                return int(value)
    except (OSError, ValueError):
        pass
    return None


def _free_disk(engine: Engine) -> tuple[int | None, str | None]:
    data_root: Callable[[], Path | None] | None = getattr(engine, "data_root", None)
    try:
        root = data_root() if data_root else None
        return (shutil.disk_usage(root).free, str(root)) if root else (None, None)
    except Exception:  # noqa: BLE001 - a fact that cannot be had is left out, never fails the report
        return None, None


def explain_outcome(outcome: BuildOutcome, engine: Engine, oom_before: int | None) -> Failure:
    """The named cause of a failed build, from its log's tail and the facts now."""
    after = oom_kills()
    free, root = _free_disk(engine)
    facts = FailureFacts(exit_status=outcome.exit_status, error=outcome.error, timed_out=outcome.timed_out,
                         interrupted=outcome.interrupted, free_disk_bytes=free, data_root=root,
                         oom_kills=(after - oom_before) if after is not None and oom_before is not None else 0)
    lines = tail_lines(outcome.log, 200) if outcome.log else []
    return classify([*lines, *([outcome.error] if outcome.error else [])], facts)


def explain_error(error: str) -> Failure:
    """The named cause of a failure rebuildx met around the build (installing out/, its own I/O)."""
    return classify([error], FailureFacts(error=error))
