"""`rebuildx plan`: what a build of the selection would build, in order."""

from __future__ import annotations

from pathlib import Path

import click

from rebuildx.cli.options import console as make_console, platform_option, tree_option


@click.command()
@click.argument("selection", nargs=-1)
@tree_option
@click.option("--json", "as_json", is_flag=True, help="Print {\"packages\": [...]} in build order.")
@click.option("--only", is_flag=True, help="The selection alone, without its dependency closure.")
@platform_option
def plan(selection: tuple[str, ...], tree_dir: Path, as_json: bool, only: bool, platform: str) -> None:
    """List the packages to build for SELECTION (default: all) and its deps, deps first.

    SELECTION is `all`, a stage (`core`), a full name (`core-bash`) or an unambiguous short
    name (`bash`).
    """
    from rebuildx import api

    result = api.plan(api.open_tree(tree_dir), selection, only=only, platform=platform)
    if as_json:
        from rebuildx.jsonout import dumps

        click.echo(dumps(result.plan.to_json(), indent=1))
    else:
        _render(result)


def _render(result) -> None:  # api.PlanResult
    from rich.table import Table

    the_plan, durations = result.plan, result.durations
    console = make_console()
    table = Table(box=None, show_header=True, header_style="bold")
    for col in ("#", "package", "version", "platform", "deps"):
        table.add_column(col)
    for i, p in enumerate(the_plan.packages, start=1):
        table.add_row(str(i), p.full_name, p.version or "latest", p.platform(the_plan.platform), str(len(p.deps)))
    console.print(table)
    counts = ", ".join(f"{stage} {n}" for stage, n in sorted(the_plan.stage_counts().items()))
    console.print(f"{len(the_plan.packages)} packages ({counts})")
    length, path = the_plan.longest_path()
    console.print(f"longest path: {int(length)} packages: {' -> '.join(path)}")
    if durations and all(n in durations for n in the_plan.names):
        seconds, timed = the_plan.longest_path(lambda n: durations[n])
        work = sum(durations[n] for n in the_plan.names)
        console.print(f"by recorded durations: longest path {seconds / 60:.1f} min "
                      f"({' -> '.join(timed)}), all work {work / 60:.1f} min")
