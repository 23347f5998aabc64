"""`rebuildx build`: build the selection and its closure as StageX's make would, in parallel."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rebuildx import exitcodes
from rebuildx.cli.options import RELEASE, builder_options, engine_option, platform_option, rounds_option, sources_options, tree_option


@click.command()
@click.argument("selection", nargs=-1)
@tree_option
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Concurrent builds (default: from cores and memory).")
@click.option("--cold", is_flag=True, help="Clear the selection's out/ entries and build without any cache.")
@click.option("--keep-going", "-k", is_flag=True, help="After a failure, build everything that does not depend on it.")
@click.option("--force", is_flag=True, help="Rebuild the selection even when it is up to date.")
@click.option("--only", is_flag=True, help="The selection alone; its deps must already be in out/.")
@click.option("--release", type=RELEASE, metavar="YYYY.MM.N", default=None,
              help="Build with this release's commands (default: the release the checkout is at, else the newest).")
@click.option("--dry-run", "-n", is_flag=True,
              help="Print the commands a build would run (as make -n): each package of the plan, those "
                   "that would not build marked `# up to date: out/<name>`; run nothing.")
@platform_option
@engine_option
@sources_options
@builder_options
@rounds_option
def build(selection: tuple[str, ...], tree_dir: Path, jobs: int | None, cold: bool, keep_going: bool,
          force: bool, only: bool, release: str | None, dry_run: bool, platform: str, engine: str,
          sources_dir: Path | None, mirrors: tuple[str, ...], builder_specs: tuple[str, ...],
          builders_files: tuple[Path, ...], rounds: int) -> None:
    """Fetch the sources of SELECTION (default: all) and its dependency closure, then build it
    into out/ exactly as the release's own make does."""
    from rebuildx import api
    from rebuildx.build.run import BuildOptions, default_jobs
    from rebuildx.cli.progress import TerminalEvents
    from rebuildx.fetch import FetchOptions

    tree = api.open_tree(tree_dir)
    options = BuildOptions(jobs=jobs or default_jobs(), cold=cold, keep_going=keep_going, force=force,
                           only=only, platform=platform, rounds=rounds,
                           builders=api.builder_specs(builder_specs, builders_files) if builder_specs or
                           builders_files else ())
    if dry_run:
        if engine != "buildx":
            raise click.UsageError("--dry-run prints buildx's commands (the release's Makefile's); not with --engine")
        for step in api.build_commands(tree, selection, options, release=release, events=TerminalEvents()):
            click.echo(step.heading())
            for line in step.lines:
                click.echo(line)
        return
    with TerminalEvents() as events:
        report = api.build(tree, selection, options, FetchOptions(sources_dir=sources_dir, mirrors=mirrors),
                           release=release, events=events, engine=engine)
    summarise(report)
    unstable = summarise_rounds(report.rounds) if rounds > 1 else 0
    if unstable:  # as in compare and verify: a difference found says more than a failed build
        sys.exit(exitcodes.UNSTABLE)
    if not report.ok:
        sys.exit(exitcodes.FAILED)


def summarise_rounds(rounds: dict) -> int:  # package -> verify.rounds.RoundResult
    """One line per package whose two rounds differ or whose second round failed; the count of
    UNSTABLE ones."""
    unstable = [r for r in rounds.values() if r.unstable]
    failed = [r for r in rounds.values() if r.second is None]
    click.echo(f"rounds: {len(rounds)} packages built twice: {len(rounds) - len(unstable) - len(failed)} stable, "
               f"{len(unstable)} UNSTABLE, {len(failed)} failed in round 2")
    for r in unstable:
        click.echo(f"UNSTABLE {r.package}: {r.note()}", err=True)
    for r in failed:
        click.echo(f"round 2 of {r.package} failed: {r.error}", err=True)
    return len(unstable)


def summarise(report) -> None:  # api.BuildReport
    """Counts per status, and each failure with the tail of its log."""
    from rebuildx.build.run import Status
    from rebuildx.proc import tail_lines

    counts = ", ".join(f"{report.count(s)} {s.value}" for s in Status if report.count(s))
    click.echo(f"{len(report.results)} packages: {counts}")
    for r in report.results:
        if r.status is Status.FAILED:
            on = f" on {r.builder}" if r.builder not in (None, "default") else ""
            click.echo(f"FAILED {r.package}{on}: {r.error}", err=True)
            if r.failure:
                tried = f" (tried {r.attempts} times)" if r.attempts > 1 else ""
                click.echo(f"  cause: {r.failure.summary()}{tried}", err=True)
                click.echo(f"  fix: {r.failure.fix}", err=True)
            for line in tail_lines(r.log, 15) if r.log else []:
                click.echo(f"  | {line}", err=True)
            if r.log:
                click.echo(f"  whole log: {r.log}", err=True)
        elif r.status is Status.BLOCKED:
            click.echo(f"BLOCKED {r.package}: its dep {r.blocked_by} failed", err=True)
        elif r.status is Status.NOT_STARTED and r.error:
            click.echo(f"NOT STARTED {r.package}: {r.error}", err=True)
