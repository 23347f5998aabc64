"""`rebuildx attest keygen|publish|check`: rebuilders' signed verdicts, published and counted k of n."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rebuildx.cli.options import RELEASE, tree_option


@click.group()
def attest() -> None:
    """Signed in-toto statements of verify's verdicts: make a key, publish them, check k of n."""


@attest.command()
@click.argument("keyfile", type=click.Path(dir_okay=False, path_type=Path))
def keygen(keyfile: Path) -> None:
    """Write a new Ed25519 key: KEYFILE (private, mode 0600) and KEYFILE.pub."""
    from rebuildx import api

    pub, keyid = api.attest_keygen(keyfile)
    click.echo(f"wrote {keyfile} (private, 0600) and {pub}; key id {keyid}")


@attest.command()
@click.option("--to", "to", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The published tree (created if missing); only ever appended to.")
@click.option("--from", "source", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The tree to publish (default: the checkout's .rebuildx/attestations).")
@tree_option
def publish(to: Path, source: Path | None, tree_dir: Path) -> None:
    """Append this checkout's signed statements to a static tree any HTTP server can serve."""
    from rebuildx import api

    done = api.attest_publish(source or api.attestations_dir(tree_dir), to)
    click.echo(f"published {done.appended} new envelopes from {done.files} files to {done.to}; index: {done.index}")


@attest.command()
@click.argument("selection", nargs=-1)
@click.option("--release", type=RELEASE, required=True, metavar="YYYY.MM.N")
@click.option("--from", "sources", multiple=True, required=True, metavar="DIR|URL",
              help="An attestation tree (directory or http(s) URL); repeat for several.")
@click.option("--trust", "trust", multiple=True, required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A trusted rebuilder's public key (KEYFILE.pub, or an armored OpenPGP export); repeat for each.")
@click.option("--threshold", "-k", type=click.IntRange(min=1), required=True,
              help="How many distinct trusted rebuilders must attest a MATCH.")
@click.option("--tree", "tree_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default="current directory", help="A StageX checkout with the release.")
@click.option("--published", "published_specs", multiple=True, metavar="SRC",
              help="Where the published digests are (as for compare; default: the release's ref in --tree).")
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as JSON.")
def check(selection: tuple[str, ...], release: str, sources: tuple[str, ...], trust: tuple[Path, ...],
          threshold: int, tree_dir: Path, published_specs: tuple[str, ...], as_json: bool) -> None:
    """Per package of SELECTION (default: all): AGREED when THRESHOLD trusted rebuilders attest the
    published digest reproduced, SHORT when fewer do, DISPUTED when one attests a MISMATCH, NONE."""
    from rebuildx import api
    from rebuildx.cli.options import console as make_console

    result = api.attest_check(tree_dir, release, selection, sources, list(trust), threshold, published_specs)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=1))
    else:
        console = make_console()
        for p in result.packages:
            line = f"{p.verdict.value:9} {p.package:32} {len(p.matched_by)} of {threshold}"
            for what, keys in (("MATCH", p.matched_by), ("MISMATCH", p.mismatched_by), ("FAILED", p.failed_by)):
                if keys:
                    line += f"; {what} by {', '.join(k[:16] for k in sorted(keys))}"
            console.print(line, markup=False)
            for why in p.rejected:
                console.print(f"          rejected: {why}", markup=False)
            for why in p.unreadable:
                if "not tried" not in why:  # the first failure of a source is shown, not every package after it
                    console.print(f"          unreadable: {why}", markup=False)
        c = result.counts()
        console.print(f"{len(result.packages)} packages, threshold {threshold} of {len(result.trusted)} trusted: "
                      f"{c['AGREED']} agreed, {c['SHORT']} short, {c['DISPUTED']} disputed, {c['NONE']} none")
    sys.exit(result.exit_code)
