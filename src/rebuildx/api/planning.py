"""plan, and the recipe a tree builds with: what a build would do, without an engine. Kept light:
`rebuildx plan` imports only this (bench/plan.py times it as a whole process)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from rebuildx.api.events import QUIET, Events
from rebuildx.api.runs import words
from rebuildx.errors import RebuildxError
from rebuildx.stagex.model import DEFAULT_PLATFORM
from rebuildx.stagex.model import check_platform as check_platform  # api.check_platform: --platform's rule
from rebuildx.stagex.tree import Tree, load_tree
from rebuildx.workspace import Workspace

if TYPE_CHECKING:
    from rebuildx.build.run import BuildOptions
    from rebuildx.stagex.plan import Plan
    from rebuildx.stagex.releases import ReleaseProfile


def open_tree(root: Path | str) -> Tree:
    """A StageX checkout, read as the release's own generator reads it."""
    return load_tree(root)


@dataclass(frozen=True)
class PlanResult:
    plan: Plan
    durations: dict[str, float]  # recorded build durations, where the workspace has a history


def plan(tree: Tree, selection: Sequence[str] = (), *, only: bool = False,
         platform: str = DEFAULT_PLATFORM) -> PlanResult:
    """The packages a build of `selection` would build, deps first, by recorded durations."""
    from rebuildx.stagex.plan import make_plan

    durations = _recorded_durations(Workspace(tree.root))
    return PlanResult(make_plan(tree, words(selection), platform=platform, only=only, weights=durations or None),
                      durations)


def _recorded_durations(ws: Workspace) -> dict[str, float]:
    """Build durations from the history, if this workspace has one (planning never creates it)."""
    if not (ws.state_dir / "state.sqlite").is_file():
        return {}
    from rebuildx.state.history import History

    return History(ws).durations()


def release_profile(tree: Tree, release: str | None = None, *, events: Events = QUIET) -> ReleaseProfile:
    """The recipe the tree's release builds with: `release` if given, else the release the
    checkout is at (a release tag or branch at HEAD), else the newest (with a warning)."""
    from rebuildx.stagex.checkout import tree_release
    from rebuildx.stagex.releases import profile_for, profile_warning

    release = release or tree_release(tree.root)
    profile = profile_for(release)
    warning = profile_warning(release)
    if warning:
        events.warning(warning)
    return profile


class BuildStep(NamedTuple):
    """One package of `build --dry-run`: the shell lines a build would run (none: up to date),
    and the deps whose new digest it waits on, when it builds only if one of them changes."""

    package: str
    lines: list[str]
    only_if_changed: tuple[str, ...] = ()

    @property
    def up_to_date(self) -> bool:
        return not self.lines

    def heading(self) -> str:
        """The comment line before its commands: `# <name>`, `# up to date: out/<name>`, or
        `# <name> (only if out/<dep> comes out changed)`."""
        if self.up_to_date:
            return f"# up to date: out/{self.package}"
        waits = ", ".join(f"out/{d}" for d in self.only_if_changed)
        return f"# {self.package}" + (f" (only if {waits} comes out changed)" if waits else "")


def build_commands(tree: Tree, selection: Sequence[str] = (), options: BuildOptions | None = None, *,
                   release: str | None = None, events: Events = QUIET) -> list[BuildStep]:
    """`build --dry-run`: every package of the plan, deps first, with the shell lines a build with
    `options` would run for it (the release's fetch/ links, then `docker buildx build … | tar`),
    as `make -n` prints them: only for what would build (build.run.would_build: forced, not up to
    date, or, only if its digest changes, a dep that builds); the others are up to date. Nothing
    runs or is written; an engine is asked its version only when the workspace has built before,
    and none is needed."""
    from rebuildx.build.run import BuildOptions, would_build
    from rebuildx.engine.base import BuildRequest
    from rebuildx.engine.buildx import BuildxEngine
    from rebuildx.stagex.plan import make_plan

    options = options or BuildOptions()
    ws = Workspace(tree.root)
    engine = BuildxEngine(ws, profile=release_profile(tree, release, events=events))
    plan = make_plan(tree, words(selection), platform=options.platform, only=options.only)
    builds = would_build(ws, tree, plan, options, engine, _engine_identity(ws))
    return [BuildStep(p.full_name, engine.steps(BuildRequest(p, ws.out_entry(p.full_name), options.platform,
                                                             no_cache=options.cold)), builds[p.full_name])
            if p.full_name in builds else BuildStep(p.full_name, []) for p in plan.packages]


def _engine_identity(ws: Workspace) -> str | None:
    """The local engine's identity (part of every input key) when the workspace has built before
    and an engine answers; None: entries are judged with the engine that built them."""
    if not (ws.state_dir / "state.sqlite").is_file():
        return None
    from rebuildx.engine.check import probe_engine

    try:
        return probe_engine().identity
    except RebuildxError:
        return None
