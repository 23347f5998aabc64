"""`rebuildx verify` and `rebuildx status`: reproduce a release, and what the ledger knows of it."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from rebuildx.cli.options import (RELEASE, builder_options, console as make_console, engine_option,
                                  platform_option, rounds_option, sources_options)
from rebuildx.stagex.checkout import DEFAULT_REPO



def _tree_dir(tree: Path | None) -> Path:
    if tree is not None:
        return tree
    return Path(".") if (Path("packages").is_dir() and Path(".git").exists()) else Path("stagex")


@click.command()
@click.argument("selection", nargs=-1)
@click.option("--release", type=RELEASE, required=True, metavar="YYYY.MM.N", help="The release to reproduce.")
@click.option("--tree", "tree_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="A StageX checkout (default: the current directory if it is one, else ./stagex, cloned).")
@click.option("--repo", default=None, metavar="URL", help=f"Clone from here when there is no checkout "
              f"(default: {DEFAULT_REPO}).")
@click.option("--allow-dirty", is_flag=True, help="Verify a checkout with local changes or at another commit.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Concurrent builds.")
@click.option("--deps", type=click.Choice(["built", "published"]), default="built", show_default=True,
              help="built: build the closure cold; published: build each selected package against "
                   "its deps' published images.")
@click.option("--deps-from", "deps_from", default="docker.io/stagex", show_default=True, metavar="REGISTRY|DIR",
              help="With --deps published: where the published images are, a registry prefix (plain HTTP "
                   "for 127.0.0.1 and localhost) or a local directory of OCI layouts.")
@click.option("--explain-from", "explain_from", default=None, metavar="REGISTRY|DIR",
              help="Where to get the published image of each mismatch to explain it (default: --deps-from).")
@click.option("--no-explain", is_flag=True, help="Do not explain mismatches.")
@click.option("--published", "published_specs", multiple=True, metavar="SRC",
              help="Another source of the published digests to cross-check (URL, directory, or `forge`).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the JSON report (default: .rebuildx/reports/verify-<release>.json).")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Also write a JUnit XML report.")
@click.option("--sigs", default=None, metavar="SRC", help="Also check the maintainers' signatures from SRC "
              "(as `rebuildx signatures --sigs`); reported, not part of the exit code.")
@click.option("--keyring", "keyrings", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="With --sigs: OpenPGP public keys to verify with (repeatable).")
@click.option("--attest-key", "attest_key", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="KEYFILE", help="Sign each verdict as an in-toto statement into .rebuildx/attestations/ "
              "(a key from `rebuildx attest keygen`, or gpg:FINGERPRINT for an OpenPGP key in gpg's keyring).")
@platform_option
@engine_option
@sources_options
@builder_options
@rounds_option
def verify(selection: tuple[str, ...], release: str, tree_dir: Path | None, repo: str | None,
           allow_dirty: bool, jobs: int | None, deps: str, deps_from: str, explain_from: str | None,
           no_explain: bool, published_specs: tuple[str, ...], report_path: Path | None, junit: Path | None,
           attest_key: Path | None, platform: str, engine: str, sources_dir: Path | None,
           mirrors: tuple[str, ...], sigs: str | None, keyrings: tuple[Path, ...],
           builder_specs: tuple[str, ...], builders_files: tuple[Path, ...], rounds: int) -> None:
    """Reproduce RELEASE: check out, fetch, build cold, write digests, compare with the release's
    published digests. SELECTION (default: everything) is built with its closure."""
    from rebuildx import api
    from rebuildx.build.run import default_jobs
    from rebuildx.cli.progress import TerminalEvents
    from rebuildx.compare.present import notes, summary_line, table, write_junit
    from rebuildx.fetch import FetchOptions

    if attest_key:  # a flag combination no statement could be true of: refused before any work
        api.check_attest_options(allow_dirty=allow_dirty, engine=engine)
    request = api.VerifyRequest(
        release=release, tree_dir=_tree_dir(tree_dir), selection=selection, repo=repo or DEFAULT_REPO,
        allow_dirty=allow_dirty, jobs=jobs or default_jobs(), deps=deps, deps_from=deps_from,
        explain_from=explain_from, explain=not no_explain, published=published_specs, report_path=report_path,
        platform=platform, sources=FetchOptions(sources_dir=sources_dir, mirrors=mirrors), engine=engine,
        sigs=sigs, keyrings=keyrings, rounds=rounds,
        builders=api.builder_specs(builder_specs, builders_files) if builder_specs or builders_files else ())
    signer = api.attest_signer(attest_key) if attest_key else None  # a bad key fails before the run
    started = datetime.now(UTC)
    if engine == "podman":
        if deps == "published":
            raise click.UsageError("--engine podman builds the closure: it does not take --deps published")
        if sigs:
            raise click.UsageError("--engine podman does not check signatures: run `rebuildx signatures` after it")
        with TerminalEvents() as events:
            content = api.verify_content(request, events=events)
        _render_content(content, release)
        sys.exit(content.exit_code)
    with TerminalEvents() as events:
        outcome = api.verify(request, events=events)
    if junit:
        write_junit(outcome.comparison, junit)
    console = make_console()
    console.print(table(outcome.comparison))
    for line in notes(outcome.comparison):
        console.print(line, markup=False)
    console.print(summary_line(outcome.comparison))
    for r in outcome.build.results if outcome.build else []:
        if r.failure:  # why a FAILED package failed, and what to do
            console.print(f"failed {r.package}: {r.failure.summary()} — fix: {r.failure.fix}", markup=False)
    for package, why in outcome.explanations.items():
        console.print(f"explain {package}: {why.get('summary') or why.get('error')}")
    if outcome.signatures is not None:
        from rebuildx.trust.signatures.present import summary_line as signatures_line

        console.print(f"signatures: {signatures_line(outcome.signatures)}")
    checkout = outcome.checkout
    built_from = "" if checkout.head == checkout.commit and not checkout.dirty else (
        f"; BUILT FROM {checkout.head[:12]}{' with local changes' if checkout.dirty else ''} (--allow-dirty): "
        f"this does not verify the release")
    console.print(f"release {release} = {checkout.ref} at {checkout.commit[:12]}{built_from}; "
                  f"report: {outcome.report_path}" + (f", page: {outcome.page_path}" if outcome.page_path else ""))
    if signer:
        signed = api.attest_verify(outcome, signer, deps=deps, started=started)
        console.print(f"attested {signed.statements} verdicts into {signed.root}")
    sys.exit(outcome.exit_code)


def _render_content(content, release: str) -> None:  # api.ContentOutcome
    from rich.table import Table

    from rebuildx.verify.content import BY_CONSTRUCTION

    console = make_console()
    table = Table(box=None, header_style="bold")
    for col in ("package", "verdict", "vs BuildKit", "vs published", "note"):
        table.add_column(col)
    for row in content.result.rows:
        verdict = row.verdict.value if row.verdict else "FAILED"
        style = {"CONTENT_MATCH": "green", "CONTENT_DIFF": "bold red"}.get(verdict, "red")
        table.add_row(row.package, f"[{style}]{verdict}[/]",
                      row.vs_buildkit.summary() if row.vs_buildkit else "-",
                      row.vs_published.summary() if row.vs_published else "-", row.note or "")
    console.print(table)
    console.print(f"note: {BY_CONSTRUCTION}")
    counts = content.result.to_json()["counts"]
    console.print(f"{len(content.result.rows)} packages: {counts['CONTENT_MATCH']} content match, "
                  f"{counts['CONTENT_DIFF']} content differs, {counts['FAILED']} failed; release {release}; "
                  f"report: {content.report_path}")


@click.command()
@click.option("--release", type=RELEASE, required=True, metavar="YYYY.MM.N")
@click.option("--tree", "tree_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default="current directory", help="A StageX checkout.")
@click.option("--json", "as_json", is_flag=True)
def status(release: str, tree_dir: Path, as_json: bool) -> None:
    """What the ledger knows of RELEASE: chain-verified, matched, mismatched, failed, unverified."""
    from rebuildx import api

    state = api.status(api.open_tree(tree_dir), release)
    if as_json:
        click.echo(json.dumps({"release": release, "counts": state.counts(), "gaps": state.gaps,
                               "mismatched": state.mismatched, "failed": state.failed,
                               "unstable": state.unstable}, indent=1))
        return
    c = state.counts()
    click.echo(f"release {release}: {c['chain_verified']} chain-verified, {c['matched']} matched "
               f"(closure not all matched), {c['mismatched']} mismatched, {c['failed']} failed, "
               + (f"{c['unstable']} unstable, " if c["unstable"] else "") + f"{c['unverified']} unverified")
    for name, missing in sorted(state.gaps.items()):
        click.echo(f"  {name}: matched, but not yet: {', '.join(missing[:8])}{' …' if len(missing) > 8 else ''}")
    for name in state.mismatched:
        click.echo(f"  {name}: MISMATCH")
    for name in state.unstable:
        click.echo(f"  {name}: UNSTABLE (two builds differ)")
