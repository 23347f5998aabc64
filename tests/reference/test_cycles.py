"""A cycle is named by a Containerfile that is in it, however the search reaches it."""

from __future__ import annotations

import re

import pytest

from rebuildx.errors import PlanError
from rebuildx.stagex.graph import Graph
from rebuildx.stagex.tree import load_tree
from treegen import write_package


def _packages(tmp_path, edges: dict[str, list[str]]):
    for full, deps in edges.items():
        stage, name = full.split("-", 1)
        cf = "FROM scratch\n" + "".join(f"COPY --from=stagex/{d} . /\n" for d in deps)
        write_package(tmp_path, stage, name, f'[package]\nname = "{name}"\nversion = "1"\n', cf)
    return load_tree(tmp_path).packages


def cycle_error(tmp_path, edges) -> tuple[str, list[str]]:
    with pytest.raises(PlanError) as info:
        Graph.of(_packages(tmp_path, edges))
    message = str(info.value)
    m = re.fullmatch(r"packages/(\w+)/([\w-]+)/Containerfile: dependency cycle: (.*) \(each depends on the next, "
                     r"through FROM/COPY --from lines\)", message)
    assert m, message
    return f"{m[1]}-{m[2]}", m[3].split(" -> ")


@pytest.mark.parametrize("edges, ring", [
    # reached through a package outside the cycle, which sorts (and is searched) first
    ({"core-a": ["core-b"], "core-b": ["core-c"], "core-c": ["core-d"], "core-d": ["core-b"]},
     {"core-b", "core-c", "core-d"}),
    ({"core-a": ["core-z"], "core-m": ["core-a"], "core-z": ["core-y"], "core-y": ["core-z"]}, {"core-y", "core-z"}),
    ({"core-a": ["core-a"]}, {"core-a"}),
    # found only after a start that an earlier search already finished
    ({"core-a": ["core-b"], "core-b": [], "core-c": ["core-d"], "core-d": ["core-c"]}, {"core-c", "core-d"}),
    ({"bootstrap-a": [], "core-a": ["bootstrap-a", "user-q"], "user-q": ["user-r"], "user-r": ["core-a"]},
     {"core-a", "user-q", "user-r"}),
])
def test_the_named_containerfile_is_in_the_cycle(tmp_path, edges, ring):
    named, chain = cycle_error(tmp_path, edges)
    assert named in ring
    assert chain[0] == chain[-1] == named
    assert set(chain) == ring and len(chain) == len(ring) + 1
    for a, b in zip(chain, chain[1:], strict=False):
        assert b in edges[a], f"{a} does not depend on {b}"


def test_no_cycle_in_a_diamond(tmp_path):
    packages = _packages(tmp_path, {"core-a": ["core-b", "core-c"], "core-b": ["core-d"], "core-c": ["core-d"],
                                    "core-d": []})
    graph = Graph.of(packages)
    assert graph.dependents["core-d"] == ("core-b", "core-c")
    assert graph.deps["core-a"] == ("core-b", "core-c")


def test_a_missing_dep_of_a_package_without_line_numbers():
    from rebuildx.stagex.model import Package

    a = Package(stage="core", name="a", origin="a", version=None, platforms=(), sources=(), deps=("core-ghost",))
    with pytest.raises(PlanError) as info:
        Graph.of({"core-a": a})
    assert str(info.value) == ("packages/core/a/Containerfile: package core-a depends on stagex/core-ghost, "
                               "which is not a package of this tree")


def test_nothing_has_no_longest_path(tmp_path):
    graph = Graph.of(_packages(tmp_path, {"core-a": []}))
    assert graph.longest_path(set()) == (0.0, [])
    assert graph.order(set()) == [] and graph.closure([]) == set()
