"""What a fetch run did, file by file, as data: the caller decides what a failure means."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import PurePosixPath
from typing import Any

from rebuildx.errors import FetchError
from rebuildx.net import redact


class Outcome(str, Enum):
    FETCHED = "fetched"  # placed by this run (downloaded, from --sources, or linked from a twin)
    PRESENT = "present"  # already in place with the declared hash
    FAILED = "failed"  # no candidate delivered the declared hash


@dataclass(frozen=True)
class Attempt:
    """One place tried and what it answered, in one line."""

    where: str
    answer: str
    ok: bool = False

    def __post_init__(self) -> None:  # what is shown and written never holds a URL's password
        object.__setattr__(self, "where", redact(self.where))
        object.__setattr__(self, "answer", redact(self.answer))


@dataclass(frozen=True)
class FileResult:
    """The fate of one source of one origin."""

    package: str  # `<stage>-<origin>`
    source: str
    path: PurePosixPath  # under the workspace: fetch/<stage>/<origin>/<file>
    sha256: str
    outcome: Outcome
    size: int = 0
    via: str = ""  # where the bytes came from this run (a URL's password never kept)
    attempts: tuple[Attempt, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "via", redact(self.via))

    @property
    def file(self) -> str:
        return self.path.name

    def line(self) -> str:
        """One progress line for a finished file."""
        head = f"{self.outcome.value:8} {self.package}: {self.file}"
        if self.outcome is Outcome.FAILED:
            tried = f"{len(self.attempts)} place" + ("s" if len(self.attempts) != 1 else "")
            return f"{head}: none of {tried} tried delivered sha256 {self.sha256}"
        return f"{head} ({_size(self.size)})" + (f" from {self.via}" if self.via else "")

    def failure(self) -> str:
        """Everything a user needs to chase a failed source: what, which hash, who said what."""
        tried = "".join(f"\n    {a.where}: {a.answer}" for a in self.attempts) or "\n    (nothing to try)"
        return (f"{self.package}: source {self.source}: {self.file} (sha256 {self.sha256}): "
                f"no mirror delivered it; tried:{tried}")

    def to_json(self) -> dict[str, Any]:
        return {"package": self.package, "source": self.source, "path": str(self.path),
                "sha256": self.sha256, "outcome": self.outcome.value, "size": self.size,
                "via": self.via, "attempts": [a.__dict__ for a in self.attempts]}


@dataclass(frozen=True)
class FetchReport:
    results: tuple[FileResult, ...]

    def _with(self, outcome: Outcome) -> list[FileResult]:
        return [r for r in self.results if r.outcome is outcome]

    @property
    def fetched(self) -> list[FileResult]:
        return self._with(Outcome.FETCHED)

    @property
    def present(self) -> list[FileResult]:
        return self._with(Outcome.PRESENT)

    @property
    def failed(self) -> list[FileResult]:
        return self._with(Outcome.FAILED)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        size = _size(sum({r.sha256: r.size for r in self.fetched}.values()))  # shared files once
        return (f"fetched {len(self.fetched)} ({size}), already present {len(self.present)}, "
                f"failed {len(self.failed)}")

    def error(self) -> FetchError | None:
        """A FetchError listing every failure, or None when everything is in place."""
        if self.ok:
            return None
        body = "\n".join(r.failure() for r in self.failed)
        return FetchError(f"{len(self.failed)} of {len(self.results)} sources could not be fetched:\n{body}")

    def to_json(self) -> dict[str, Any]:
        return {"format": 1, "summary": self.summary(), "files": [r.to_json() for r in self.results]}


def _size(n: int) -> str:
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            return f"{n} B" if n < 1000 else f"{value:.1f} {unit}"
    raise AssertionError("unreachable")
