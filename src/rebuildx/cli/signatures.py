"""`rebuildx signatures` (a release's maintainer quorum) and `rebuildx sign` (sign what was
reproduced here)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rebuildx.cli.options import RELEASE, console as make_console, tree_option

release_required = click.option("--release", type=RELEASE, required=True, metavar="YYYY.MM.N",
                                help="The release: its branch in the tree gives the digests and MAINTAINERS.")


@click.command()
@click.argument("selection", nargs=-1)
@tree_option
@release_required
@click.option("--sigs", "sigs", default=None, metavar="SRC",
              help="A signatures checkout (folder), `git:<dir>[#ref]` or a git URL (its release/<R> branch), "
                   "or an http(s) lookaside base (default: StageX's signatures repository).")
@click.option("--keyring", "keyrings", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="OpenPGP public keys to verify with (repeatable); no other key is used.")
@click.option("--trust", "trust", multiple=True, metavar="FPR",
              help="Also count signatures of this primary key fingerprint (repeatable).")
@click.option("--quorum", type=click.IntRange(min=1), default=2, show_default=True,
              help="Distinct trusted maintainers needed per package.")
@click.option("--published", "published_specs", multiple=True, metavar="SRC",
              help="Where the published digests are (as for compare; default: the release's branch).")
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as JSON.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write a JUnit XML report.")
def signatures(selection: tuple[str, ...], tree_dir: Path, release: str, sigs: str | None,
               keyrings: tuple[Path, ...], trust: tuple[str, ...], quorum: int, published_specs: tuple[str, ...],
               as_json: bool, junit: Path | None) -> None:
    """For each package of SELECTION (default: all published): QUORUM, UNDER_QUORUM, INVALID or
    UNSIGNED, from its signatures over the release's published digest. Exit 0 only when every
    package has its quorum."""
    from rebuildx import api
    from rebuildx.trust.signatures.present import problems, summary_line, table, write_junit

    report = api.check_signatures(api.SignaturesRequest(
        tree_dir=tree_dir, release=release, selection=selection, sigs=sigs, keyrings=keyrings, trust=trust,
        quorum=quorum, published=published_specs))
    if junit:
        write_junit(report, junit)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=1))
    else:
        console = make_console()
        console.print(table(report))
        for line in problems(report):
            console.print(line, markup=False, highlight=False)
        console.print(summary_line(report), markup=False, highlight=False)
    sys.exit(report.exit_code)


@click.command()
@click.argument("selection", nargs=-1)
@tree_option
@release_required
@click.option("--key", required=True, metavar="FPR", help="Your signing key (primary or subkey fingerprint).")
@click.option("--sigs", "sigs_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Your checkout of the signatures repository (files are added under stagex/).")
@click.option("--published", "published_specs", multiple=True, metavar="SRC",
              help="Where the published digests are (as for compare; default: the release's branch).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome per package as JSON.")
def sign(selection: tuple[str, ...], tree_dir: Path, release: str, key: str, sigs_dir: Path,
         published_specs: tuple[str, ...], as_json: bool) -> None:
    """Sign each package of SELECTION (default: all; no closure) whose last verify here MATCHed the release's
    published digest, as StageX's src/sign.sh does (the next free signature-N, never overwriting);
    refuse the others by name. Uses your own gpg and agent (GNUPGHOME), so smartcards work."""
    from rebuildx import api

    outcome = api.sign_signatures(api.SignRequest(tree_dir=tree_dir, release=release, selection=selection,
                                                  key=key, sigs_dir=sigs_dir, published=published_specs))
    if as_json:
        click.echo(json.dumps({"format": 1, "results": [r.to_json() for r in outcome.results]}, indent=1))
    else:
        for r in outcome.results:
            click.echo(f"{r.outcome.value:8} {r.package}: {r.detail}")
        click.echo(outcome.summary())
    sys.exit(outcome.exit_code)
