"""Collect verified sources into a flat directory, to carry to an air-gapped machine.

The directory is what `--sources DIR` reads: files by name. Two different sources can share
a name (GitHub archives are all `v<version>.tar.gz`), so the second one with a given name is
stored under its sha256 instead, which `--sources` also looks up; nothing is lost or mixed up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rebuildx.errors import FetchError
from rebuildx.fetch.files import SUFFIX
from rebuildx.fetch.report import FetchReport, Outcome
from rebuildx.fetch.verify import copy_hashing, sha256_file
from rebuildx.workspace import Workspace


@dataclass(frozen=True)
class Collected:
    written: tuple[str, ...]  # names copied this time
    kept: tuple[str, ...]  # names already there with the right bytes


def collect_sources(workspace: Workspace, report: FetchReport, dest: Path) -> Collected:
    """Copy every fetched or present file of `report` into `dest`, each verified after copying.

    A file already in `dest` with the right bytes is kept; one with other bytes under the same
    name (an older release's tarball, say) is kept too, and the new one goes by its sha256.
    """
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise FetchError(f"--to {dest}: cannot create it: {e.strerror or e}") from e
    written: list[str] = []
    kept: list[str] = []
    claimed: dict[str, str] = {}  # name -> sha256 stored under it by this export
    for r in report.results:
        if r.outcome is Outcome.FAILED or r.sha256 in claimed.values():
            continue
        try:
            name, there = _slot(dest, r.file, r.sha256, r.size, claimed)
            if not there:
                _copy(workspace.root / r.path, dest / name, r.sha256)
        except OSError as e:
            raise FetchError(f"--to {dest}: cannot write {r.file} there: {e.strerror or e}; give a "
                             f"directory you can write to") from e
        (kept if there else written).append(name)
        claimed[name] = r.sha256
    return Collected(tuple(written), tuple(kept))


def _slot(dest: Path, file: str, sha256: str, size: int, claimed: dict[str, str]) -> tuple[str, bool]:
    """The name to store a file under, and whether it is there already with these bytes."""
    if claimed.get(file, sha256) == sha256:
        if not (dest / file).exists():
            return file, False
        if _has(dest / file, sha256, size):
            return file, True
    return sha256, _has(dest / sha256, sha256, size)


def _has(path: Path, sha256: str, size: int) -> bool:
    return path.is_file() and path.stat().st_size == size and sha256_file(path) == sha256


def _copy(src: Path, target: Path, sha256: str) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}{SUFFIX}")
    tmp.unlink(missing_ok=True)
    if copy_hashing(src, tmp) != sha256:
        tmp.unlink()
        raise FetchError(f"{src}: does not have sha256 {sha256} any more (changed in place since it was "
                         f"verified); run `rebuildx fetch --rehash` to check every file and fetch it again")
    os.replace(tmp, target)
