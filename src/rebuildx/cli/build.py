"""`rebuildx build`: build the selection and its closure as StageX's make would, in parallel."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rebuildx.build import BuildOptions, BuildReport, Status, default_jobs, run_build
from rebuildx.cli.doctor import preflight, support_bundle
from rebuildx.cli.fetch import run_fetch
from rebuildx.cli.options import sources_options, tree_option
from rebuildx.fetch import FetchOptions
from rebuildx.plan import Plan
from rebuildx.cli.progress import BuildProgress
from rebuildx.engine.buildx import BuildxEngine
from rebuildx.engine.check import require_engine
from rebuildx import exitcodes
from rebuildx.errors import RebuildxError
from rebuildx.outputs import BusyError
from rebuildx.model import DEFAULT_PLATFORM
from rebuildx.proc import tail_lines
from rebuildx.state import History
from rebuildx.tree import load_tree
from rebuildx.workspace import Workspace


@click.command()
@click.argument("selection", nargs=-1)
@tree_option
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Concurrent builds (default: from cores and memory).")
@click.option("--cold", is_flag=True, help="Clear the selection's out/ entries and build without any cache.")
@click.option("--keep-going", "-k", is_flag=True, help="After a failure, build everything that does not depend on it.")
@click.option("--force", is_flag=True, help="Rebuild the selection even when it is up to date.")
@click.option("--only", is_flag=True, help="The selection alone; its deps must already be in out/.")
@click.option("--platform", default=DEFAULT_PLATFORM, show_default=True,
              help="Platform for packages that do not pin one.")
@sources_options
def build(selection: tuple[str, ...], tree_dir: Path, jobs: int | None, cold: bool, keep_going: bool,
          force: bool, only: bool, platform: str, sources_dir: Path | None, mirrors: tuple[str, ...]) -> None:
    """Fetch the sources of SELECTION (default: all) and its dependency closure, then build it
    into out/ exactly as StageX's make does."""
    tree = load_tree(tree_dir)
    workspace = Workspace(tree.root)
    info = require_engine()
    options = BuildOptions(jobs=jobs or default_jobs(), cold=cold, keep_going=keep_going,
                           force=force, only=only, platform=platform)
    fetch_options = FetchOptions(sources_dir=sources_dir, mirrors=mirrors)

    checked: dict = {}

    def before(plan: Plan) -> None:
        preflight(tree.root, plan.packages, release=None, cold=cold, platform=platform, keep=checked)
        fetch_first(workspace, plan, fetch_options)
        progress.planned(plan, History(workspace).durations(), options.jobs)

    try:
        with BuildProgress() as progress:
            report = run_build(workspace, tree, selection, options, BuildxEngine(workspace), info.identity,
                               listener=progress, before=before)
    except BusyError:
        raise  # another build holds the workspace: nothing failed
    except RebuildxError as e:  # doctor, fetch, --cold refusal: still worth a bundle
        bundle_for(tree.root, None, checked.get("doctor"), release=None, error=str(e))
        raise
    _summarise(report)
    if not report.ok:
        bundle_for(tree.root, report, checked.get("doctor"), release=None)
        sys.exit(exitcodes.FAILED)


def bundle_for(root: Path, report: BuildReport | None, doctor: tuple | None, release: str | None,
               error: str | None = None) -> None:
    """The support bundle for the first failed package of a report, or for an error before it."""
    failed = next((r for r in report.results if r.status is Status.FAILED), None) if report else None
    facts, findings = doctor if doctor else (None, [])
    support_bundle(root, facts=facts, findings=findings, release=release,
                   error=error or (failed.error if failed else None),
                   failing_package=failed.package if failed else None, failing_log=failed.log if failed else None)


def fetch_first(workspace: Workspace, plan: Plan, options: FetchOptions) -> None:
    """Every source of the plan in place before any build starts; all failures reported at once."""
    report = run_fetch(workspace, plan.packages, options)
    click.echo(f"sources: {report.summary()}", err=True)
    error = report.error()
    if error:
        raise error


def _summarise(report: BuildReport) -> None:
    counts = ", ".join(f"{report.count(s)} {s.value}" for s in Status if report.count(s))
    click.echo(f"{len(report.results)} packages: {counts}")
    for r in report.results:
        if r.status is Status.FAILED:
            click.echo(f"FAILED {r.package}: {r.error}", err=True)
            for line in tail_lines(r.log, 15) if r.log else []:
                click.echo(f"  | {line}", err=True)
            if r.log:
                click.echo(f"  whole log: {r.log}", err=True)
        elif r.status is Status.BLOCKED:
            click.echo(f"BLOCKED {r.package}: its dep {r.blocked_by} failed", err=True)
