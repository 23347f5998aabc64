"""digests, compare and status: out/ as digest files, judged against the published ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rebuildx.api.runs import words
from rebuildx.errors import DigestError
from rebuildx.stagex.model import release_tuple
from rebuildx.stagex.tree import Tree
from rebuildx.workspace import Workspace

if TYPE_CHECKING:
    from rebuildx.compare.verdicts import Comparison
    from rebuildx.state.ledger import ReleaseStatus


def digests(tree: Tree, release: str | None = None) -> dict[str, Path]:
    """digests/<stage>.txt from out/, the bytes `make digests` writes for `release` (default: the
    release the checkout is at)."""
    from rebuildx.compare.digestfiles import write_digests
    from rebuildx.stagex.checkout import tree_release
    from rebuildx.stagex.releases import digest_semantics

    ws = Workspace(tree.root)
    written = write_digests(ws, digest_semantics(release or tree_release(tree.root)))
    if not written:
        raise DigestError(f"{ws.out}: no entries, so no digest file was written (digests/ is left as it "
                          f"is); build first")
    return written


@dataclass(frozen=True)
class CompareResult:
    comparison: Comparison
    local: dict[str, str]
    published: dict[str, str]
    names: list[str]  # the packages compared, in plan order


def compare(tree: Tree, selection: Sequence[str] = (), published: Sequence[str] = ("git:HEAD",), *,
            release: str | None = None, any_out: bool = False) -> CompareResult:
    """A verdict per package of the selection and its closure against the published digests.
    Only out/ entries rebuildx built here from this tree count, unless `any_out`."""
    from rebuildx.build.outputs import foreign_entries
    from rebuildx.build.run import not_built_here
    from rebuildx.compare.digestfiles import damaged_entries, local_digests
    from rebuildx.compare.published import load_published
    from rebuildx.compare.verdicts import compare as judge
    from rebuildx.stagex.checkout import tree_release
    from rebuildx.stagex.plan import make_plan
    from rebuildx.stagex.releases import digest_semantics
    from rebuildx.state.history import History

    selection = words(selection)
    theirs = load_published(tree.root, words(published), release)
    ws = Workspace(tree.root)
    semantics = digest_semantics(release or tree_release(tree.root))
    local = local_digests(ws, semantics)
    names = make_plan(tree, selection).names
    if not selection or list(selection) == ["all"]:
        names += sorted(n for n in theirs.keys() | local.keys() if n not in tree.packages)
    history = History(ws)
    failed = {n: e for n in names if (e := history.last_failure(n)) is not None}
    if any_out:  # others' entries count, once every blob of theirs is checked
        not_ours = damaged_entries(ws, [n for n in foreign_entries(ws, history) if n in local],
                                   semantics)
    else:
        not_ours = not_built_here(ws, tree)
    comparison = hinted(judge(names, local, theirs, failed, not_ours=not_ours), ws)
    return CompareResult(comparison, local, theirs, names)


def hinted(comparison: Comparison, ws: Workspace) -> Comparison:
    """Each MISMATCH whose files some release published (the checkout's history) noted so."""
    from rebuildx.compare.hints import with_release_hints
    from rebuildx.outcomes import Verdict
    from rebuildx.stagex.history import read_release_digests

    if not any(v.verdict is Verdict.MISMATCH for v in comparison.verdicts):
        return comparison
    return with_release_hints(comparison, ws, read_release_digests(ws.root))


def release_hint(tree_dir: Path, package: str) -> str | None:
    """For explain: "these files are the ones published in …" when out/<package> is what some
    release published (the checkout's history), else None."""
    from rebuildx.compare.hints import out_digests
    from rebuildx.stagex.history import cross_release_hint, read_release_digests

    ws = Workspace(tree_dir)
    return cross_release_hint(package, out_digests(ws, package), read_release_digests(ws.root))


def status(tree: Tree, release: str) -> ReleaseStatus:
    """What the ledger knows of a release: chain-verified, matched, mismatched, failed, unverified."""
    from rebuildx.stagex.graph import Graph
    from rebuildx.state.ledger import Ledger, release_status

    release_tuple(release)
    return release_status(Graph.of(tree.packages), list(tree.packages), Ledger(Workspace(tree.root)).latest(release))
