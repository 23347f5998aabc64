"""From a tree and a user's selection to a `Plan`: what to build, in which order (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from rebuildx.errors import PlanError
from rebuildx.stagex.graph import Graph
from rebuildx.stagex.model import DEFAULT_PLATFORM, Package, check_platform
from rebuildx.stagex.tree import Tree


@dataclass(frozen=True)
class Plan:
    """The packages to build, deps first, with the graph they were planned on."""

    packages: tuple[Package, ...]
    selected: tuple[str, ...]  # full names the user asked for (before closure)
    graph: Graph = field(repr=False)
    platform: str = DEFAULT_PLATFORM

    @property
    def names(self) -> list[str]:
        return [p.full_name for p in self.packages]

    def stage_counts(self) -> dict[str, int]:
        return dict(Counter(p.stage for p in self.packages))

    def longest_path(self, weight: Callable[[str], float] = lambda _: 1.0) -> tuple[float, list[str]]:
        return self.graph.longest_path(set(self.names), weight)

    def to_json(self) -> dict:
        """The `plan --json` document: packages in build order."""
        return {"packages": [package_json(p, self.platform) for p in self.packages]}


def package_json(p: Package, platform: str = DEFAULT_PLATFORM) -> dict:
    return {
        "name": p.full_name,
        "short_name": p.name,
        "stage": p.stage,
        "origin": p.origin,
        "subpackage": p.subpackage,
        "version": p.version,
        "version_from": p.version_from,
        "platform": p.platform(platform),
        "deps": list(p.deps),
        "sources": [
            {
                "name": s.name, "hash": s.hash, "version": s.version, "format": s.format,
                "git_sha": s.git_sha, "file": s.fetch_file(s.mirrors[0], p.toml_version),
                "urls": [s.fetch_url(m, p.toml_version) for m in s.mirrors],
            }
            for s in p.sources
        ],
    }


def resolve_selection(tree: Tree, words: Iterable[str]) -> list[str]:
    """Turn `all`, stage names, full names and unambiguous short names into full names."""
    words = list(words) or ["all"]
    chosen: dict[str, None] = {}
    stages = set(tree.stages)
    for word in words:
        if word == "all":
            chosen.update(dict.fromkeys(tree.packages))
        elif word in stages:
            chosen.update(dict.fromkeys(n for n, p in tree.packages.items() if p.stage == word))
        elif word in tree.packages:
            chosen[word] = None
        else:
            matches = tree.by_short_name(word)
            if len(matches) == 1:
                chosen[matches[0].full_name] = None
            elif matches:
                names = ", ".join(sorted(p.full_name for p in matches))
                raise PlanError(f"selection {word!r} is ambiguous: it names {names}; use a full name")
            else:
                raise PlanError(_unknown(word, tree))
    return list(chosen)


def _unknown(word: str, tree: Tree) -> str:
    import difflib  # only to name what a user may have meant

    vocabulary = ["all", *tree.stages, *tree.packages, *{p.name for p in tree.packages.values()}]
    close = difflib.get_close_matches(word, vocabulary, n=4, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"selection {word!r} is not a package or stage of {tree.root}{hint}"


def make_plan(tree: Tree, words: Iterable[str] = (), *, platform: str = DEFAULT_PLATFORM,
              graph: Graph | None = None, weights: Mapping[str, float] | None = None,
              only: bool = False) -> Plan:
    """Plan the selection and its dependency closure (or the selection alone with `only`); a
    malformed `platform` is a UsageError before anything is read."""
    check_platform(platform)
    graph = graph or Graph.of(tree.packages)
    selected = resolve_selection(tree, words)
    nodes = set(selected) if only else graph.closure(selected)
    weight = (lambda n: weights.get(n, 1.0)) if weights else (lambda _: 1.0)
    order = graph.order(nodes, weight)
    return Plan(tuple(tree.packages[n] for n in order), tuple(selected), graph, platform)
