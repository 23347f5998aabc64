from __future__ import annotations

import pytest

from rebuildx.errors import PlanError
from rebuildx.stagex.graph import Graph
from rebuildx.stagex.plan import make_plan, resolve_selection
from rebuildx.stagex.tree import load_tree
from treegen import write_package


def _tree(tmp_path, edges: dict[str, list[str]]):
    for full, deps in edges.items():
        stage, name = full.split("-", 1)
        cf = "".join(f"COPY --from=stagex/{d} . /\n" for d in deps) or "FROM scratch\n"
        write_package(tmp_path, stage, name, f'[package]\nname = "{name}"\nversion = "1"\n', cf)
    return load_tree(tmp_path)


def test_closure_order_and_longest_path(tmp_path):
    tree = _tree(tmp_path, {"core-a": [], "core-b": ["core-a"], "core-c": ["core-b", "core-a"],
                            "user-d": ["core-a"], "user-e": []})
    plan = make_plan(tree, ["core-c"])
    assert plan.names == ["core-a", "core-b", "core-c"]
    assert plan.longest_path() == (3.0, ["core-a", "core-b", "core-c"])
    whole = make_plan(tree)
    pos = {n: i for i, n in enumerate(whole.names)}
    assert all(pos[d] < pos[p.full_name] for p in whole.packages for d in p.deps)
    assert whole.stage_counts() == {"core": 3, "user": 2}
    assert make_plan(tree, ["c"], only=True).names == ["core-c"]
    weighted = Graph.of(tree.packages).longest_path(set(tree.packages), lambda n: 10.0 if n == "user-e" else 1.0)
    assert weighted == (10.0, ["user-e"])


def test_selection_forms(tmp_path):
    tree = _tree(tmp_path, {"core-a": [], "core-b": [], "user-b": [], "user-c": []})
    assert resolve_selection(tree, []) == list(tree.packages)
    assert resolve_selection(tree, ["user"]) == ["user-b", "user-c"]
    assert resolve_selection(tree, ["a", "user-b"]) == ["core-a", "user-b"]
    with pytest.raises(PlanError, match=r"'b' is ambiguous: it names core-b, user-b"):
        resolve_selection(tree, ["b"])
    with pytest.raises(PlanError, match=r"'usr-c' is not a package or stage .*did you mean user-c"):
        resolve_selection(tree, ["usr-c"])


def test_missing_dep_names_both_and_the_line(tmp_path):
    tree = _tree(tmp_path, {"core-a": ["core-ghost"]})
    with pytest.raises(PlanError, match=r"packages/core/a/Containerfile:1: package core-a depends on "
                                        r"stagex/core-ghost, which is not a package"):
        make_plan(tree)


def test_cycle_is_named(tmp_path):
    tree = _tree(tmp_path, {"core-a": ["core-b"], "core-b": ["core-c"], "core-c": ["core-a"], "core-z": []})
    with pytest.raises(PlanError, match=r"packages/core/a/Containerfile: dependency cycle: core-a -> core-b -> core-c -> core-a"):
        make_plan(tree)


def test_real_release_graph(graph_tree, graph_data):
    """StageX 2026.03.0's 513 packages: deps exactly as graph.json, each after all its deps."""
    tree = load_tree(graph_tree)
    plan = make_plan(tree)
    expected = {f"{p['stage']}-{p['name']}": p["deps"] for p in graph_data["packages"]}
    assert len(plan.packages) == 513
    assert {p.full_name: list(p.deps) for p in plan.packages} == expected
    pos = {n: i for i, n in enumerate(plan.names)}
    assert all(pos[d] < pos[p.full_name] for p in plan.packages for d in p.deps)
    bash = make_plan(tree, ["core-bash"])
    assert len(bash.packages) == 26 and bash.names[-1] == "core-bash"
    assert make_plan(tree, ["bash"]).names == bash.names


def test_a_package_without_a_known_build_time_weighs_one(tmp_path):
    """Weights (seconds a package took last time) steer the order; a package with none counts as
    1.0, so one known to take 1.5 goes first and one known to take 0.5 last."""
    for name in ("a", "b", "c", "d"):
        write_package(tmp_path, "core", name, f'[package]\nname = "{name}"\n', "FROM scratch\n")
    plan = make_plan(load_tree(tmp_path), ["all"], weights={"core-c": 1.5, "core-a": 0.5})
    assert [p.full_name for p in plan.packages] == ["core-c", "core-b", "core-d", "core-a"]
