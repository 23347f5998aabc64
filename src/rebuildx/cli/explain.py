"""`rebuildx explain`: why the published image of a package is not the local build.

Exit codes (exitcodes.py): 0 no difference, 3 differences, 1 error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rebuildx import exitcodes
from rebuildx.cli.options import PlatformType, tree_option

MAX_LAYER_BYTES = 64 << 30  # explain.Limits' default, named here so --help needs no explain import


@click.command()
@click.argument("package")
@tree_option
@click.option("--published-image", "published", metavar="REF|DIR|TARBALL",
              help="The published image: a registry reference (best by digest), an OCI layout "
                   "directory, or a tarball of one (docker save). Default: docker.io/stagex/PKG@<the "
                   "digest in the checkout's digests/>.")
@click.option("--json", "as_json", is_flag=True, help="Print the versioned JSON document.")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print a Markdown report (support bundle).")
@click.option("--max-files", default=50, show_default=True, help="Differing files listed; the rest are counted.")
@click.option("--diffoscope", "use_diffoscope", is_flag=True,
              help="Run diffoscope on each file whose content differs.")
@click.option("--platform", type=PlatformType(several=False),
              help="os/arch[/variant] to compare (default: the local image's).")
@click.option("--max-layer-bytes", type=click.IntRange(min=1), default=MAX_LAYER_BYTES, show_default=True,
              help="Uncompressed bytes allowed per layer (decompression bombs stop here).")
def explain(package: str, tree_dir: Path, published: str | None, as_json: bool, as_markdown: bool,
            max_files: int, use_diffoscope: bool, platform: str | None, max_layer_bytes: int) -> None:
    """Compare the published image of PACKAGE (`core-bash`) with out/PACKAGE/, file by file."""
    if as_json and as_markdown:
        raise click.UsageError("--json and --markdown: choose one")
    from rebuildx import api
    from rebuildx.cli.progress import TerminalEvents
    from rebuildx.explain import (DiffoscopeOptions, ExplainOptions, Limits, render_json, render_markdown,
                                  render_terminal)

    options = ExplainOptions(limits=Limits(max_layer_bytes=max_layer_bytes), platform=platform,
                             diffoscope=DiffoscopeOptions() if use_diffoscope else None)
    diff = api.explain(tree_dir, package, published, options, events=TerminalEvents())
    if as_json:
        click.echo(render_json(diff, max_files))
    elif as_markdown:
        click.echo(render_markdown(diff, max_files), nl=False)
    else:
        from rich.console import Console

        render_terminal(diff, Console(), max_files)
    hint = None if diff.identical else api.release_hint(tree_dir, package)
    if hint:
        click.echo(f"rebuildx: hint: {package}: {hint}", err=True)
    sys.exit(exitcodes.OK if diff.identical else exitcodes.DIFFERS)
