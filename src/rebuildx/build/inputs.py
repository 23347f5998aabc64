"""The input key of a build: everything that can change what a package's build produces.

Two builds with one key are the same build, so a rerun may keep the `out/` entry of the first.
The key covers the package directory's files (its Containerfile, package.toml, patches — not the
`fetch/` copy the build step stages there), the full `docker buildx build` argument list (version,
build args, platform, target), the declared source hashes, the digest of every dep's `out/`
entry, and the engine's identity (Docker and buildx versions).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from rebuildx.stagex.model import Package


def directory_digest(directory: Path, skip: frozenset[str] = frozenset({"fetch"})) -> str:
    """sha256 over (relative path, executable bit, content hash) of every file, sorted;
    top-level names in `skip` are left out."""
    h = hashlib.sha256()
    entries: list[tuple[str, str, bool]] = []
    for dirpath, dirnames, filenames in os.walk(directory):
        rel_dir = os.path.relpath(dirpath, directory)
        if rel_dir == ".":
            dirnames[:] = [d for d in dirnames if d not in skip]
            filenames = [f for f in filenames if f not in skip]
        dirnames.sort()
        for name in filenames:
            path = Path(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if path.is_symlink():
                entries.append((rel, "link:" + os.readlink(path), False))
            else:
                entries.append((rel, hashlib.sha256(path.read_bytes()).hexdigest(), os.access(path, os.X_OK)))
    for rel, digest, executable in sorted(entries):
        h.update(f"{rel}\0{digest}\0{int(executable)}\n".encode())
    return h.hexdigest()


def input_key(package: Package, package_dir_digest: str, argv: Sequence[str],
              dep_digests: Mapping[str, str], engine_identity: str) -> str:
    doc = {
        "package": package.full_name,
        "directory": package_dir_digest,
        "argv": list(argv),
        "sources": sorted((s.name, s.hash) for s in package.sources),
        "deps": {d: dep_digests[d] for d in package.deps},
        "engine": engine_identity,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
