"""Rounds on real builders: a package that differs from build to build is UNSTABLE, naming the file."""

from __future__ import annotations

import pytest

from farmgen import write_seed, write_step_package
from rebuildx.build.run import BuildOptions, connect_farm, run_build
from rebuildx.engine.builders import DEFAULT, parse_spec
from rebuildx.engine.buildx import BuildxEngine
from rebuildx.stagex.tree import load_tree
from rebuildx.verify.rounds import second_round
from rebuildx.workspace import Workspace

pytestmark = pytest.mark.engine


def rounds(root, specs):
    ws, tree = Workspace(root), load_tree(root)
    members, identity = connect_farm(ws, specs)
    options = BuildOptions(rounds=2)
    first = run_build(ws, tree, (), options, BuildxEngine(ws), identity, farm=members)
    assert first.ok
    return first, second_round(ws, tree, first, members, options)


def write_pair(root):
    write_seed(root)
    write_step_package(root, "stamp", [], "date +%s%N > /rootfs/usr/share/stamp/now")
    write_step_package(root, "steady", ["core-stamp"], "echo same > /rootfs/usr/share/steady/same")


@pytest.mark.parametrize("where", ["two builders", "one builder"])
def test_a_nondeterministic_step_is_unstable_naming_the_file(tmp_path, daemons, where):
    write_pair(tmp_path)
    specs = [parse_spec(f"{d.host},name={d.name}") for d in daemons] if where == "two builders" else [DEFAULT]
    first, second = rounds(tmp_path, specs)
    assert set(second) == {"bootstrap-seed", "core-stamp", "core-steady"}
    stamp, steady = second["core-stamp"], second["core-steady"]
    assert stamp.unstable and ("usr/share/stamp/now", "content") in stamp.files, stamp
    assert "usr/share/stamp/now (content)" in stamp.note()
    assert not steady.unstable and steady.second == steady.first
    assert not second["bootstrap-seed"].unstable
    if where == "two builders":
        assert all(r.first_builder != r.second_builder for r in second.values())
