"""`rebuildx build`: a plan's packages through an engine, resumable, each out/ entry atomic.

Per package: compute its input key (inputs.py); keep a valid out/ entry whose recorded key is
unchanged; else build into a temporary directory and install it (outputs.py); record every
attempt (state.py). The scheduler (scheduler.py) decides what runs when, and on which of the
run's builders (placement.py): one engine, or several (`FarmMember`s), each an `Engine`.
"""

from __future__ import annotations

import enum
import os
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rebuildx.engine.base import BuildOutcome, BuildRequest, Engine
from rebuildx.engine.builders import BuilderSpec, farm_identity, probe_builder
from rebuildx.engine.buildx import BuildxEngine
from rebuildx.errors import RebuildxError
from rebuildx.build.failfacts import explain_error, explain_outcome, oom_kills
from rebuildx.build.failures import Failure, may_retry
from rebuildx.build.inputs import directory_digest, input_key
from rebuildx.stagex.model import DEFAULT_PLATFORM, Package
from rebuildx.build.outputs import (clean_leftovers, foreign_entries, install, new_build_dir, out_digest,
                              recorded_entry_ok, remove_entry, workspace_lock)
from rebuildx.stagex.checkout import tree_release
from rebuildx.stagex.plan import Plan, make_plan
from rebuildx.stagex.releases import NEWEST, PROFILES, ReleaseProfile, profile_for
from rebuildx.build.placement import Farm, Fault, FaultPolicy, speed_factors
from rebuildx.build.scheduler import Listener, run_on_farm
from rebuildx.state.history import History
from rebuildx.stagex.tree import Tree
from rebuildx.workspace import Workspace


class Status(enum.Enum):
    BUILT = "built"
    UP_TO_DATE = "up-to-date"
    FAILED = "failed"
    BLOCKED = "blocked"
    NOT_STARTED = "not started"


@dataclass(frozen=True)
class BuildResult:
    package: str
    status: Status
    digest: str | None = None
    seconds: float = 0.0
    log: Path | None = None
    error: str | None = None
    blocked_by: str | None = None
    builder: str | None = None  # the builder that ran it (None: up to date, nothing ran)
    builder_down: bool = False  # it failed because its builder stopped answering
    started: float | None = None  # when its build began (seconds since the epoch)
    failure: Failure | None = None  # a FAILED build's cause and fix
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.status in (Status.BUILT, Status.UP_TO_DATE)

    @property
    def fault(self) -> Fault:
        if self.ok:
            return Fault.NONE
        return Fault.DOWN if self.builder_down else Fault.FAILED


@dataclass(frozen=True)
class BuildOptions:
    jobs: int = 1
    cold: bool = False
    keep_going: bool = False
    force: bool = False  # rebuild the selection even when up to date
    only: bool = False  # the selection alone, not its closure
    platform: str = DEFAULT_PLATFORM
    rounds: int = 1  # 2: build each selected package a second time and compare (verify/rounds.py)
    builders: tuple[BuilderSpec, ...] = ()  # none: the local Docker, `jobs` at a time
    faults: FaultPolicy = FaultPolicy()


@dataclass(frozen=True)
class FarmMember:
    """One builder of a run: its name (in reports and the state DB), its engine, its slots."""

    name: str
    engine: Engine
    jobs: int = 1
    spec: BuilderSpec | None = None  # how it was named (--builder), when it was


@dataclass
class BuildReport:
    plan: Plan
    results: list[BuildResult] = field(default_factory=list)
    lost: list[BuildResult] = field(default_factory=list)  # attempts that ran again elsewhere
    down: list[str] = field(default_factory=list)  # builders that stopped answering during the run
    rounds: dict[str, Any] = field(default_factory=dict)  # package -> verify.rounds.RoundResult (--rounds 2)

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


