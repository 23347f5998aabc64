"""`rebuildx report`: the HTML page of a verify run, with the workspace's history."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--release", default=None, metavar="YYYY.MM.N",
              help="The release whose verify run to show (default: the newest report).")
@click.option("--html", "html", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the page (default: beside the JSON report, .rebuildx/reports/verify-<release>.html).")
@click.option("--tree", "tree_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="A StageX checkout (default: the current directory if it is one, else ./stagex).")
def report(release: str | None, html: Path | None, tree_dir: Path | None) -> None:
    """Write one self-contained HTML page of a verify run: verdicts, explanations, failures,
    the build timeline, the critical path, and the history of every run in this workspace."""
    from rebuildx import api

    click.echo(f"page: {api.report(tree_dir, release, html)}")
