"""What the signature use cases take (plain data, cheap to import: the API names them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rebuildx.errors import UsageError


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

    def __post_init__(self) -> None:
        _take_as_meant(self, "tree_dir")
        object.__setattr__(self, "keyrings", tuple(Path(k) for k in _many(self.keyrings)))
        if not isinstance(self.quorum, int) or self.quorum < 1:
            raise UsageError(f"quorum: {self.quorum!r:.40} signers is no quorum; it must be at least 1")


@dataclass(frozen=True)
class SignRequest:
    """`rebuildx sign`: sign what was reproduced here, into a signatures checkout."""

    tree_dir: Path
    release: str
    key: str
    sigs_dir: Path
    selection: tuple[str, ...] = ()
    published: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _take_as_meant(self, "tree_dir", "sigs_dir")


def _many(value: Any) -> tuple:
    """One value given where a tuple is wanted (a str, a Path) is a tuple of that one."""
    return (value,) if isinstance(value, str | Path) else tuple(value)


def _take_as_meant(request: Any, *paths: str) -> None:
    """A request built by a careless caller: str paths, a lone name where a tuple is wanted."""
    for name in paths:
        object.__setattr__(request, name, Path(getattr(request, name)))
    for name in ("selection", "published", "trust"):
        if hasattr(request, name):
            object.__setattr__(request, name, _many(getattr(request, name)))
