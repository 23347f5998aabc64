"""Fixtures for explain: two builds of one small tree with the real engine, and a real registry.

`built` writes the standard fixture tree twice, "local" and "published", adds three packages of
its own to each, and builds them (the published tree cold, so nothing comes from the cache):

- core-clock: one non-deterministic step (`date +%s%N > /etc/build-time`, plus a random nonce:
  busybox's date has no %N, and two builds can fall in one second), same Containerfile on both
  sides;
- core-perm: /usr/bin/hi is 0644 locally and 0755 in the published tree;
- core-split: the same files, in one layer locally and in two in the published tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from regserver import LocalRegistry
from rebuildx.build.run import BuildOptions, run_build
from rebuildx.engine.buildx import BuildxEngine
from rebuildx.engine.check import require_engine
from rebuildx.stagex.tree import load_tree
from rebuildx.workspace import Workspace
from treegen import write_fixture_tree, write_package

PACKAGES = ["core-clock", "core-perm", "core-split"]

CLOCK = '''FROM stagex/bootstrap-seed AS build
RUN --network=none mkdir -p /rootfs/etc && echo same > /rootfs/etc/same \\
 && date +%s%N > /rootfs/etc/build-time && head -c 8 /dev/urandom | od -An -tx1 >> /rootfs/etc/build-time

FROM scratch AS package
COPY --from=build /rootfs/ /
'''

PERM = '''FROM stagex/bootstrap-seed AS build
RUN --network=none mkdir -p /rootfs/usr/bin && printf '#!/bin/sh\\necho hi\\n' > /rootfs/usr/bin/hi \\
 && chmod {mode} /rootfs/usr/bin/hi

FROM scratch AS package
COPY --from=build /rootfs/ /
'''

SPLIT_BUILD = '''FROM stagex/bootstrap-seed AS build
RUN --network=none mkdir -p /rootfs/opt/a /rootfs/opt/b && echo alpha > /rootfs/opt/a/x \\
 && echo beta > /rootfs/opt/b/y

FROM scratch AS package
'''
SPLIT_ONE = "COPY --from=build /rootfs/ /\n"
SPLIT_TWO = "COPY --from=build /rootfs/opt/a/ /opt/a/\nCOPY --from=build /rootfs/opt/b/ /opt/b/\n"


def write_tree(root: Path, published: bool) -> Path:
    tree = write_fixture_tree(root)
    tree.prefill_fetch()
    toml = '[package]\nname = "{name}"\nversion = "1.0"\n'
    write_package(root, "core", "clock", toml.format(name="clock"), CLOCK)
    write_package(root, "core", "perm", toml.format(name="perm"), PERM.format(mode="0755" if published else "0644"))
    write_package(root, "core", "split", toml.format(name="split"),
                  SPLIT_BUILD + (SPLIT_TWO if published else SPLIT_ONE))
    return root


@dataclass(frozen=True)
class Built:
    local: Path  # a tree root (workspace) with out/<pkg>/
    published: Path  # another one, whose out/<pkg>/ play the published images

    def published_layout(self, package: str) -> Path:
        return self.published / "out" / package


def build_tree(root: Path, identity: str, cold: bool) -> None:
    ws = Workspace(root)
    report = run_build(ws, load_tree(root), PACKAGES, BuildOptions(jobs=2, cold=cold), BuildxEngine(ws), identity)
    assert report.ok, [(r.package, r.error) for r in report.results]


@pytest.fixture(scope="session")
def built(tmp_path_factory, engine) -> Built:
    identity = require_engine().identity
    base = tmp_path_factory.mktemp("explain")
    local, published = write_tree(base / "local", False), write_tree(base / "published", True)
    build_tree(local, identity, cold=False)
    build_tree(published, identity, cold=True)
    return Built(local, published)


@pytest.fixture
def registry():
    reg = LocalRegistry()
    yield reg
    reg.close()
