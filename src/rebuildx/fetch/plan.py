"""Which files a selection needs under fetch/, and where each may come from (pure, no I/O).

StageX's `src/fetch.py` writes every source of a package to `fetch/<stage>/<origin>/<file>`,
trying the mirrors in order; the file name is computed per mirror, so when a source gives no
`file` the name is the mirror URL's last path segment and may differ from mirror to mirror.
This module keeps that rule (through `Source.fetch_file`/`fetch_url`) and adds what a careful
client needs: subpackages of one origin fetch once, sources with the same sha256 are one
download (the bytes are the same, whoever declares them), and names that would leave the
fetch directory are refused before anything touches the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from rebuildx.errors import TreeError
from rebuildx.stagex.model import Package, Source, check_file_name

SOURCES = "sources"  # a file taken from a flat `--sources` directory
MIRROR = "mirror"  # `--mirror URL`: URL/<file>
PACKAGE = "package"  # one of the package.toml's own mirrors


@dataclass(frozen=True)
class Candidate:
    """One place a file may come from: a URL, or a path in a flat sources directory."""

    kind: str  # SOURCES, MIRROR or PACKAGE
    where: str  # URL, or filesystem path for SOURCES
    file: str  # the file name it delivers (names the target under fetch/)

    @property
    def networked(self) -> bool:
        return self.kind != SOURCES


@dataclass(frozen=True)
class SourceJob:
    """One `[sources.<name>]` of one origin: a file that must end up in its fetch directory."""

    package: str  # `<stage>-<origin>`: subpackages share their origin's sources
    source: str
    sha256: str
    directory: PurePosixPath  # `fetch/<stage>/<origin>`, relative to the workspace
    names: tuple[str, ...]  # file names its mirrors give, first mirror first
    candidates: tuple[Candidate, ...]  # its own mirrors, in order
    size: int | None = None  # bytes, when the package.toml says

    def target(self, name: str) -> PurePosixPath:
        return self.directory / name

    @property
    def label(self) -> str:
        return f"{self.package}: source {self.source}"


@dataclass(frozen=True)
class FileGroup:
    """The jobs that want the same bytes (same sha256): downloaded once, placed for each."""

    sha256: str
    jobs: tuple[SourceJob, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for job in self.jobs for n in job.names))

    @property
    def size(self) -> int | None:
        """The size the tree declares for these bytes (the smallest, if two disagree: one of
        them is wrong, and no download needs to go past it to find out)."""
        sizes = [job.size for job in self.jobs if job.size is not None]
        return min(sizes) if sizes else None

    def name_for(self, job: SourceJob, delivered: str) -> str:
        """The name `job` stores the file under: the delivered name if it is one of its own."""
        return delivered if delivered in job.names else job.names[0]

    def candidates(self, sources_dir: Path | None = None, mirrors: Sequence[str] = ()) -> list[Candidate]:
        """Every place to try, in order: the sources directory, `--mirror`s, then each
        job's own mirrors (a URL shared by several jobs is tried once)."""
        found: list[Candidate] = []
        if sources_dir:  # by name, then by sha256 (how `collect_sources` stores a name clash)
            found += [Candidate(SOURCES, str(sources_dir / n), n) for n in self.names]
            found.append(Candidate(SOURCES, str(sources_dir / self.sha256), self.names[0]))
        found += [Candidate(MIRROR, mirror_url(m, n), n) for m in mirrors for n in self.names]
        found += [c for job in self.jobs for c in job.candidates]
        unique: dict[str, Candidate] = {}
        for candidate in found:
            unique.setdefault(candidate.where, candidate)
        return list(unique.values())


def mirror_url(mirror: str, name: str) -> str:
    """`--mirror URL` serves files flat, by name: URL/<file> with the name percent-quoted."""
    return f"{mirror.rstrip('/')}/{quote(name)}"


def plan_fetch(packages: Iterable[Package]) -> list[FileGroup]:
    """The downloads a set of packages needs, in the packages' order, one per sha256.

    Raises TreeError, naming the package and source, for a template that does not expand or a
    file name that would escape the fetch directory, and for two sources of one origin that
    want one file name with different hashes.
    """
    jobs: dict[tuple[str, str, str], SourceJob] = {}
    for package in packages:
        for source in package.sources:
            key = (package.stage, package.origin, source.name)
            if key not in jobs:
                jobs[key] = _job(package, source)
    _check_collisions(jobs.values())
    groups: dict[str, list[SourceJob]] = {}
    for job in jobs.values():
        groups.setdefault(job.sha256, []).append(job)
    return [FileGroup(sha, tuple(js)) for sha, js in groups.items()]


def _job(package: Package, source: Source) -> SourceJob:
    label = f"{package.stage}-{package.origin}"
    candidates = []
    for mirror in source.mirrors:
        try:
            name = source.fetch_file(mirror, package.toml_version)
            url = source.fetch_url(mirror, package.toml_version)
        except (KeyError, ValueError, IndexError) as e:
            raise TreeError(f"{package.directory}/package.toml: package {label}: [sources.{source.name}]: "
                            f"template does not expand: {type(e).__name__}: {e}") from e
        check_file_name(name, f"{package.directory}/package.toml: package {label}: [sources.{source.name}]")
        candidates.append(Candidate(PACKAGE, url, name))
    names = tuple(dict.fromkeys(c.file for c in candidates))
    return SourceJob(label, source.name, source.hash, package.fetch_dir, names, tuple(candidates), source.size)


def _check_collisions(jobs: Iterable[SourceJob]) -> None:
    """Two sources of one origin naming one file with different hashes would overwrite each
    other on every run (StageX's fetch.py ping-pongs between them); say so instead."""
    owner: dict[tuple[PurePosixPath, str], SourceJob] = {}
    for job in jobs:
        for name in job.names:
            other = owner.setdefault((job.directory, name), job)
            if other.sha256 != job.sha256:
                raise TreeError(f"package {job.package}: sources {other.source} and {job.source} both "
                                f"want {job.target(name)} with different hashes")
