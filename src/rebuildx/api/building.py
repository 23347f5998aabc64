"""fetch and build: sources into fetch/, images into out/, on one engine or a farm of builders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rebuildx.api.events import QUIET, Events
from rebuildx.api.planning import release_profile
from rebuildx.api.runs import (Run, at_least_one, before_builds, engine_for, engines_for, tell_down, use_recipe,
                               words)
from rebuildx.errors import BusyError, RebuildxError
from rebuildx.stagex.tree import Tree
from rebuildx.workspace import Workspace

if TYPE_CHECKING:
    from rebuildx.build.run import BuildOptions, BuildReport, FarmMember
    from rebuildx.engine.builders import BuilderSpec
    from rebuildx.fetch import FetchOptions, FetchReport
    from rebuildx.fetch.export import Collected


@dataclass(frozen=True)
class FetchResult:
    report: FetchReport
    collected: Collected | None = None  # with `to`: what was copied there

    @property
    def error(self) -> RebuildxError | None:
        return self.report.error()


def fetch(tree: Tree, selection: Sequence[str] = (), options: FetchOptions | None = None, *,
          only: bool = False, to: Path | None = None, events: Events = QUIET) -> FetchResult:
    """Every source of the selection (and its closure) into fetch/, verified; with `to`, also
    copied into a flat directory for an air-gapped machine. Failures are in the report."""
    from rebuildx.fetch import FetchOptions, collect_sources, fetch_sources
    from rebuildx.stagex.plan import make_plan

    options = options or FetchOptions()
    ws = Workspace(tree.root)
    packages = make_plan(tree, words(selection), only=only).packages
    with events.fetching() as progress:
        report = fetch_sources(ws, packages, options, progress=progress)
    collected = collect_sources(ws, report, to) if to is not None else None
    return FetchResult(report, collected)


def build(tree: Tree, selection: Sequence[str] = (), options: BuildOptions | None = None,
          sources: FetchOptions | None = None, *, release: str | None = None, events: Events = QUIET,
          engine: str = "buildx") -> BuildReport:
    """doctor, fetch, then build the selection and its closure into out/ as the release's make
    does (`release`: its recipe, as given, else the checkout's; see release_profile — a tree
    may be built with another release's recipe, so the checkout is not required to be at it;
    with `engine="podman"`: into .rebuildx/engines/podman/out/). A failed package is a FAILED
    result (and a support bundle), not an exception."""
    from rebuildx.build.run import BuildOptions, run_build
    from rebuildx.fetch import FetchOptions

    options, sources = options or BuildOptions(), sources or FetchOptions()
    at_least_one("jobs", options.jobs)
    selection = words(selection)
    if options.builders and engine != "buildx":
        raise RebuildxError(f"--builder names BuildKit builders: it does not go with --engine {engine}")
    profile = release_profile(tree, release, events=events)
    farm: list[FarmMember] = []
    if options.builders:
        ws = Workspace(tree.root)
        builder, identity, farm = engines_for(ws, options.builders, options.jobs)
    else:
        builder, identity, ws = engine_for(Workspace(tree.root), engine, profile)
    use_recipe(profile, builder, farm)
    run = Run(tree.root, release)
    try:
        report = run_build(ws, tree, selection, options, builder, identity, listener=events,
                           before=before_builds(run, tree, ws, options, sources, events, release=None, engine=engine),
                           farm=farm)
        tell_down(report, events)
        if options.rounds > 1:
            from rebuildx.build.run import FarmMember
            from rebuildx.verify.rounds import second_round

            report.rounds = second_round(ws, tree, report, farm or [FarmMember("default", builder, options.jobs)],
                                         options)
    except BusyError:
        raise  # another build holds the workspace: nothing failed
    except RebuildxError as e:  # doctor, fetch, --cold refusal: still worth a bundle
        run.bundle(events, error=str(e))
        raise
    if not report.ok:
        run.bundle(events, report=report)
    return report


def builder_specs(specs: Sequence[str] = (), files: Sequence[Path] = ()) -> tuple[BuilderSpec, ...]:
    """The builders of `--builder` SPECs and builders files (none: the local Docker); a bad one is
    an EngineError naming it."""
    from rebuildx.engine.builders import resolve_builders

    return tuple(resolve_builders(list(specs), list(files)))


def builders(specs: Sequence[BuilderSpec]) -> list[BuilderCheck]:
    """Each builder with doctor's engine checks run against it (answers, versions, image store)."""
    from rebuildx.engine.builders import probe_builder
    from rebuildx.errors import EngineError

    out = []
    for spec in specs:
        try:
            out.append(BuilderCheck(spec, probe_builder(spec).identity, None))
        except EngineError as e:
            out.append(BuilderCheck(spec, None, str(e)))
    return out


@dataclass(frozen=True)
class BuilderCheck:
    spec: BuilderSpec
    identity: str | None  # what it runs, when it can build
    problem: str | None  # why it cannot, with the fix
