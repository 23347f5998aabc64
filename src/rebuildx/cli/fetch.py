"""`rebuildx fetch`: sources of a selection into fetch/<stage>/<origin>/, verified."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from rebuildx.cli.options import sources_options, tree_option
from rebuildx.fetch import BarProgress, FetchOptions, FetchReport, Limits, LineProgress, collect_sources, fetch_sources
from rebuildx.model import Package
from rebuildx.plan import make_plan
from rebuildx.tree import load_tree
from rebuildx.workspace import Workspace

_DIR = click.Path(file_okay=False, path_type=Path)


@click.command()
@click.argument("selection", nargs=-1)
@tree_option
@click.option("--only", is_flag=True, help="The selection alone, without its dependency closure.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=Limits().jobs, show_default=True,
              help=f"Downloads at once (at most {Limits().per_host} per host).")
@sources_options
@click.option("--to", "to_dir", type=_DIR,
              help="Also copy the verified sources into this flat directory (for --sources).")
@click.option("--offline", is_flag=True, help="Never touch the network.")
@click.option("--rehash", is_flag=True, help="Hash files in place even if verified before.")
def fetch(selection: tuple[str, ...], tree_dir: Path, only: bool, jobs: int, sources_dir: Path | None,
          mirrors: tuple[str, ...], to_dir: Path | None, offline: bool, rehash: bool) -> None:
    """Fetch every source of SELECTION (default: all) and its deps into fetch/.

    Files land in fetch/<stage>/<origin>/<file> as StageX's make expects, each checked against
    its package.toml sha256. Exits 1, listing every failure, if any source could not be had.
    """
    tree = load_tree(tree_dir)
    packages = make_plan(tree, selection, only=only).packages
    options = FetchOptions(sources_dir=sources_dir, mirrors=mirrors, offline=offline, rehash=rehash,
                           limits=Limits(jobs=jobs, per_host=min(jobs, Limits().per_host)))
    workspace = Workspace(tree.root)
    report = run_fetch(workspace, packages, options)
    if to_dir is not None:
        collected = collect_sources(workspace, report, to_dir)
        click.echo(f"{to_dir}: {len(collected.written)} copied, {len(collected.kept)} already there")
    click.echo(report.summary())
    error = report.error()
    if error:
        raise error


def run_fetch(workspace: Workspace, packages: Sequence[Package], options: FetchOptions) -> FetchReport:
    """A bar on a terminal, plain lines otherwise."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        return fetch_sources(workspace, packages, options, progress=LineProgress(click.echo))
    with BarProgress(console) as bar:
        return fetch_sources(workspace, packages, options, progress=bar)
