"""StageX 2026.03.0's real 513-package graph against answers computed here, independently."""

from __future__ import annotations

import json
from functools import cache

import pytest

from rebuildx.stagex.graph import Graph
from rebuildx.stagex.plan import make_plan
from rebuildx.stagex.tree import load_tree
from shareddata import release_dir


@pytest.fixture(scope="module")
def edges() -> dict[str, list[str]]:
    data = json.loads((release_dir("2026.03.0") / "graph.json").read_text())
    return {f"{p['stage']}-{p['name']}": list(p["deps"]) for p in data["packages"]}


@pytest.fixture(scope="module")
def graph(graph_tree) -> Graph:
    return Graph.of(load_tree(graph_tree).packages)


def depth(edges: dict[str, list[str]]):
    """Packages on the longest chain ending at each package (its deps first): a plain DP."""
    @cache
    def d(name: str) -> int:
        return 1 + max((d(dep) for dep in edges[name]), default=0)
    return d


def test_longest_path_of_the_real_graph(graph, edges):
    d = depth(edges)
    longest = max(d(n) for n in edges)
    total, path = graph.longest_path(set(edges))
    assert total == float(longest) and len(path) == longest
    assert all(a in edges[b] for a, b in zip(path, path[1:], strict=False)), "each package must depend on the one before"
    assert edges[path[0]] == [] or d(path[0]) == 1
    assert d(path[-1]) == longest


def test_longest_path_within_one_closure(graph, edges):
    closure = graph.closure(["core-bash"])
    d = depth({n: [x for x in edges[n] if x in closure] for n in closure})
    total, path = graph.longest_path(closure)
    assert total == max(d(n) for n in closure) == len(path)
    assert set(path) <= closure and all(a in edges[b] for a, b in zip(path, path[1:], strict=False))


def test_weighted_longest_path_of_the_real_graph(graph, edges):
    weight = {n: float(1 + len(n) % 7) for n in edges}

    @cache
    def heaviest(name: str) -> float:
        return weight[name] + max((heaviest(dep) for dep in edges[name]), default=0.0)

    total, path = graph.longest_path(set(edges), weight.__getitem__)
    assert total == max(heaviest(n) for n in edges) == sum(weight[n] for n in path)
    assert all(a in edges[b] for a, b in zip(path, path[1:], strict=False))


def test_closures_of_the_real_graph(graph, edges):
    def reach(root: str) -> set[str]:
        seen, todo = set(), [root]
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo += edges[n]
        return seen

    for root in ["core-bash", "core-gcc", "core-busybox", "user-rust"] + sorted(edges)[::37]:
        if root in edges:
            assert graph.closure([root]) == reach(root), root
    assert graph.closure(["core-bash", "core-gcc"]) == reach("core-bash") | reach("core-gcc")


def test_order_of_the_real_graph(graph_tree, edges):
    names = make_plan(load_tree(graph_tree)).names
    assert sorted(names) == sorted(edges)
    pos = {n: i for i, n in enumerate(names)}
    assert all(pos[dep] < pos[n] for n in edges for dep in edges[n])


def test_real_shaped_containerfiles_give_the_same_graph(tmp_path, edges, graph_data):
    """Containerfiles laid out as StageX's (ARGs, heredoc RUN blocks, package stages) read to
    exactly graph.json's deps, as the dependency-only ones do."""
    from treegen import write_graph_tree

    write_graph_tree(tmp_path, graph_data, real_shaped=True)
    tree = load_tree(tmp_path)
    assert {name: list(p.deps) for name, p in tree.packages.items()} == edges


def test_weights_steer_the_order_and_the_selection_is_kept(tmp_path):
    from treegen import write_package

    for name, deps in {"a": [], "b": [], "c": ["core-a"], "d": ["core-b"]}.items():
        cf = "FROM scratch\n" + "".join(f"COPY --from=stagex/{d} . /\n" for d in deps)
        write_package(tmp_path, "core", name, f'[package]\nname = "{name}"\n', cf)
    tree = load_tree(tmp_path)
    assert make_plan(tree).names == ["core-a", "core-b", "core-c", "core-d"]
    heavy_d = make_plan(tree, weights={"core-d": 5.0})
    assert heavy_d.names == ["core-b", "core-d", "core-a", "core-c"]  # b heads the heavier chain
    assert heavy_d.longest_path(lambda n: {"core-d": 5.0}.get(n, 1.0)) == (6.0, ["core-b", "core-d"])
    plan = make_plan(tree, ["d", "core-c"], platform="linux/arm64")
    assert plan.selected == ("core-d", "core-c") and plan.platform == "linux/arm64"
    assert plan.names == ["core-a", "core-b", "core-c", "core-d"]
    assert make_plan(tree).platform == "linux/amd64" and make_plan(tree).selected == tuple(tree.packages)


def test_an_unknown_selection_suggests_close_names(tmp_path):
    import pytest

    from rebuildx.errors import PlanError
    from treegen import write_package

    for name in ("bash1", "bash2", "bash3", "bash4", "bash5", "zlib"):
        write_package(tmp_path, "core", name, f'[package]\nname = "{name}"\n', "FROM scratch\n")
    tree = load_tree(tmp_path)
    with pytest.raises(PlanError) as info:
        make_plan(tree, ["bashx"])
    hint = str(info.value).split("; did you mean ", 1)[1]
    assert str(info.value).startswith(f"selection 'bashx' is not a package or stage of {tmp_path}; did you mean ")
    assert hint.endswith("?") and len(hint[:-1].split(", ")) == 4
    assert set(hint[:-1].split(", ")) < {"bash1", "bash2", "bash3", "bash4", "bash5"}
    with pytest.raises(PlanError, match=r"selection 'al' is not a package or stage of .*; did you mean all\?$"):
        make_plan(tree, ["al"])
    with pytest.raises(PlanError, match=rf"^selection 'qqqqqq' is not a package or stage of {tmp_path}$"):
        make_plan(tree, ["qqqqqq"])
