"""`rebuildx doctor`: the machine and the checkout, each check with its fix."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rebuildx import exitcodes
from rebuildx.cli.options import RELEASE, platform_option, tree_option
from rebuildx.errors import RebuildxError


@click.command()
@click.argument("selection", nargs=-1)
@tree_option
@click.option("--release", type=RELEASE, default=None, metavar="YYYY.MM.N", help="Also check the checkout is this release.")
@click.option("--cold", is_flag=True, help="Check as for a cold build (BuildKit cache left over).")
@click.option("--air-gapped", is_flag=True, help="Do not check that mirrors are reachable.")
@click.option("--makefile", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="The tree's own generated Makefile (make out/targets.mk): compare rebuildx's build commands with it.")
@click.option("--targets-py", is_flag=True,
              help="Run the tree's own src/targets.py inside BuildKit and compare rebuildx's build commands with it.")
@platform_option
@click.option("--json", "as_json", is_flag=True)
def doctor(selection: tuple[str, ...], tree_dir: Path, release: str | None, cold: bool, air_gapped: bool,
           makefile: Path | None, targets_py: bool, platform: str, as_json: bool) -> None:
    """Check the machine and the checkout for SELECTION (default: all): one line per check, every
    failure with its fix. Exit 4 when a check fails."""
    if makefile and targets_py:
        raise click.UsageError("--makefile and --targets-py: choose one")
    from rebuildx import api
    from rebuildx.cli.progress import TerminalEvents

    try:
        report = api.doctor(api.open_tree(tree_dir), selection, release=release, cold=cold,
                            air_gapped=air_gapped, platform=platform, makefile=makefile, targets_py=targets_py,
                            events=TerminalEvents())
    except RebuildxError as e:
        if not as_json:
            raise
        click.echo(json.dumps({"error": str(e), "findings": []}, indent=1))  # a JSON reader gets JSON
        sys.exit(e.exit_code)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=1))
    else:
        for f in report.findings:
            click.echo(f.line())
    sys.exit(exitcodes.FAILED if report.failed else exitcodes.OK)
