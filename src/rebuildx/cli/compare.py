"""`rebuildx digests` and `rebuildx compare`: digest files as `make digests` writes them, and
verdicts against the published ones."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rebuildx.cli.options import console as make_console, tree_option
from rebuildx.compare import Comparison, compare
from rebuildx.digests import Semantics, local_digests, write_digests
from rebuildx.errors import RebuildxError
from rebuildx.build import stale_entries
from rebuildx.engine.buildx import BuildxEngine
from rebuildx.outputs import foreign_entries
from rebuildx.tree import Tree
from rebuildx.plan import make_plan
from rebuildx.published import STAGES, PublishedSource, cross_check, default_source
from rebuildx.report import summary_line, table, unified_diff, write_junit
from rebuildx.state import History
from rebuildx.tree import load_tree
from rebuildx.workspace import Workspace

release_option = click.option("--release", default=None, metavar="YYYY.MM.N",
                              help="The release: picks the digest semantics (index before 2025.06.1).")


@click.command()
@tree_option
@release_option
def digests(tree_dir: Path, release: str | None) -> None:
    """Write digests/<stage>.txt from out/, byte for byte as `make digests` does."""
    tree = load_tree(tree_dir)  # a typo'd --tree is an error, not a new empty digests/
    files = write_digests(Workspace(tree.root), Semantics.for_release(release))
    for _, path in sorted(files.items()):
        click.echo(f"> {path}")


def load_published(tree_root: Path, specs: tuple[str, ...], release: str | None = None) -> dict[str, str]:
    """Published digests from one or two sources; two are cross-checked, a disagreement is an error.
    `forge` stands for the release branch's raw files on StageX's forge."""
    if len(specs) > 2:
        raise RebuildxError("--published: give one or two sources")
    if "forge" in specs and not release:
        raise RebuildxError("--published forge needs --release YYYY.MM.N")
    specs = tuple(default_source(release).spec if s == "forge" and release else s for s in specs)
    stages = sorted(set(STAGES) | {p.name for p in (tree_root / "packages").iterdir() if p.is_dir()}) \
        if (tree_root / "packages").is_dir() else list(STAGES)
    loaded = [(s, PublishedSource(s).load(tree_root, stages)) for s in specs]
    if len(loaded) == 2:
        disagree = cross_check(loaded[0][1], loaded[1][1])
        if disagree:
            raise RebuildxError(f"the published sources {specs[0]} and {specs[1]} disagree on "
                                f"{len(disagree)} packages: " + "; ".join(disagree[:5]))
    return loaded[0][1]


def not_built_here(ws: Workspace, history: History, tree: Tree) -> dict[str, str]:
    """out/ entries that prove nothing about this tree's sources as they are now, and why."""
    why = {n: "out/ entry not built by rebuildx here (preseeded, copied or changed)"
           for n in foreign_entries(ws, history)}
    entries = [e.name for e in ws.out.iterdir() if e.is_dir() and e.name not in why] if ws.out.is_dir() else []
    for name in stale_entries(ws, tree, BuildxEngine(ws), None, entries):
        why[name] = "out/ entry built from other inputs than this checkout (files changed since); rebuild it"
    for entry in ws.out.iterdir() if ws.out.is_dir() else []:
        record = history.out_record(entry.name)
        if record and record.input_key.startswith("published:") and entry.name not in why:
            why[entry.name] = "out/ holds the published image (a dep of `verify --deps published`)"
    return why


def comparison_for(tree_dir: Path, selection: tuple[str, ...], published: dict[str, str],
                   release: str | None, any_out: bool = False) -> tuple[Comparison, dict[str, str], list[str]]:
    tree = load_tree(tree_dir)
    ws = Workspace(tree.root)
    local = local_digests(ws, Semantics.for_release(release))
    names = make_plan(tree, selection).names
    if not selection or list(selection) == ["all"]:
        names += sorted(n for n in published.keys() | local.keys() if n not in tree.packages)
    history = History(ws)
    failed = {n: e for n in names if (e := history.last_failure(n)) is not None}
    not_ours = {} if any_out else not_built_here(ws, history, tree)
    return compare(names, local, published, failed, not_ours=not_ours), local, names


@click.command(name="compare")
@click.argument("selection", nargs=-1)
@tree_option
@release_option
@click.option("--published", "published_specs", multiple=True, metavar="SRC",
              help="git:<ref>, a URL of a digests/ folder, a directory, or `forge` (the release "
                   "branch on StageX's forge); twice to cross-check (default: git:HEAD of the tree).")
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as JSON.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write a JUnit XML report.")
@click.option("--diff", "as_diff", is_flag=True, help="Print `diff -u published local`.")
@click.option("--any-out", is_flag=True, help="Also count out/ entries rebuildx did not build here (e.g. "
              "from StageX's make); by default they are NOT_BUILT, since they prove nothing.")
def compare_cmd(selection: tuple[str, ...], tree_dir: Path, release: str | None,
                published_specs: tuple[str, ...], as_json: bool, junit: Path | None, as_diff: bool,
                any_out: bool) -> None:
    """A verdict per package of SELECTION (default: all) and its closure: MATCH, MISMATCH,
    NOT_BUILT, UNPUBLISHED or FAILED. Exit 0 only when every one MATCHes."""
    published = load_published(tree_dir, published_specs or ("git:HEAD",), release)
    result, local, names = comparison_for(tree_dir, selection, published, release, any_out)
    if junit:
        write_junit(result, junit)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=1))
    elif as_diff:
        click.echo(unified_diff(published, local, names), nl=False)
    else:
        console = make_console()
        console.print(table(result))
        console.print(summary_line(result))
    sys.exit(result.exit_code)