def default_jobs() -> int:
    """Concurrent builds: StageX builds use every core themselves, so a few at most, and one
    per 8 GiB of memory."""
    cores = os.cpu_count() or 1
    try:
        mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem_gib = 8
    return max(1, min(cores // 4, int(mem_gib // 8)))


class Builder:
    """Builds single packages of one tree into one workspace, through one engine or one of
    `engines` (by builder name); `engine` computes the command line of the input key, which
    does not depend on where a package builds."""

    def __init__(self, workspace: Workspace, tree: Tree, engine: Engine, history: History,
                 engine_identity: str, options: BuildOptions, forced: Iterable[str] = (),
                 engines: Mapping[str, Engine] | None = None, probe: bool = False) -> None:
        self.ws, self.tree, self.engine, self.history = workspace, tree, engine, history
        self.engine_identity, self.options, self.forced = engine_identity, options, set(forced)
        self.engines = dict(engines or {"default": engine})
        self.probe = probe  # after a failure, ask the builder whether it still answers
        self._dir_digests: dict[str, str] = {}

    def key(self, package: Package) -> str:
        deps = {d: out_digest(self.ws, d, check=False) or "missing" for d in package.deps}
        origin = str(package.directory)
        if origin not in self._dir_digests:
            self._dir_digests[origin] = directory_digest(self.ws.root / package.directory)
        # --no-cache changes how, not what: a cold build and a warm one have one key
        argv = self.engine.command(BuildRequest(package, Path("-"), self.options.platform))
        return input_key(package, self._dir_digests[origin], argv, deps, self.engine_identity)

    def up_to_date(self, name: str, key: str, *, renew: bool = True) -> str | None:
        """The recorded digest of out/<name> when a build skips it: not forced, built from `key`,
        and still whole; None when it builds."""
        record = self.history.out_record(name)
        if name in self.forced or not record or record.input_key != key:
            return None
        return recorded_entry_ok(self.ws, self.history, name, renew=renew)

    def _request(self, package: Package, dest: Path) -> BuildRequest:
        return BuildRequest(package, dest, self.options.platform, no_cache=self.options.cold)

    def build(self, name: str, builder: str = "default") -> BuildResult:
        """Build one package on `builder`; whatever goes wrong is that package's FAILED result,
        with its cause named, and `builder_down` when the builder then does not answer a probe
        (the scheduler places it elsewhere). A failure the engine's state caused is tried again
        on the same builder when `may_retry` allows and the builder passes its smoke test
        (without which the second attempt would fail the same way)."""
        attempts = 0
        while True:
            attempts += 1
            result = self._attempt(name, builder)
            if (result.builder_down or result.failure is None or not may_retry(result.failure, attempts)
                    or not self._engine_answers(builder)):
                return replace(result, attempts=attempts)

    def _engine_answers(self, builder: str) -> bool:
        smoke = getattr(self.engines[builder], "smoke", None)
        return bool(smoke and smoke().ok)

    def _attempt(self, name: str, builder: str) -> BuildResult:
        try:
            result = self._build(name, builder)
        except (RebuildxError, OSError) as e:
            self.history.record_build(name, input_key=None, ok=False, digest=None, seconds=0.0,
                                      engine=self.engine_identity, log="", error=str(e), builder=builder)
            error = f"{type(e).__name__}: {e}"
            result = BuildResult(name, Status.FAILED, error=error, builder=builder, failure=explain_error(error))
        if result.ok or not self.probe:
            return result
        if engine_answers(self.engines[builder]):
            return result
        return replace(result, builder_down=True,
                       error=f"builder {builder} stopped answering ({result.error})")

    def _build(self, name: str, builder: str) -> BuildResult:
        package = self.tree.packages[name]
        key = self.key(package)
        digest = self.up_to_date(name, key)
        if digest:
            self.history.record_build(name, input_key=key, ok=True, digest=digest, seconds=None,
                                      engine=self.engine_identity, log="", error=None, builder=None)
            return BuildResult(name, Status.UP_TO_DATE, digest)
        dest = new_build_dir(self.ws, name)
        started, oom_before = time.time(), oom_kills()
        try:
            try:
                outcome = self.engines[builder].build(self._request(package, dest))
            except OSError as e:  # the engine's own I/O (staging fetch/, logs): this package fails
                outcome = BuildOutcome(name, False, time.time() - started, self.ws.logs / f"{name}.log",
                                       f"{type(e).__name__}: {e}")
            digest, error = None, outcome.error
            if outcome.ok:
                try:
                    digest = install(self.ws, self.history, name, dest, key)
                except RebuildxError as e:
                    error = str(e)
        finally:
            shutil.rmtree(dest, ignore_errors=True)
        size = _entry_bytes(self.ws.out_entry(name)) if digest else None
        self.history.record_build(name, input_key=key, ok=digest is not None, digest=digest,
                                  seconds=outcome.seconds, engine=self.engine_identity,
                                  log=str(outcome.log), error=error, started=started, size=size,
                                  builder=builder)
        if digest:
            return BuildResult(name, Status.BUILT, digest, outcome.seconds, outcome.log, builder=builder,
                               started=started)
        failure = (explain_outcome(outcome, self.engines[builder], oom_before) if not outcome.ok
                   else explain_error(error or ""))
        return BuildResult(name, Status.FAILED, None, outcome.seconds, outcome.log, error, builder=builder,
                           started=started, failure=failure)


def _entry_bytes(layout: Path) -> int:
    return sum(p.stat().st_size for p in layout.rglob("*") if p.is_file())


def stale_entries(workspace: Workspace, tree: Tree, engine_identity: str | None, names: Iterable[str],
                  platform: str = DEFAULT_PLATFORM, engine: Engine | None = None) -> list[str]:
    """Packages whose out/ entry rebuildx built from other inputs than the tree's now (another
    commit, changed files; with `engine_identity`, another engine too): a build would replace
    them. Without it, each entry is judged with the engine that built it, so no engine need
    answer (only its command line is computed). Without `engine`, an entry built with any
    release's recipe counts (`build --release`), the checkout's release's tried first."""
    engines = [engine] if engine else [BuildxEngine(workspace, profile=p) for p in _profiles_tree_first(tree)]
    history = History(workspace)
    stale = []
    for name in names:
        record = history.out_record(name)
        if not record or record.input_key.startswith("published:") or not workspace.out_entry(name).is_dir():
            continue
        identity = engine_identity or history.engine_of(name, record.input_key) or ""
        if name in tree.packages and all(
                Builder(workspace, tree, e, history, identity, BuildOptions(platform=platform))
                .key(tree.packages[name]) != record.input_key for e in engines):
            stale.append(name)
    return stale


def would_build(workspace: Workspace, tree: Tree, plan: Plan, options: BuildOptions, engine: Engine,
                engine_identity: str | None) -> dict[str, tuple[str, ...]]:
    """What `run_build` with `options` would build of `plan`, deps first: each package that builds
    whatever its deps do (forced by `--cold` or `--force`, never built, or built from other
    inputs) -> (); each one up to date now but with deps that would build -> those deps: it
    builds only if one of them comes out with another digest (a dep's digest is in its input
    key, and a reproducible rebuild keeps it). The packages not named are UP_TO_DATE. Nothing
    is written. Without `engine_identity` (no engine answers), an entry is judged with the
    engine that built it."""
    if not (workspace.state_dir / "state.sqlite").is_file():  # nothing built here yet; not created
        return {name: () for name in plan.names}
    history = History(workspace)
    forced = plan.names if options.cold else (plan.selected if options.force else ())
    builds: dict[str, tuple[str, ...]] = {}
    for name in plan.names:
        package, record = tree.packages[name], history.out_record(name)
        identity = engine_identity or (record and history.engine_of(name, record.input_key)) or ""
        builder = Builder(workspace, tree, engine, history, identity, options, forced)
        if not builder.up_to_date(name, builder.key(package), renew=False):
            builds[name] = ()
        elif any(d in builds for d in package.deps):
            builds[name] = tuple(d for d in package.deps if d in builds)
    return builds


def _profiles_tree_first(tree: Tree) -> list[ReleaseProfile]:
    try:
        first = profile_for(tree_release(tree.root))
    except RebuildxError:  # a release rebuildx does not build: nothing it built can be current
        first = NEWEST
    return [first, *(p for p in PROFILES if p is not first)]


def not_built_here(workspace: Workspace, tree: Tree) -> dict[str, str]:
    """out/ entries that prove nothing about this tree's sources as they are now, and why:
    entries rebuildx did not build here, entries built from other inputs, published images."""
    history = History(workspace)
    why = {n: "out/ entry not built by rebuildx here (preseeded, copied or changed)"
           for n in foreign_entries(workspace, history)}
    out = workspace.out
    entries = [e.name for e in out.iterdir() if e.is_dir() and e.name not in why] if out.is_dir() else []
    for name in stale_entries(workspace, tree, None, entries):
        why[name] = "out/ entry built from other inputs than this checkout (files changed since); rebuild it"
    for name in entries:
        record = history.out_record(name)
        if record and record.input_key.startswith("published:") and name not in why:
            why[name] = "out/ holds the published image (a dep of `verify --deps published`)"
        elif name not in why and recorded_entry_ok(workspace, history, name) is None:
            # its manifest still names the digest it was built with; its blobs no longer make that image
            why[name] = "out/ entry damaged since rebuildx built it (a blob missing or changed); rebuild it"
    return why


def _require_deps_in_out(workspace: Workspace, plan: Plan) -> None:
    """With --only, deps outside the selection must already be whole in out/."""
    outside = sorted({d for p in plan.packages for d in p.deps} - set(plan.names))
    missing = [d for d in outside if out_digest(workspace, d, check=False) is None]
    if missing:
        raise RebuildxError(f"--only: the deps {', '.join(missing)} are not in out/; build them first "
                            f"(or drop --only to build the closure)")


def run_build(workspace: Workspace, tree: Tree, words: Iterable[str], options: BuildOptions,
              engine: Engine, engine_identity: str, *, listener: Listener | None = None,
              before: Callable[[Plan], None] | None = None, farm: Sequence[FarmMember] = ()) -> BuildReport:
    """Plan the selection, then build it: cold, resumed, or incremental as `options` say.
    `before(plan)` runs first (the fetch step), so a missing source stops everything early.
    With `farm`, the builds run on its members (`engine` only computes command lines); else on
    `engine`, `options.jobs` at a time."""
    history = History(workspace)
    durations = history.durations()
    plan = make_plan(tree, words, platform=options.platform, weights=durations or None, only=options.only)
    with workspace_lock(workspace):
        if options.only:
            _require_deps_in_out(workspace, plan)
        if before:
            before(plan)
        clean_leftovers(workspace)
        if options.cold:
            foreign = foreign_entries(workspace, history)
            if foreign:
                raise RebuildxError(
                    f"--cold refuses to start: out/ holds entries rebuildx did not build for this tree "
                    f"({', '.join(foreign)}), e.g. from `make preseed` or another tool; remove them "
                    f"(rm -rf {' '.join('out/' + f for f in foreign)}) or build without --cold")
            for name in plan.names:
                remove_entry(workspace, history, name)
        forced = plan.names if options.cold else (plan.selected if options.force else ())
        members = list(farm) or [FarmMember("default", engine, options.jobs)]
        engines = {m.name: m.engine for m in members}
        builder = Builder(workspace, tree, engine, history, engine_identity, options, forced, engines,
                          probe=len(members) > 1)
        weight = (lambda n: durations.get(n, 1.0))
        priority = plan.graph.remaining_path(set(plan.names), weight)
        schedule = run_on_farm(
            plan.names, plan.graph.deps, builder.build, lambda r: r.fault,
            Farm({m.name: m.jobs for m in members}, speed_factors(history.builder_durations()), options.faults),
            priority=priority, keep_going=options.keep_going, listener=listener,
            abort=lambda: cancel_all(members), probe=lambda b: engine_answers(engines[b]))
    report = BuildReport(plan, lost=[r for rs in schedule.retried.values() for r in rs], down=schedule.down)
    for name in plan.names:
        if name in schedule.results:
            report.results.append(schedule.results[name])
        elif name in schedule.blocked:
            report.results.append(BuildResult(name, Status.BLOCKED, blocked_by=schedule.blocked[name]))
        else:
            why = f"builders {', '.join(sorted(set(schedule.down)))} stopped answering" if schedule.down else None
            report.results.append(BuildResult(name, Status.NOT_STARTED, error=why))
    return report


def cancel_all(members: Sequence[FarmMember]) -> None:
    """Stop every build running on the members (an interrupt)."""
    for m in members:
        cancel = getattr(m.engine, "cancel", None)
        if cancel:
            cancel()


def engine_answers(engine: Engine) -> bool:
    """Does the engine's builder answer now? (An engine that cannot tell is taken to.)"""
    answers = getattr(engine, "answers", None)
    return bool(answers()) if answers else True


def connect_farm(workspace: Workspace, specs: Sequence[BuilderSpec], *,
                 timeout: float | None = None) -> tuple[list[FarmMember], str]:
    """The builders of `specs`, each checked as doctor checks the local engine (an EngineError
    naming the first that cannot build), and the run's engine identity."""
    infos = [probe_builder(spec) for spec in specs]
    members = [FarmMember(s.name, BuildxEngine(workspace, timeout=timeout, builder=s), s.jobs, s) for s in specs]
    return members, farm_identity(infos)
