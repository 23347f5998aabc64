"""plan, and the recipe a tree builds with: what a build would do, without an engine. Kept light:
`rebuildx plan` imports only this (bench/plan.py times it as a whole process)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rebuildx.api.events import QUIET, Events
from rebuildx.api.runs import words
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


def build_commands(tree: Tree, selection: Sequence[str] = (), options: BuildOptions | None = None, *,
                   release: str | None = None, events: Events = QUIET) -> list[tuple[str, list[str]]]:
    """`build --dry-run`: per package of the plan, deps first, the shell lines a build runs (the
    release's fetch/ links, then `docker buildx build … | tar`), as `make -n` prints them. Every
    package of the plan is listed, up to date or not; nothing runs, no engine is needed."""
    from rebuildx.build.run import BuildOptions
    from rebuildx.engine.base import BuildRequest
    from rebuildx.engine.buildx import BuildxEngine
    from rebuildx.stagex.plan import make_plan

    options = options or BuildOptions()
    ws = Workspace(tree.root)
    engine = BuildxEngine(ws, profile=release_profile(tree, release, events=events))
    plan = make_plan(tree, words(selection), platform=options.platform, only=options.only)
    return [(p.full_name, engine.steps(BuildRequest(p, ws.out_entry(p.full_name), options.platform,
                                                    no_cache=options.cold)))
            for p in plan.packages]
