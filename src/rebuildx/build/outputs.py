"""`out/` entries appear whole or not at all.

A build writes into a fresh directory under `.rebuildx/tmp/` (same filesystem as `out/`); the
result is checked as a complete OCI layout, claimed in the state DB, and renamed into place. A
run killed at any moment leaves either the old entry, the new one, or none — never a partial one.
Leftovers of killed runs (temporary directories, replaced entries awaiting removal) are removed
at the start of the next run, under the workspace lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rebuildx.errors import BusyError, LayoutError
from rebuildx.oci.digest import entry_digest
from rebuildx.oci.layout import check_layout
from rebuildx.state.history import History
from rebuildx.workspace import Workspace

_OLD = ".rebuildx-old-"


@contextmanager
def workspace_lock(workspace: Workspace) -> Iterator[None]:
    """One rebuildx build per workspace at a time; a second one is told so, not queued."""
    workspace.lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(workspace.lock_file, "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise BusyError(f"{workspace.root}: another rebuildx build is running in this workspace; "
                            f"wait for it, or stop it") from e
        yield


def clean_leftovers(workspace: Workspace) -> None:
    """Remove what a killed run left: temporary build directories and replaced out/ entries."""
    shutil.rmtree(workspace.build_tmp, ignore_errors=True)  # never tmp/fetch: a fetch may be running
    if workspace.out.is_dir():
        for old in workspace.out.glob(f"{_OLD}*"):
            shutil.rmtree(old, ignore_errors=True)


def new_build_dir(workspace: Workspace, full_name: str) -> Path:
    workspace.build_tmp.mkdir(parents=True, exist_ok=True)
    path = workspace.build_tmp / f"{full_name}-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    return path


def install(workspace: Workspace, history: History, full_name: str, built: Path, input_key: str) -> str:
    """Check `built`, claim it, and rename it to `out/<full_name>`; return its digest."""
    check_layout(built)
    digest = entry_digest(built)
    history.claim_out(full_name, input_key, digest)
    final = workspace.out_entry(full_name)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        old = workspace.out / f"{_OLD}{full_name}-{uuid.uuid4().hex[:8]}"
        final.rename(old)
        built.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        built.rename(final)
    history.stamp_out(full_name, entry_stamp(final))
    return digest


def entry_stamp(layout: Path) -> str:
    """The identity of every file of an entry (name, size, mtime, inode): if none changed since a
    full check, the entry is still whole, without hashing its blobs again (hundreds of GB for the
    whole tree)."""
    h = hashlib.sha256()
    for path in sorted([layout / "index.json", layout / "oci-layout", *(layout / "blobs" / "sha256").glob("*")]):
        st = path.stat()
        h.update(f"{path.name} {st.st_size} {st.st_mtime_ns} {st.st_ino}\n".encode())
    return h.hexdigest()


def recorded_entry_ok(workspace: Workspace, history: History, full_name: str, *, renew: bool = True) -> str | None:
    """The digest of an out/ entry rebuildx recorded, if it is still whole: by its stamp when that
    is unchanged, else by a full check (which renews the stamp, unless `renew` is False: a dry
    run writes nothing). None otherwise."""
    record = history.out_record(full_name)
    layout = workspace.out_entry(full_name)
    if record is None or not (layout / "index.json").is_file():
        return None
    try:
        stamp = entry_stamp(layout)
        if record.stamp != stamp:
            check_layout(layout)
        if entry_digest(layout) != record.digest:
            return None
    except (LayoutError, OSError):
        return None
    if renew and record.stamp != stamp:
        history.stamp_out(full_name, stamp)
    return record.digest


def out_digest(workspace: Workspace, full_name: str, *, check: bool = True) -> str | None:
    """The digest of a whole out/ entry (every blob hashed with `check`), or None when there is
    none or it is incomplete."""
    layout = workspace.out_entry(full_name)
    if not (layout / "index.json").is_file():
        return None
    try:
        return entry_digest(layout, check=check)
    except (LayoutError, OSError):
        return None


def remove_entry(workspace: Workspace, history: History, full_name: str) -> None:
    """Take an entry out of out/ (renamed away first, so it is never seen half-deleted)."""
    final = workspace.out_entry(full_name)
    history.forget_out(full_name)
    if final.exists():
        old = workspace.out / f"{_OLD}{full_name}-{uuid.uuid4().hex[:8]}"
        final.rename(old)
        shutil.rmtree(old, ignore_errors=True)


def foreign_entries(workspace: Workspace, history: History) -> list[str]:
    """out/ entries rebuildx did not build in this workspace (e.g. from `make preseed`), or whose
    content is no longer what it recorded."""
    if not workspace.out.is_dir():
        return []
    foreign = []
    for entry in sorted(workspace.out.iterdir()):
        if not entry.is_dir() or entry.name.startswith("."):
            continue
        record = history.out_record(entry.name)
        if record is None or out_digest(workspace, entry.name, check=False) != record.digest:
            foreign.append(entry.name)
    return foreign
