"""`rebuildx fetch`: sources of a selection into fetch/<stage>/<origin>/, verified."""

from __future__ import annotations

from pathlib import Path

import click

from rebuildx.cli.options import sources_options, tree_option

_DIR = click.Path(file_okay=False, path_type=Path)
JOBS, PER_HOST = 8, 4  # fetch.Limits' defaults, named here so --help needs no HTTP library
MAX_SOURCE_BYTES = 1 << 30  # fetch.http.MAX_SOURCE_BYTES


@click.command()
@click.argument("selection", nargs=-1)
@tree_option
@click.option("--only", is_flag=True, help="The selection alone, without its dependency closure.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=JOBS, show_default=True,
              help=f"Downloads at once (at most {PER_HOST} per host).")
@sources_options
@click.option("--to", "to_dir", type=_DIR,
              help="Also copy the verified sources into this flat directory (for --sources).")
@click.option("--offline", is_flag=True, help="Never touch the network.")
@click.option("--rehash", is_flag=True, help="Hash files in place even if verified before.")
@click.option("--max-source-bytes", type=click.IntRange(min=1), default=MAX_SOURCE_BYTES, show_default=True,
              help="Bytes a download may write when the package.toml gives no `size` for the source "
                   "(a mirror sending more is cut off).")
def fetch(selection: tuple[str, ...], tree_dir: Path, only: bool, jobs: int, sources_dir: Path | None,
          mirrors: tuple[str, ...], to_dir: Path | None, offline: bool, rehash: bool, max_source_bytes: int) -> None:
    """Fetch every source of SELECTION (default: all) and its deps into fetch/.

    Files land in fetch/<stage>/<origin>/<file> as StageX's make expects, each checked against
    its package.toml sha256. Exits 1, listing every failure, if any source could not be had.
    """
    from rebuildx import api
    from rebuildx.cli.progress import TerminalEvents
    from rebuildx.fetch import FetchOptions, Limits

    options = FetchOptions(sources_dir=sources_dir, mirrors=mirrors, offline=offline, rehash=rehash,
                           limits=Limits(jobs=jobs, per_host=min(jobs, Limits().per_host),
                                         max_source_bytes=max_source_bytes))
    result = api.fetch(api.open_tree(tree_dir), selection, options, only=only, to=to_dir,
                       events=TerminalEvents(fetch_lines=click.echo))
    if result.collected is not None:
        click.echo(f"{to_dir}: {len(result.collected.written)} copied, {len(result.collected.kept)} already there")
    click.echo(result.report.summary())
    if result.error:
        raise result.error
