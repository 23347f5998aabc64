"""`rebuildx plan`: what a build of the selection would build, in order."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rebuildx.cli.options import console as make_console, tree_option
from rebuildx.model import DEFAULT_PLATFORM
from rebuildx.plan import Plan, make_plan
from rebuildx.tree import load_tree


@click.command()
@click.argument("selection", nargs=-1)
@tree_option
@click.option("--json", "as_json", is_flag=True, help="Print {\"packages\": [...]} in build order.")
@click.option("--only", is_flag=True, help="The selection alone, without its dependency closure.")
@click.option("--platform", default=DEFAULT_PLATFORM, show_default=True,
              help="Platform for packages that do not pin one.")
def plan(selection: tuple[str, ...], tree_dir: Path, as_json: bool, only: bool, platform: str) -> None:
    """List the packages to build for SELECTION (default: all) and its deps, deps first.

    SELECTION is `all`, a stage (`core`), a full name (`core-bash`) or an unambiguous short
    name (`bash`).
    """
    tree = load_tree(tree_dir)
    the_plan = make_plan(tree, selection, platform=platform, only=only)
    if as_json:
        click.echo(json.dumps(the_plan.to_json(), indent=1))
    else:
        _render(the_plan)


def _render(the_plan: Plan) -> None:
    from rich.table import Table

    console = make_console()
    table = Table(box=None, show_header=True, header_style="bold")
    for col in ("#", "package", "version", "platform", "deps"):
        table.add_column(col)
    for i, p in enumerate(the_plan.packages, start=1):
        table.add_row(str(i), p.full_name, p.version or "latest", p.platform(the_plan.platform), str(len(p.deps)))
    console.print(table)
    counts = ", ".join(f"{stage} {n}" for stage, n in sorted(the_plan.stage_counts().items()))
    length, path = the_plan.longest_path()
    console.print(f"{len(the_plan.packages)} packages ({counts})")
    console.print(f"longest path: {int(length)} packages: {' -> '.join(path)}")
