"""`rebuildx digests` and `rebuildx compare`: digest files as `make digests` writes them, and
verdicts against the published ones."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rebuildx.cli.options import RELEASE, console as make_console, tree_option

release_option = click.option("--release", type=RELEASE, default=None, metavar="YYYY.MM.N",
                              help="The release: picks the digest semantics (index before 2025.06.1; default: the "
                                   "checkout's release).")


@click.command()
@tree_option
@release_option
def digests(tree_dir: Path, release: str | None) -> None:
    """Write digests/<stage>.txt from out/, byte for byte as `make digests` does."""
    from rebuildx import api

    files = api.digests(api.open_tree(tree_dir), release)  # a typo'd --tree is an error, not a new digests/
    for _, path in sorted(files.items()):
        click.echo(f"> {path}")


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
    from rebuildx import api
    from rebuildx.compare.present import notes, summary_line, table, unified_diff, write_junit

    result = api.compare(api.open_tree(tree_dir), selection, published_specs or ("git:HEAD",),
                         release=release, any_out=any_out)
    if junit:
        write_junit(result.comparison, junit)
    if as_json:
        click.echo(json.dumps(result.comparison.to_json(), indent=1))
    elif as_diff:
        click.echo(unified_diff(result.published, result.local, result.names), nl=False)
    else:
        console = make_console()
        console.print(table(result.comparison))
        for line in notes(result.comparison):
            console.print(line, markup=False)
        console.print(summary_line(result.comparison))
    sys.exit(result.comparison.exit_code)
