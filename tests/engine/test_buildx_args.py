"""Golden argument lists: `docker buildx build` exactly as StageX 2026.03.0's generated Makefile
calls it (TARGET_TEMPLATE in src/targets.py), for each kind of package.

Regenerate with REBUILDX_REGOLD=1 only after checking the change against StageX's template: a
run that rewrites a golden file fails, so a comparison never passes against what it just wrote.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rebuildx.engine.buildx import BUILD_ENV, build_env, buildx_argv
from rebuildx.stagex.tree import load_tree
from treegen import write_fixture_tree

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("package", [
    "bootstrap-seed",    # FROM scratch, platform-pinned, one versioned source
    "core-hello",        # source without its own version: no *_SOURCE/*_VERSION args
    "core-tool-a",       # a subpackage: --target package-tool-a
    "pallet-hello-kit",  # version_from, several deps
    "core-pair",         # two sources, one with git_sha
])
def test_golden_argv(tmp_path, package):
    tree = load_tree(write_fixture_tree(tmp_path).root)
    argv = buildx_argv(tree.packages[package], "linux/amd64")
    golden = GOLDEN / f"{package}.json"
    expected = json.loads(golden.read_text()) if golden.exists() else None
    if os.environ.get("REBUILDX_REGOLD") and argv != expected:
        golden.write_text(json.dumps(argv, indent=1) + "\n")  # never compared with in this run
        pytest.fail(f"rewrote {golden.name}: review `git diff {golden.parent}`, then run again without REBUILDX_REGOLD")
    assert argv == expected


def test_cold_adds_no_cache_and_platform_choice(tmp_path):
    tree = load_tree(write_fixture_tree(tmp_path).root)
    argv = buildx_argv(tree.packages["core-hello"], "linux/arm64", no_cache=True)
    assert "--no-cache" in argv and "--platform=linux/arm64" in argv
    # a pinned package keeps its own platforms whatever is chosen
    assert "--platform=linux/amd64" in buildx_argv(tree.packages["bootstrap-seed"], "linux/arm64")


def test_exported_environment_is_global_mk():
    assert BUILD_ENV == {"TZ": "UTC", "LANG": "C.UTF-8", "LC_ALL": "C", "SOURCE_DATE_EPOCH": "1",
                         "BUILDKIT_MULTI_PLATFORM": "1", "DOCKER_BUILDKIT": "1"}
    env = build_env({"PATH": "/bin", "LC_ALL": "de_DE.UTF-8"})
    assert env["LC_ALL"] == "C" and env["PATH"] == "/bin"
