"""Rounds: build each selected package a second time and compare the two results.

The first round is the ordinary build (its result is in out/). The second builds each selected
package again from the same inputs — the deps are the out/ entries of the first round — always
with `--no-cache`, and on another builder than the first when the run has several, so that
neither a cache nor one machine's quirks can hide a difference. It never touches out/: its result
is compared with the first in a temporary directory and removed. Two different results make the
package UNSTABLE; explain's comparison of the pair names the files that differ.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rebuildx.build.outputs import new_build_dir, out_digest, workspace_lock
from rebuildx.build.placement import Farm, Fault
from rebuildx.build.run import BuildOptions, BuildReport, FarmMember, cancel_all, engine_answers
from rebuildx.build.scheduler import Listener, run_on_farm
from rebuildx.engine.base import BuildRequest, Engine
from rebuildx.errors import RebuildxError
from rebuildx.explain import ExplainError, LayoutSource, compare_images
from rebuildx.oci.digest import entry_digest
from rebuildx.oci.layout import check_layout
from rebuildx.stagex.tree import Tree
from rebuildx.workspace import Workspace

FILES_NAMED = 10  # files named in a verdict's note; the JSON report has them all


@dataclass(frozen=True)
class RoundResult:
    """The two rounds of one package."""

    package: str
    first: str | None  # digest of round 1 (the out/ entry)
    second: str | None  # digest of round 2 (None: it failed)
    first_builder: str | None
    second_builder: str | None
    files: tuple[tuple[str, str], ...] = ()  # (path, explain's class) of each file that differs
    classification: str | None = None  # explain's verdict on the pair
    error: str | None = None
    builder_down: bool = False

    @property
    def unstable(self) -> bool:
        return bool(self.first and self.second and self.first != self.second)

    @property
    def fault(self) -> Fault:
        if self.second:
            return Fault.NONE
        return Fault.DOWN if self.builder_down else Fault.FAILED

    def note(self) -> str:
        """One line for a verdict: what differs between the rounds, files first."""
        where = f" on {self.second_builder}" if self.second_builder and self.second_builder != self.first_builder else ""
        named = ", ".join(f"{path} ({kind})" for path, kind in self.files[:FILES_NAMED])
        more = f" and {len(self.files) - FILES_NAMED} more" if len(self.files) > FILES_NAMED else ""
        what = f"files differ: {named}{more}" if named else f"{self.classification or 'the images differ'}"
        return f"round 2{where} gave {self.second}, not {self.first}: {what}"

    def to_json(self) -> dict:
        return {"package": self.package, "first": self.first, "second": self.second,
                "first_builder": self.first_builder, "second_builder": self.second_builder,
                "unstable": self.unstable, "classification": self.classification,
                "files": [{"path": p, "difference": k} for p, k in self.files], "error": self.error}


def second_round(workspace: Workspace, tree: Tree, first: BuildReport, members: Sequence[FarmMember],
                 options: BuildOptions, *, listener: Listener | None = None) -> dict[str, RoundResult]:
    """Round 2 of every selected package that round 1 built; package -> its RoundResult."""
    names = [r.package for r in first.results if r.ok and r.package in set(first.plan.selected)]
    built_on = {r.package: r.builder for r in first.results}
    engines = {m.name: m.engine for m in members}
    several = len(members) > 1

    def run(name: str, builder: str) -> RoundResult:
        return _again(workspace, tree, name, builder, built_on.get(name), engines, options, several)

    avoid = {n: [b] for n, b in built_on.items() if several and b and n in names}
    with workspace_lock(workspace):
        schedule = run_on_farm(names, {n: [] for n in names}, run, lambda r: r.fault,
                               Farm({m.name: m.jobs for m in members}, policy=options.faults),
                               priority={}, keep_going=True, listener=listener, avoid=avoid,
                               probe=lambda b: engine_answers(engines[b]), abort=lambda: cancel_all(members))
    return dict(schedule.results)


def _again(ws: Workspace, tree: Tree, name: str, builder: str, first_builder: str | None,
           engines: Mapping[str, Engine], options: BuildOptions, probe: bool) -> RoundResult:
    first = out_digest(ws, name, check=False)
    dest = new_build_dir(ws, name)
    try:
        engine = engines[builder]
        outcome = engine.build(BuildRequest(tree.packages[name], dest, options.platform,
                                            no_cache=True, log_suffix=".round2"))
        if not outcome.ok:
            down = probe and not engine_answers(engine)
            return RoundResult(name, first, None, first_builder, builder, error=outcome.error, builder_down=down)
        try:
            check_layout(dest)
            second = entry_digest(dest)
        except (RebuildxError, OSError) as e:
            return RoundResult(name, first, None, first_builder, builder, error=f"round 2: {e}")
        if second == first:
            return RoundResult(name, first, second, first_builder, builder)
        return _explained(RoundResult(name, first, second, first_builder, builder), ws, dest)
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def _explained(result: RoundResult, ws: Workspace, second: Path) -> RoundResult:
    """The pair through explain: which files differ, and how."""
    try:
        with LayoutSource(ws.out_entry(result.package)) as one, LayoutSource(second) as two:
            diff = compare_images(one, two)
    except (ExplainError, RebuildxError, OSError) as e:
        return RoundResult(**{**result.__dict__, "classification": f"not explained: {e}"})
    files = tuple((f.name, f.classification or "?") for f in diff.files())
    return RoundResult(**{**result.__dict__, "files": files, "classification": diff.classification})


def unstable_notes(rounds: Mapping[str, RoundResult]) -> dict[str, str]:
    """package -> the note of its UNSTABLE verdict, for the packages whose rounds differ."""
    return {n: r.note() for n, r in rounds.items() if r.unstable}
