"""Read a StageX checkout into packages, deriving what StageX's `src/targets.py` derives.

Reference: StageX release 2026.03.0, `src/targets.py` and `src/common.py`. Every quirk of that
reader that changes a build argument is kept (which Containerfile lines count as deps, which
fields default to empty); what it would crash on or silently get wrong is a `TreeError` here,
naming the file, the package and the field.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rebuildx import logs
from rebuildx.errors import TreeError
from rebuildx.oci.names import COMPONENT_RULE, is_component
from rebuildx.stagex.model import Package, Source, check_file_name, is_platform
from rebuildx.stagex.readcache import TomlCache, TreeMemo, fs_now, identity
from rebuildx.stagex.templating import MAX_WIDTH

CACHE_DIR = Path(".rebuildx", "cache")

_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass
class Tree:
    """The packages of one StageX checkout, by full name, in a stable order."""

    root: Path
    packages: dict[str, Package]
    warnings: list[str] = field(default_factory=list)

    @property
    def stages(self) -> list[str]:
        return sorted({p.stage for p in self.packages.values()})

    def by_short_name(self, name: str) -> list[Package]:
        return [p for p in self.packages.values() if p.name == name]


def containerfile_deps(lines: Iterable[str]) -> list[tuple[str, int]]:
    """The `stagex/<dep>` references StageX's targets.py counts, with their line numbers.

    Exactly three forms count, matched at the start of the line as targets.py does:
    `COPY --from=stagex/<dep> …`, `FROM stagex/<dep> …` and
    `FROM --platform=linux/386 stagex/<dep> …`. Repeats are dropped (first one kept): the
    Makefile would pass the same `--build-context` twice, to the same effect.
    """
    found: list[tuple[str, int]] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if "stagex/" not in line:  # every form counted names stagex/<dep>: most lines end here
            continue
        dep = _dep_of_line(line)
        if dep is not None and dep not in seen:  # "" (`FROM stagex/`) stays, to be named as missing
            seen.add(dep)
            found.append((dep, number))
    return found


def _dep_of_line(line: str) -> str | None:
    words = line.split(" ")
    if line.startswith("COPY") and len(words) > 1 and words[1].startswith("--from"):
        ref = words[1].split("=", 1)[-1].strip()
        return ref.split("/")[1] if ref.startswith("stagex/") else None
    if line.startswith("FROM stagex/"):
        return words[1].split("/")[1].strip()
    if line.startswith("FROM --platform=linux/386 stagex/") and len(words) > 2:
        return words[2].split("/")[1].strip()
    return None


def load_tree(root: Path | str) -> Tree:
    """Read every `packages/<stage>/<origin>/` that has a Containerfile and a package.toml (as
    read last time, while none of those files changed: stagex/readcache.py)."""
    root = Path(root)
    if not (root / "packages").is_dir():
        raise TreeError(f"{root}: not a StageX tree (no packages/ directory)")
    flat = sorted(root.glob("packages/*/Containerfile"))
    if flat:
        raise TreeError(f"{flat[0].relative_to(root)}: a packages/<name>/ tree, StageX's layout before "
                        f"2024.12.0 (no stages, no src/targets.py); rebuildx builds releases from 2024.12.0 on")
    directories = _package_dirs(root)
    memo = TreeMemo(root / CACHE_DIR / "tree.json",
                    [[rel, c and identity(c), t and identity(t)] for _, rel, c, t in directories])
    remembered = memo.get()
    if remembered is not None:
        package_list, warnings = remembered
        _warn(warnings)
        return Tree(root, {p.full_name: p for p in package_list}, warnings)
    now = fs_now(root / CACHE_DIR)  # before any file is read: a file changed since is read, not remembered
    tree = _read_tree(root, [(d, t is not None) for d, _, c, t in directories if c is not None], now)
    memo.put(list(tree.packages.values()), tree.warnings, now)
    return tree


def _warn(warnings: list[str]) -> None:
    for message in warnings:
        logs.warning(__name__, message)


def _read_tree(root: Path, directories: list[tuple[Path, bool]], now: int | None) -> Tree:
    """Every package directory with a Containerfile (and whether it has a package.toml) read."""
    packages: dict[str, Package] = {}
    where: dict[str, Path] = {}
    warnings: list[str] = []
    cache = TomlCache(root / CACHE_DIR / "package-toml.json", now)
    for directory, has_toml in directories:
        toml_path = directory / "package.toml"
        if not has_toml:
            warnings.append(f"{directory.relative_to(root)}: Containerfile without package.toml, skipped")
            continue
        for package in _read_package(root, toml_path, directory / "Containerfile", cache):
            if package.full_name in packages:
                raise TreeError(
                    f"{toml_path.relative_to(root)}: package {package.full_name} is also defined by "
                    f"{where[package.full_name].relative_to(root)}: two packages with one full name"
                )
            packages[package.full_name] = package
            where[package.full_name] = toml_path
    cache.save()
    _warn(warnings)
    resolved = _resolve_versions(root, packages, where)
    for full, package in resolved.items():
        _check_templates(where[full].relative_to(root), package)
    return Tree(root, resolved, warnings)


def _package_dirs(root: Path) -> list[tuple[Path, str, os.stat_result | None, os.stat_result | None]]:
    """Every package directory, in order, with its path relative to the tree and the identity of
    its Containerfile and package.toml (None: there is none). One that cannot be read (permissions,
    a FIFO, a directory, a symlink loop) is a TreeError naming it here: skipped, it would surface
    as a dependent's missing dep. Run on every start (the memo's key): plain strings, no Paths."""
    found = []
    base = os.path.join(root, "packages")
    for stage in _subdirs(root, base):
        for name in _subdirs(root, os.path.join(base, stage)):
            directory = os.path.join(base, stage, name)
            found.append((Path(directory), f"packages/{stage}/{name}",
                          _readable(root, os.path.join(directory, "Containerfile")),
                          _readable(root, os.path.join(directory, "package.toml"))))
    return found


def _subdirs(root: Path, path: str) -> list[str]:
    """The names of the directories in `path`, sorted."""
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as e:
        raise TreeError(f"{Path(path).relative_to(root)}: cannot read this directory ({e.strerror}); fix its "
                        f"permissions, or remove it") from e
    dirs = []
    for entry in entries:
        try:
            if entry.is_dir():
                dirs.append(entry.name)
        except OSError as e:  # a symlink loop
            raise TreeError(f"{Path(path).relative_to(root) / entry.name}: cannot read it ({e.strerror})") from e
    return dirs


def _readable(root: Path, path: str) -> os.stat_result | None:
    """The stat of a readable regular file, None when there is none; anything else a TreeError."""
    try:
        st = os.stat(path)
        if stat.S_ISREG(st.st_mode):
            if not os.access(path, os.R_OK):  # as the kernel will judge the open (capabilities too)
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
            return st
    except FileNotFoundError:
        if not os.path.islink(path):
            return None
        raise TreeError(f"{_named(root, path)}: a symlink to nothing ({os.readlink(path)}); fix it or remove "
                        f"the package directory") from None
    except OSError as e:
        fix = "fix its permissions" if e.errno in (errno.EACCES, errno.EPERM) else \
            "make it a file" if e.errno == errno.ELOOP else "fix it"
        raise TreeError(f"{_named(root, path)}: cannot read it ({e.strerror}); {fix}, or remove the package "
                        f"directory") from e
    kind = "a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode) \
        else "not a regular file"
    raise TreeError(f"{_named(root, path)}: is {kind}, not a file; replace it with the file, or remove the "
                    f"package directory")


def _named(root: Path, path: str) -> str:
    """`packages/<stage>/<origin>/<file>: package <stage>-<origin>`, for a message."""
    rel = Path(path).relative_to(root)
    return f"{rel}: package {rel.parts[1]}-{rel.parts[2]}"


def _check_templates(rel: Path, package: Package) -> None:
    """Expand every template now, as fetch and build will, so a bad one is a TreeError naming
    its field here rather than a crash later."""
    for source in package.sources:
        where = f"{rel}: package {package.full_name}: [sources.{source.name}]"
        for mirror in source.mirrors:
            fld = "file"
            try:
                name = source.fetch_file(mirror, package.toml_version)
                if len(name.encode()) > MAX_WIDTH:
                    raise TreeError(f"{where} file: {source.file or mirror!r} expands to a name of "
                                    f"{len(name.encode())} bytes, more than a file system takes ({MAX_WIDTH})")
                fld = "mirrors"
                source.fetch_url(mirror, package.toml_version)
            except (KeyError, IndexError, ValueError, AttributeError) as e:
                bad = source.file if fld == "file" and source.file else mirror
                fld = fld if source.file or fld == "mirrors" else "file (taken from the mirror URL)"
                raise TreeError(f"{where} {fld}: {bad!r} does not expand ({type(e).__name__}: {e}); "
                                f"known fields: version, version_under, version_dash, version_major, "
                                f"version_major_minor, version_strip_suffix, format, file") from e
            check_file_name(name, f"{where} file (as fetched from {mirror})")
        if source.version:
            try:
                check_file_name(source.build_file(package.version), f"{where} file (as the build names it)")
            except (KeyError, IndexError, ValueError, AttributeError) as e:
                raise TreeError(f"{where} file: {source.file!r} does not expand as StageX's targets.py "
                                f"expands a versioned source's file (only version, version_dash, "
                                f"version_under, format): {type(e).__name__}: {e}") from e


def _check_directory_names(directory: Path, stage: str, origin: str) -> None:
    """A package directory's stage and origin become make targets (`<name>`, `<stage>-<name>`) in
    StageX's generated Makefile and image names (`stagex/<stage>-<name>`): a name neither can carry
    (a space, an upper-case letter, a `:`) is refused here, naming the directory."""
    shown = f"{directory}/" if str(directory).isprintable() else repr(f"{directory}/")  # one line, always
    for what, name in (("stage", stage), ("package", origin)):
        if not is_component(name):
            raise TreeError(f"{shown}: {what} directory name {name!r} cannot be a make target or an image "
                            f"name (stagex/<stage>-<name>): it takes {COMPONENT_RULE}; rename the directory")


def _read_package(root: Path, toml_path: Path, containerfile: Path, cache: TomlCache) -> list[Package]:
    stage, origin = toml_path.parent.parts[-2:]
    rel = toml_path.relative_to(root)
    _check_directory_names(rel.parent, stage, origin)
    data = _read_toml(rel, toml_path, f"{stage}/{origin}", cache)
    ctx = _Ctx(rel, f"{stage}-{origin}")
    meta = data.get("package")
    if not isinstance(meta, dict):
        raise ctx.error("[package]", "missing table")
    name = ctx.string(meta, "name", required=True, where="[package]")
    if name != origin:
        raise ctx.error("[package] name", f"{name!r} differs from its directory {origin!r} (StageX builds packages/<stage>/<name>)")
    version = ctx.string(meta, "version", where="[package]") or None
    version_from = ctx.string(meta, "version_from", where="[package]") or None
    platforms = tuple(ctx.strings(meta, "platforms", where="[package]"))
    for pinned in platforms:
        if not is_platform(pinned):
            raise ctx.error("[package] platforms", f"{pinned!r} is not os/arch[/variant] in lowercase (linux/386)")
    subpackages = ctx.strings(meta, "subpackages", where="[package]")
    bad = [sub for sub in subpackages if not is_component(sub)]
    if bad:
        raise ctx.error("[package] subpackages", f"{subpackages!r} holds an empty or malformed name ({bad[0]!r}: "
                        f"a make target and image name stagex/{stage}-<name> takes {COMPONENT_RULE})")
    sources = tuple(_read_sources(ctx, data.get("sources", {})))
    with open(containerfile, encoding="utf-8", errors="replace") as f:
        dep_refs = containerfile_deps(f)
    base = Package(
        stage=stage, name=name, origin=origin, version=version, platforms=platforms,
        sources=sources, deps=tuple(f"{d}" for d, _ in dep_refs), version_from=version_from,
        toml_version=version, dep_lines=tuple(n for _, n in dep_refs),
    )
    if not subpackages:
        return [base]
    return [replace(base, name=sub, subpackage=True) for sub in subpackages]


def _read_toml(rel: Path, path: Path, label: str, cache: TomlCache) -> dict[str, Any]:
    import tomllib  # only for a package.toml not read before

    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            data = cache.get(rel.as_posix(), st)
            if data is None:
                data = tomllib.load(f)
                cache.put(rel.as_posix(), st, data)
            return data
    except tomllib.TOMLDecodeError as e:
        raise TreeError(f"{rel}: package {label}: malformed TOML: {e}") from e
    except UnicodeDecodeError as e:
        raise TreeError(f"{rel}: package {label}: not UTF-8 text: {e}") from e


class _Ctx:
    """Field access that turns a wrong or missing value into one clear TreeError."""

    def __init__(self, rel: Path, label: str) -> None:
        self.rel, self.label = rel, label

    def error(self, fld: str, problem: str) -> TreeError:
        return TreeError(f"{self.rel}: package {self.label}: {fld}: {problem}")

    def string(self, table: dict[str, Any], key: str, *, where: str, required: bool = False) -> str:
        value = table.get(key)
        if value is None:
            if required:
                raise self.error(where, f"no {key!r}")
            return ""
        if not isinstance(value, str):
            raise self.error(f"{where} {key}", f"expected a string, got {type(value).__name__}")
        return value

    def size(self, table: dict[str, Any], key: str, *, where: str) -> int | None:
        value = table.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise self.error(f"{where} {key}", f"expected a number of bytes, got {value!r}")
        return value

    def strings(self, table: dict[str, Any], key: str, *, where: str) -> list[str]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(f"{where} {key}", "expected a list of strings")
        return value


def _read_sources(ctx: _Ctx, table: Any) -> Iterable[Source]:
    if not isinstance(table, dict):
        raise ctx.error("[sources]", "expected a table of sources")
    for key, spec in table.items():
        where = f"[sources.{key}]"
        if not isinstance(spec, dict):
            raise ctx.error(where, "expected a table")
        digest = ctx.string(spec, "hash", where=where, required=True)
        if not _HEX64.fullmatch(digest):
            raise ctx.error(f"{where} hash", f"{digest!r} is not 64 lowercase hex characters (a sha256)")
        mirrors = ctx.strings(spec, "mirrors", where=where)
        if not mirrors:
            raise ctx.error(f"{where} mirrors", "no mirrors")
        yield Source(
            name=key, hash=digest, mirrors=tuple(mirrors),
            version=ctx.string(spec, "version", where=where),
            file=ctx.string(spec, "file", where=where),
            format=ctx.string(spec, "format", where=where),
            git_sha=ctx.string(spec, "git_sha", where=where),
            size=ctx.size(spec, "size", where=where),
        )


def _resolve_versions(root: Path, packages: dict[str, Package], where: dict[str, Path]) -> dict[str, Package]:
    """Give each `version_from` package the version of the package it names (chains followed)."""
    resolved: dict[str, str | None] = {}

    def version_of(full: str, trail: tuple[str, ...]) -> str | None:
        if full in resolved:
            return resolved[full]
        package = packages[full]
        if package.version_from is None:
            return package.version
        rel = where[full].relative_to(root)
        target = package.version_from
        if target not in packages:
            raise TreeError(f"{rel}: package {full}: [package] version_from: no package {target!r} in the tree")
        if target in trail:
            raise TreeError(f"{rel}: package {full}: [package] version_from: cycle {' -> '.join(trail + (target,))}")
        resolved[full] = version_of(target, trail + (target,))
        return resolved[full]

    return {
        full: replace(p, version=version_of(full, (full,))) if p.version_from else p
        for full, p in packages.items()
    }
