"""What the signature use cases take (plain data, cheap to import: the API names them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SignaturesRequest:
    """`rebuildx signatures`: check each package's maintainer quorum in a release."""

    tree_dir: Path
    release: str
    selection: tuple[str, ...] = ()
    sigs: str | None = None  # folder, git:<dir>[#ref], git URL, or http(s) lookaside; default StageX's
    keyrings: tuple[Path, ...] = ()
    trust: tuple[str, ...] = ()  # primary fingerprints counted besides MAINTAINERS
    quorum: int = 2
    published: tuple[str, ...] = ()  # digests sources as for compare; default the release's ref


@dataclass(frozen=True)
class SignRequest:
    """`rebuildx sign`: sign what was reproduced here, into a signatures checkout."""

    tree_dir: Path
    release: str
    key: str
    sigs_dir: Path
    selection: tuple[str, ...] = ()
    published: tuple[str, ...] = ()
