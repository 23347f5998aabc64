"""What build and verify share around their builds: the selection as given, the engines of a run,
and what runs once the plan is known (doctor, fetch) and after a failure (the support bundle)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rebuildx.api.events import Events
from rebuildx.errors import RebuildxError, UsageError
from rebuildx.stagex.tree import Tree
from rebuildx.workspace import Workspace

if TYPE_CHECKING:
    from rebuildx.build.run import BuildOptions, BuildReport, FarmMember
    from rebuildx.doctor.preflight import DoctorReport
    from rebuildx.engine.builders import BuilderSpec
    from rebuildx.fetch import FetchOptions
    from rebuildx.stagex.plan import Plan
    from rebuildx.stagex.releases import ReleaseProfile


def words(selection: Sequence[str] | str | None) -> tuple[str, ...]:
    """A selection as a careless caller gives it: one name as a str (or `("core-hello")`, its
    comma forgotten) is that name, not its letters; None is everything."""
    if selection is None:
        return ()
    if isinstance(selection, str):
        return (selection,)
    words = tuple(selection)
    for word in words:
        if not isinstance(word, str):
            raise UsageError(f"selection: a package name is a string, not {word!r:.60}")
    return words


def at_least_one(name: str, value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise UsageError(f"{name}: {value!r:.40} is not a count; it must be at least 1")


@dataclass
class Run:
    """What one build or verify run learns before and around its builds (for the bundle)."""

    root: Path
    release: str | None
    doctor: DoctorReport | None = None

    def bundle(self, events: Events, *, report: BuildReport | None = None, error: str | None = None) -> None:
        from rebuildx.build.run import Status
        from rebuildx.doctor.preflight import support_bundle

        failed = next((r for r in report.results if r.status is Status.FAILED), None) if report else None
        path = support_bundle(self.root, ["rebuildx", *sys.argv[1:]], doctor=self.doctor, release=self.release,
                              failing_package=failed.package if failed else None,
                              failing_log=failed.log if failed else None,
                              error=error or (failed.error if failed else None),
                              failures=[(r.package, r.failure) for r in report.results if r.failure] if report else ())
        events.bundle(path)


def before_builds(run: Run, tree: Tree, ws: Workspace, options: BuildOptions, sources: FetchOptions,
            events: Events, *, release: str | None, engine: str = "buildx") -> Any:
    """What runs once the plan is known and the workspace is locked: doctor, then fetch."""
    from rebuildx.doctor.preflight import examine, require_healthy
    from rebuildx.state.history import History

    def before(plan: Plan) -> None:
        run.doctor = examine(tree.root, tree=tree, packages=plan.packages, release=release, cold=options.cold,
                             platform=options.platform, engine=engine)
        events.checked(run.doctor)
        require_healthy(run.doctor)
        fetch_first(ws, plan, sources, events)
        events.planned(plan, History(ws).durations(), sum(b.jobs for b in options.builders) or options.jobs)

    return before


def fetch_first(ws: Workspace, plan: Plan, options: FetchOptions, events: Events) -> None:
    """Every source of the plan in place before any build starts; all failures reported at once."""
    from rebuildx.fetch import fetch_sources

    with events.fetching() as progress:
        report = fetch_sources(ws, plan.packages, options, progress=progress)
    events.fetched(report)
    error = report.error()
    if error:
        raise error


def engine_for(ws: Workspace, name: str, profile: ReleaseProfile | None = None) -> tuple[Any, str, Workspace]:
    """(engine, its identity, the workspace it builds into) for `buildx` or `podman`; buildx runs
    the release's recipe (`profile`, default the newest)."""
    if name == "podman":
        from rebuildx.engine.podman import PodmanEngine, probe_podman

        pws = ws.for_engine("podman")
        return PodmanEngine(pws), f"podman {probe_podman()}", pws
    if name != "buildx":
        raise RebuildxError(f"--engine {name}: unknown engine (buildx or podman)")
    from rebuildx.engine.buildx import BuildxEngine
    from rebuildx.engine.check import require_engine
    from rebuildx.stagex.releases import NEWEST

    return BuildxEngine(ws, profile=profile or NEWEST), require_engine().identity, ws


def engines_for(ws: Workspace, builders: Sequence[BuilderSpec], jobs: int) -> tuple[Any, str, list[FarmMember]]:
    """The engine, its identity, and the farm of a run: the local Docker, or the builders named."""
    from rebuildx.build.run import connect_farm
    from rebuildx.engine.buildx import BuildxEngine
    from rebuildx.engine.check import require_engine

    if not builders:
        return BuildxEngine(ws), require_engine().identity, []
    farm, identity = connect_farm(ws, builders)
    return farm[0].engine, identity, farm


def rebased(engine: Any, farm: list[FarmMember], ws: Workspace) -> tuple[Any, list[FarmMember]]:
    """The same engines, writing into `ws` (the checkout, known only after the engines were checked)."""
    from rebuildx.build.run import FarmMember
    from rebuildx.engine.buildx import BuildxEngine

    farm = [FarmMember(m.name, BuildxEngine(ws, builder=m.spec), m.jobs, m.spec) for m in farm]
    return (farm[0].engine if farm else BuildxEngine(ws)), farm


def use_recipe(profile: ReleaseProfile, engine: Any, farm: Sequence[FarmMember]) -> None:
    """Every BuildKit engine of a run builds with the release's recipe (Podman has its own)."""
    for each in (engine, *(m.engine for m in farm)):
        if hasattr(each, "profile"):
            each.profile = profile


def tell_down(report: BuildReport, events: Events) -> None:
    for name in dict.fromkeys(report.down):
        lost = [r.package for r in report.lost if r.builder == name]
        events.warning(f"builder {name} stopped answering; marked down, probed again later; "
                       f"{len(lost)} build(s) ran again elsewhere ({', '.join(lost) or 'none'})")
