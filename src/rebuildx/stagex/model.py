"""What a StageX tree is made of: sources and packages (pure data, no I/O).

The names are StageX's: a package's *stage* and *name* give its full name `<stage>-<name>`
(`core-bash`), as in digest files; its *origin* is the directory `packages/<stage>/<origin>/`
it is built from, which several *subpackages* can share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from rebuildx.errors import TreeError, UsageError
from rebuildx.stagex.templating import expand, url_file, version_forms

DEFAULT_PLATFORM = "linux/amd64"  # StageX's Makefile: PLATFORM := linux/amd64

_RELEASE = re.compile(r"(\d{4})\.(\d{2})\.(\d+)")
_PLATFORM = re.compile(r"[a-z0-9_-]+/[a-z0-9_-]+(?:/[a-z0-9_-]+)?")


def is_platform(value: str) -> bool:
    """Whether `value` is one `os/arch[/variant]` (no commas)."""
    return _PLATFORM.fullmatch(value) is not None


def check_platform(value: str, *, several: bool = True) -> str:
    """A `--platform` value as BuildKit takes it and a build can use: `os/arch[/variant]`, or
    (with `several`) several joined by commas as StageX's targets.py joins a package's pinned
    `platforms` (`linux/amd64,linux/arm64`). Components are containerd's specifiers (letters,
    digits, `_`, `-`), lowercase as rebuildx compares them; anything else is a UsageError (exit 2)."""
    if not several and "," in value:
        raise UsageError(f"platform {value!r}: one os/arch[/variant] (linux/amd64), not several")
    parts = value.split(",")
    bad = [p for p in parts if not is_platform(p)]
    if bad:
        which = f"platform {value!r}" + (f": {bad[0]!r}" if len(parts) > 1 else "")
        raise UsageError(f"{which} is not os/arch[/variant] in lowercase (linux/amd64, linux/arm/v7; "
                         f"several joined by commas)")
    if len(set(parts)) < len(parts):
        raise UsageError(f"platform {value!r} names a platform twice")
    return value


def release_tuple(release: str) -> tuple[int, int, int]:
    """(year, month, n) of a release name `YYYY.MM.N`; anything else is a UsageError (exit 2)."""
    m = _RELEASE.fullmatch(release)
    if not m:
        raise UsageError(f"release {release!r} is not of the form YYYY.MM.N")
    year, month, n = map(int, m.groups())
    return year, month, n


def check_file_name(name: str, where: str) -> str:
    """Refuse a name that is not one plain path component: it must stay in its fetch directory."""
    problem = None
    if name in ("", ".", ".."):
        problem = "is empty or a directory reference"
    elif "/" in name or "\\" in name:
        problem = "contains a path separator"
    elif any(ord(c) < 32 or c == "\x7f" for c in name):
        problem = "contains a control character (NUL, newline, ...)"
    if problem:
        raise TreeError(f"{where}: file name {name!r} {problem}: it would not stay in the fetch directory")
    return name


@dataclass(frozen=True)
class Source:
    """One `[sources.<name>]` table of a package.toml, as written (templates unexpanded).

    Empty strings stand for fields that were not given, as in StageX's reader.
    """

    name: str
    hash: str
    mirrors: tuple[str, ...]
    version: str = ""
    file: str = ""
    format: str = ""
    git_sha: str = ""
    size: int | None = None  # bytes, when the package.toml gives them (fetch stops there)

    def fetch_values(self, package_version: str | None) -> dict[str, str]:
        """Template values `src/fetch.py` uses: this source's version, else the package's own."""
        values = version_forms(self.version or package_version)
        values["format"] = self.format
        return values

    def fetch_file(self, mirror: str, package_version: str | None) -> str:
        """The file name under `fetch/<stage>/<origin>/` when fetched from `mirror`."""
        return expand(self.file or url_file(mirror), self.fetch_values(package_version))

    def build_file(self, package_version: str | None) -> str:
        """The `<NAME>_SOURCE` build arg of `src/targets.py`: only for sources with their own
        version, expanded with that version but the *package's* dash and underscore forms, and
        no other form (a template naming another raises KeyError, as in StageX)."""
        forms = version_forms(package_version)
        values = {"version": self.version, "version_dash": forms["version_dash"],
                  "version_under": forms["version_under"], "format": self.format}
        return expand(self.file or url_file(self.mirrors[0]), values)

    def fetch_url(self, mirror: str, package_version: str | None) -> str:
        """The URL `src/fetch.py` downloads from `mirror`."""
        values = self.fetch_values(package_version)
        values["file"] = self.fetch_file(mirror, package_version)
        return expand(mirror, values)


@dataclass(frozen=True)
class Package:
    """One buildable name of a StageX tree: a package, or one subpackage of an origin."""

    stage: str
    name: str
    origin: str
    version: str | None  # resolved through version_from
    platforms: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    deps: tuple[str, ...] = ()  # full names, first occurrence order, as targets.py reads them
    subpackage: bool = False  # built with `--target package-<name>`
    version_from: str | None = None
    toml_version: str | None = None  # `[package] version` as written (src/fetch.py uses this)
    dep_lines: tuple[int, ...] = field(default=(), compare=False)  # Containerfile line of each dep

    @property
    def full_name(self) -> str:
        return f"{self.stage}-{self.name}"

    @property
    def directory(self) -> PurePosixPath:
        """The package directory, relative to the tree root."""
        return PurePosixPath("packages", self.stage, self.origin)

    @property
    def fetch_dir(self) -> PurePosixPath:
        """Where its sources go, relative to the workspace: `fetch/<stage>/<origin>`."""
        return PurePosixPath("fetch", self.stage, self.origin)

    def platform(self, default: str = DEFAULT_PLATFORM) -> str:
        """The `--platform` value: the pinned platforms joined, else the chosen default."""
        return ",".join(self.platforms) if self.platforms else default

    def source_files(self) -> list[str]:
        """The file name of each source as fetched from its first mirror."""
        return [s.fetch_file(s.mirrors[0], self.toml_version) for s in self.sources]
