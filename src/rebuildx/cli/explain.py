"""`rebuildx explain`: why the published image of a package is not the local build.

Exit codes (exitcodes.py): 0 no difference, 3 differences, 1 error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rebuildx import exitcodes
from rebuildx.cli.options import tree_option
from rebuildx.errors import RebuildxError
from rebuildx.explain import (DiffoscopeOptions, ExplainOptions, Limits, explain as run_explain, open_source,
                              render_json, render_markdown, render_terminal)
from rebuildx.workspace import Workspace


def default_published(tree_dir: Path, package: str) -> str:
    """The published image by the digest the checkout's digests/ name (a tag can move); StageX's
    own tag (`stagex/<full>:<version>`) only when the checkout publishes no digest for it."""
    from rebuildx.published import PublishedSource
    from rebuildx.tree import load_tree

    found = load_tree(tree_dir).packages.get(package)
    if found is None:
        raise RebuildxError(f"{tree_dir}: no package {package!r} in the tree; give --published-image")
    try:
        digest = PublishedSource("git:HEAD").load(tree_dir, [found.stage]).get(package)
    except RebuildxError:
        digest = None
    if digest:
        return f"docker.io/stagex/{package}@sha256:{digest}"
    click.echo(f"rebuildx: warning: no published digest for {package} in {tree_dir}'s digests/; "
               f"taking the tag {found.version or 'latest'}, which may have moved", err=True)
    return f"docker.io/stagex/{package}:{found.version or 'latest'}"


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
@click.option("--platform", help="os/arch to compare (default: the local image's).")
@click.option("--max-layer-bytes", type=int, default=Limits().max_layer_bytes, show_default=True,
              help="Uncompressed bytes allowed per layer (decompression bombs stop here).")
def explain(package: str, tree_dir: Path, published: str | None, as_json: bool, as_markdown: bool,
            max_files: int, use_diffoscope: bool, platform: str | None, max_layer_bytes: int) -> None:
    """Compare the published image of PACKAGE (`core-bash`) with out/PACKAGE/, file by file."""
    if as_json and as_markdown:
        raise click.UsageError("--json and --markdown: choose one")
    from rebuildx.tree import load_tree

    if (Path(tree_dir) / "packages").is_dir() and package not in load_tree(tree_dir).packages:
        click.echo(f"rebuildx: error: no package {package!r} in {tree_dir} (a full name: core-bash)", err=True)
        sys.exit(exitcodes.ERROR)
    options = ExplainOptions(limits=Limits(max_layer_bytes=max_layer_bytes), platform=platform,
                             diffoscope=DiffoscopeOptions() if use_diffoscope else None)
    try:
        source = open_source(published or default_published(tree_dir, package))
        try:
            diff = run_explain(Workspace(tree_dir), package, source, options)
        finally:
            source.close()
    except RebuildxError as e:
        click.echo(f"rebuildx: error: {e}", err=True)
        sys.exit(exitcodes.ERROR)
    if as_json:
        click.echo(render_json(diff, max_files))
    elif as_markdown:
        click.echo(render_markdown(diff, max_files), nl=False)
    else:
        from rich.console import Console

        render_terminal(diff, Console(), max_files)
    sys.exit(exitcodes.OK if diff.identical else exitcodes.DIFFERS)
