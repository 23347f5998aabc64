"""The library API: one function per use case, the only thing the CLI calls.

Each function takes a loaded `Tree` (or a path, for the verbs that may clone or need no tree)
and options objects, returns a typed result, and raises only `RebuildxError`s. What happens
while it runs (doctor's warnings, fetch progress, builds starting and finishing, a support
bundle written) is told to an `Events` object, so a terminal, a test or another program can
follow along; nothing here prints.

    from rebuildx import api
    tree = api.open_tree("stagex")
    result = api.verify(api.VerifyRequest(release="2026.03.0", tree_dir=tree.root, selection=("bootstrap-stage0",)))
    print(result.comparison.summary())
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rebuildx.errors import BusyError, DigestError, RebuildxError, UsageError
from rebuildx.stagex.checkout import DEFAULT_REPO
from rebuildx.stagex.model import DEFAULT_PLATFORM, release_tuple
from rebuildx.stagex.tree import Tree, load_tree
from rebuildx.trust.signatures.requests import SignaturesRequest, SignRequest
from rebuildx.workspace import Workspace

# The steps load where a use case needs them, so that `plan` starts without an HTTP client, a
# registry client or a terminal library (bench/plan.py times it as a whole process).
if TYPE_CHECKING:
    from rebuildx.build.run import BuildOptions, BuildReport, FarmMember
    from rebuildx.engine.builders import BuilderSpec
    from rebuildx.compare.verdicts import Comparison
    from rebuildx.doctor.preflight import DoctorReport
    from rebuildx.fetch import FetchOptions, FetchReport, Progress
    from rebuildx.fetch.export import Collected
    from rebuildx.stagex.checkout import Checkout
    from rebuildx.stagex.plan import Plan
    from rebuildx.stagex.releases import ReleaseProfile
    from rebuildx.state.ledger import ReleaseStatus
    from rebuildx.trust.signatures.run import SignSummary
    from rebuildx.trust.signatures.verdicts import SignatureReport
    from rebuildx.trust.attest.check import CheckResult
    from rebuildx.trust.attest.publish import Published
    from rebuildx.trust.attest.sign import Signed
    from securesystemslib.signer import Signer


__all__ = ["BuilderCheck", "CompareResult", "Events", "FetchResult", "PlanResult", "SignRequest", "SignaturesRequest", "VerifyOutcome",
           "VerifyRequest", "build", "builder_specs", "builders", "check_signatures", "compare", "digests", "doctor", "explain", "fetch", "open_tree",
           "plan", "report", "sign_signatures", "status", "verify",
           "attest_check", "attest_keygen", "attest_publish", "attest_signer", "attest_verify", "attestations_dir",
           "build_commands", "release_hint", "release_profile"]


class Events:
    """What a run tells its caller as it goes; every method does nothing unless overridden."""

    def checked(self, report: DoctorReport) -> None:
        """doctor ran before a build (its warnings are worth showing)."""

    @contextlib.contextmanager
    def fetching(self) -> Iterator[Progress]:
        """The progress sink for one fetch of sources."""
        from rebuildx.fetch import NullProgress

        yield NullProgress()

    def fetched(self, report: FetchReport) -> None:
        """Every source of the plan is in place (or the fetch failed and will raise)."""

    def planned(self, plan: Plan, durations: dict[str, float], jobs: int) -> None:
        """The builds are about to start."""

    def started(self, name: str) -> None:
        """A package's build started."""

    def finished(self, name: str, result: object) -> None:
        """A package's build ended (`result` is a BuildResult)."""

    def bundle(self, path: Path) -> None:
        """A support bundle was written after a failure."""

    def warning(self, message: str) -> None:
        """Something the user should know that does not stop the run."""


QUIET = Events()


def open_tree(root: Path | str) -> Tree:
    """A StageX checkout, read as the release's own generator reads it."""
    return load_tree(root)


def _words(selection: Sequence[str] | str | None) -> tuple[str, ...]:
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


def _at_least_one(name: str, value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise UsageError(f"{name}: {value!r:.40} is not a count; it must be at least 1")


# plan ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanResult:
    plan: Plan
    durations: dict[str, float]  # recorded build durations, where the workspace has a history


def plan(tree: Tree, selection: Sequence[str] = (), *, only: bool = False,
         platform: str = DEFAULT_PLATFORM) -> PlanResult:
    """The packages a build of `selection` would build, deps first, by recorded durations."""
    from rebuildx.stagex.plan import make_plan

    durations = _recorded_durations(Workspace(tree.root))
    return PlanResult(make_plan(tree, _words(selection), platform=platform, only=only, weights=durations or None),
                      durations)


def _recorded_durations(ws: Workspace) -> dict[str, float]:
    """Build durations from the history, if this workspace has one (planning never creates it)."""
    if not (ws.state_dir / "state.sqlite").is_file():
        return {}
    from rebuildx.state.history import History

    return History(ws).durations()


# fetch --------------------------------------------------------------------------------------

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
    packages = make_plan(tree, _words(selection), only=only).packages
    with events.fetching() as progress:
        report = fetch_sources(ws, packages, options, progress=progress)
    collected = collect_sources(ws, report, to) if to is not None else None
    return FetchResult(report, collected)


def _fetch_first(ws: Workspace, plan: Plan, options: FetchOptions, events: Events) -> None:
    """Every source of the plan in place before any build starts; all failures reported at once."""
    from rebuildx.fetch import fetch_sources

    with events.fetching() as progress:
        report = fetch_sources(ws, plan.packages, options, progress=progress)
    events.fetched(report)
    error = report.error()
    if error:
        raise error


# build --------------------------------------------------------------------------------------

@dataclass
class _Run:
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


def _before(run: _Run, tree: Tree, ws: Workspace, options: BuildOptions, sources: FetchOptions,
            events: Events, *, release: str | None, engine: str = "buildx") -> Any:
    """What runs once the plan is known and the workspace is locked: doctor, then fetch."""
    from rebuildx.doctor.preflight import examine, require_healthy
    from rebuildx.state.history import History

    def before(plan: Plan) -> None:
        run.doctor = examine(tree.root, tree=tree, packages=plan.packages, release=release, cold=options.cold,
                             platform=options.platform, engine=engine)
        events.checked(run.doctor)
        require_healthy(run.doctor)
        _fetch_first(ws, plan, sources, events)
        events.planned(plan, History(ws).durations(), sum(b.jobs for b in options.builders) or options.jobs)

    return before


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
    plan = make_plan(tree, _words(selection), platform=options.platform, only=options.only)
    return [(p.full_name, engine.steps(BuildRequest(p, ws.out_entry(p.full_name), options.platform,
                                                    no_cache=options.cold)))
            for p in plan.packages]


def _engine(ws: Workspace, name: str, profile: ReleaseProfile | None = None) -> tuple[Any, str, Workspace]:
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
    _at_least_one("jobs", options.jobs)
    selection = _words(selection)
    if options.builders and engine != "buildx":
        raise RebuildxError(f"--builder names BuildKit builders: it does not go with --engine {engine}")
    profile = release_profile(tree, release, events=events)
    farm: list[FarmMember] = []
    if options.builders:
        ws = Workspace(tree.root)
        builder, identity, farm = _engines(ws, options.builders, options.jobs)
    else:
        builder, identity, ws = _engine(Workspace(tree.root), engine, profile)
    _use_recipe(profile, builder, farm)
    run = _Run(tree.root, release)
    try:
        report = run_build(ws, tree, selection, options, builder, identity, listener=events,
                           before=_before(run, tree, ws, options, sources, events, release=None, engine=engine),
                           farm=farm)
        _tell_down(report, events)
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


def _engines(ws: Workspace, builders: Sequence[BuilderSpec], jobs: int) -> tuple[Any, str, list[FarmMember]]:
    """The engine, its identity, and the farm of a run: the local Docker, or the builders named."""
    from rebuildx.build.run import connect_farm
    from rebuildx.engine.buildx import BuildxEngine
    from rebuildx.engine.check import require_engine

    if not builders:
        return BuildxEngine(ws), require_engine().identity, []
    farm, identity = connect_farm(ws, builders)
    return farm[0].engine, identity, farm


def _rebased(engine: Any, farm: list[FarmMember], ws: Workspace) -> tuple[Any, list[FarmMember]]:
    """The same engines, writing into `ws` (the checkout, known only after the engines were checked)."""
    from rebuildx.build.run import FarmMember
    from rebuildx.engine.buildx import BuildxEngine

    farm = [FarmMember(m.name, BuildxEngine(ws, builder=m.spec), m.jobs, m.spec) for m in farm]
    return (farm[0].engine if farm else BuildxEngine(ws)), farm


def _use_recipe(profile: ReleaseProfile, engine: Any, farm: Sequence[FarmMember]) -> None:
    """Every BuildKit engine of a run builds with the release's recipe (Podman has its own)."""
    for each in (engine, *(m.engine for m in farm)):
        if hasattr(each, "profile"):
            each.profile = profile


def _tell_down(report: BuildReport, events: Events) -> None:
    for name in dict.fromkeys(report.down):
        lost = [r.package for r in report.lost if r.builder == name]
        events.warning(f"builder {name} stopped answering; marked down, probed again later; "
                       f"{len(lost)} build(s) ran again elsewhere ({', '.join(lost) or 'none'})")


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


# digests and compare ------------------------------------------------------------------------

def digests(tree: Tree, release: str | None = None) -> dict[str, Path]:
    """digests/<stage>.txt from out/, the bytes `make digests` writes for `release` (default: the
    release the checkout is at)."""
    from rebuildx.compare.digestfiles import write_digests
    from rebuildx.stagex.checkout import tree_release
    from rebuildx.stagex.releases import digest_semantics

    ws = Workspace(tree.root)
    written = write_digests(ws, digest_semantics(release or tree_release(tree.root)))
    if not written:
        raise DigestError(f"{ws.out}: no entries, so no digest file was written (digests/ is left as it "
                          f"is); build first")
    return written


@dataclass(frozen=True)
class CompareResult:
    comparison: Comparison
    local: dict[str, str]
    published: dict[str, str]
    names: list[str]  # the packages compared, in plan order


def compare(tree: Tree, selection: Sequence[str] = (), published: Sequence[str] = ("git:HEAD",), *,
            release: str | None = None, any_out: bool = False) -> CompareResult:
    """A verdict per package of the selection and its closure against the published digests.
    Only out/ entries rebuildx built here from this tree count, unless `any_out`."""
    from rebuildx.build.outputs import foreign_entries
    from rebuildx.build.run import not_built_here
    from rebuildx.compare.digestfiles import damaged_entries, local_digests
    from rebuildx.compare.published import load_published
    from rebuildx.compare.verdicts import compare as judge
    from rebuildx.stagex.checkout import tree_release
    from rebuildx.stagex.plan import make_plan
    from rebuildx.stagex.releases import digest_semantics
    from rebuildx.state.history import History

    selection = _words(selection)
    theirs = load_published(tree.root, _words(published), release)
    ws = Workspace(tree.root)
    semantics = digest_semantics(release or tree_release(tree.root))
    local = local_digests(ws, semantics)
    names = make_plan(tree, selection).names
    if not selection or list(selection) == ["all"]:
        names += sorted(n for n in theirs.keys() | local.keys() if n not in tree.packages)
    history = History(ws)
    failed = {n: e for n in names if (e := history.last_failure(n)) is not None}
    if any_out:  # others' entries count, once every blob of theirs is checked
        not_ours = damaged_entries(ws, [n for n in foreign_entries(ws, history) if n in local],
                                   semantics)
    else:
        not_ours = not_built_here(ws, tree)
    comparison = _hinted(judge(names, local, theirs, failed, not_ours=not_ours), ws)
    return CompareResult(comparison, local, theirs, names)


def _hinted(comparison: Comparison, ws: Workspace) -> Comparison:
    """Each MISMATCH whose files some release published (the checkout's history) noted so."""
    from rebuildx.compare.hints import with_release_hints
    from rebuildx.outcomes import Verdict
    from rebuildx.stagex.history import read_release_digests

    if not any(v.verdict is Verdict.MISMATCH for v in comparison.verdicts):
        return comparison
    return with_release_hints(comparison, ws, read_release_digests(ws.root))


def release_hint(tree_dir: Path, package: str) -> str | None:
    """For explain: "these files are the ones published in …" when out/<package> is what some
    release published (the checkout's history), else None."""
    from rebuildx.compare.hints import out_digests
    from rebuildx.stagex.history import cross_release_hint, read_release_digests

    ws = Workspace(tree_dir)
    return cross_release_hint(package, out_digests(ws, package), read_release_digests(ws.root))


# verify -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VerifyRequest:
    """Everything `verify` takes; the defaults are the seed's procedure for the whole tree."""

    release: str
    tree_dir: Path = Path("stagex")
    selection: tuple[str, ...] = ()
    repo: str = DEFAULT_REPO
    allow_dirty: bool = False
    jobs: int = 1
    deps: str = "built"  # or "published"
    deps_from: str = "docker.io/stagex"
    explain_from: str | None = None
    explain: bool = True
    published: tuple[str, ...] = ()  # more sources of the published digests, cross-checked
    report_path: Path | None = None
    platform: str = DEFAULT_PLATFORM
    sources: FetchOptions | None = None
    engine: str = "buildx"  # podman: built again with Podman and compared by content (verify_content)
    sigs: str | None = None  # also check the maintainers' signatures from here (see check_signatures)
    keyrings: tuple[Path, ...] = ()
    builders: tuple[BuilderSpec, ...] = ()  # none: the local Docker
    rounds: int = 1  # 2: each selected package built twice, UNSTABLE when the two differ

    def __post_init__(self) -> None:
        """str paths and a lone name are taken as meant; a value no run can use is refused here."""
        set_ = object.__setattr__
        set_(self, "tree_dir", Path(self.tree_dir))
        set_(self, "selection", _words(self.selection))
        set_(self, "published", _words(self.published))
        set_(self, "keyrings", tuple(Path(k) for k in ((self.keyrings,) if isinstance(self.keyrings, str | Path)
                                                        else self.keyrings)))
        _at_least_one("jobs", self.jobs)
        for name, allowed in (("deps", ("built", "published")), ("engine", ("buildx", "podman"))):
            if getattr(self, name) not in allowed:
                raise UsageError(f"{name}: {getattr(self, name)!r:.40} is not one of {', '.join(allowed)}")


@dataclass
class VerifyOutcome:
    checkout: Checkout
    comparison: Comparison
    build: BuildReport | None
    report_path: Path
    explanations: dict[str, dict] = field(default_factory=dict)
    signatures: SignatureReport | None = None  # with `sigs`; they do not change the exit code
    page_path: Path | None = None  # the HTML page beside the report (None: it could not be written)

    @property
    def exit_code(self) -> int:
        return self.comparison.exit_code


def verify(request: VerifyRequest, *, events: Events = QUIET) -> VerifyOutcome:
    """The seed's whole reproduction of a release as one run: checkout, doctor, fetch, cold
    build (closure, or against published deps), digests, comparison, explanations, JSON report."""
    from rebuildx import exitcodes
    from rebuildx.build.run import BuildOptions
    from rebuildx.compare.published import load_published
    from rebuildx.verify.deps import dep_source
    from rebuildx.verify.explain import explain_mismatches, published_image_spec
    from rebuildx.verify.report import write_report
    from rebuildx.fetch import FetchOptions
    from rebuildx.outcomes import Verdict
    from rebuildx.stagex.checkout import prepare
    from rebuildx.verify.run import VerifyOptions, verify_closure, verify_published_deps

    release_tuple(request.release)
    _report_writable(request.report_path)
    started = time.time()
    probe_ws = Workspace(request.tree_dir)  # the engines only need it for logs, once the checkout exists
    engine, identity, farm = _engines(probe_ws, request.builders, request.jobs)
    checkout = prepare(request.tree_dir, request.release, repo=request.repo, allow_dirty=request.allow_dirty)
    published = load_published(checkout.root, (f"git:{checkout.commit}", *request.published), request.release)
    ws = Workspace(checkout.root)
    tree = load_tree(checkout.root)
    options = VerifyOptions(selection=request.selection, jobs=request.jobs, platform=request.platform,
                            rounds=request.rounds)
    build_options = BuildOptions(jobs=request.jobs, cold=True, platform=request.platform)
    run = _Run(checkout.root, request.release)
    before = _before(run, tree, ws, build_options, request.sources or FetchOptions(), events,
                     release=None if request.allow_dirty else request.release)
    engine, farm = _rebased(engine, farm, ws)
    _use_recipe(release_profile(tree, request.release, events=events), engine, farm)
    try:
        if request.deps == "published":
            result = verify_published_deps(checkout, published, options, engine, identity,
                                           dep_source(request.deps_from), before=before, listener=events,
                                           farm=farm)
        else:
            result = verify_closure(checkout, published, options, engine, identity, before=before,
                                    listener=events, farm=farm)
        if result.build:
            _tell_down(result.build, events)
    except BusyError:
        raise
    except RebuildxError as e:  # doctor, fetch, published deps: still worth a bundle
        run.bundle(events, error=str(e))
        raise
    result.comparison = _hinted(result.comparison, ws)
    if request.explain and result.comparison.exit_code == exitcodes.DIFFERS:
        result.extra["explanations"] = explain_mismatches(
            ws, result.comparison, published_image_spec(request.explain_from or request.deps_from))
    signatures = _verify_signatures(request, checkout.root, result.extra, events) if request.sigs else None
    result.extra.update(_run_facts(identity, started))
    path = write_report(result, request.report_path or ws.state_dir / "reports" / f"verify-{request.release}.json")
    page = _write_page(ws, path, events)
    if result.comparison.exit_code != exitcodes.OK:
        mismatched = [v.package for v in result.comparison.verdicts if v.verdict in (Verdict.MISMATCH,
                                                                                      Verdict.UNSTABLE)]
        run.bundle(events, report=result.build,
                   error=f"MISMATCH: {', '.join(mismatched)} (see {path})" if mismatched else None)
    return VerifyOutcome(checkout, result.comparison, result.build, path, result.extra.get("explanations", {}),
                         signatures, page)


def _report_writable(path: Path | None) -> None:
    """A --report that cannot be written is said before hours of builds, not after them."""
    if path is None:
        return
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "a folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        if not os.access(path.parent, os.W_OK):
            raise PermissionError(13, "its folder is not writable")
    except OSError as e:
        raise RebuildxError(f"{path}: cannot write the report: {e.strerror or e}") from e


def _verify_signatures(request: VerifyRequest, root: Path, extra: dict, events: Events) -> SignatureReport | None:
    """The selection's signature verdicts, into the report; a source that fails is told, not fatal."""
    try:
        report = check_signatures(SignaturesRequest(root, request.release, request.selection, sigs=request.sigs,
                                                    keyrings=request.keyrings))
    except RebuildxError as e:
        extra["signatures"] = {"error": str(e)}
        events.warning(f"signatures not checked: {e}")
        return None
    extra["signatures"] = report.to_json()
    return report


def _run_facts(engine_identity: str, started: float) -> dict[str, Any]:
    """What the report says of the run besides its verdicts: when, on what machine, which engine."""
    import os
    import platform

    try:
        memory = f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"
    except (ValueError, OSError):
        memory = "?"
    return {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "machine": {"host": platform.node(), "arch": platform.machine(), "cpus": os.cpu_count() or 0,
                        "memory": memory, "kernel": platform.release()},
            "engine": engine_identity}


def _write_page(ws: Workspace, report: Path, events: Events) -> Path | None:
    """The HTML page beside the JSON report; a page that cannot be written loses no verdict."""
    from rebuildx.report import write_page

    try:
        return write_page(ws, report)
    except RebuildxError as e:
        events.warning(f"the HTML report was not written: {e}")
        return None


# report -------------------------------------------------------------------------------------

def report(tree_dir: Path | None = None, release: str | None = None, html: Path | None = None) -> Path:
    """The HTML page of a verify run (of `release`, else the newest), with the workspace's
    history; at `html`, else beside the run's JSON report. Returns where it was written.
    Without `tree_dir`, the checkout verify would use: the current directory, else ./stagex."""
    from rebuildx.report import find_report, write_page

    if release is not None:
        release_tuple(release)
    if tree_dir is None:
        tree_dir = Path(".") if Path("packages").is_dir() and Path(".git").exists() else Path("stagex")
    ws = Workspace(tree_dir)
    return write_page(ws, find_report(ws, release), html)


def verify_content(request: VerifyRequest, *, events: Events = QUIET) -> ContentOutcome:
    """`verify --engine podman`: the selection built with BuildKit (when missing) and with Podman,
    compared by content with each other and with the published images where reachable."""
    from rebuildx.build.run import BuildOptions
    from rebuildx.compare.published import load_published
    from rebuildx.fetch import FetchOptions
    from rebuildx.stagex.checkout import prepare
    from rebuildx.verify.content import verify_by_content, write_content_report
    from rebuildx.verify.explain import published_image_spec

    release_tuple(request.release)
    _report_writable(request.report_path)
    checkout = prepare(request.tree_dir, request.release, repo=request.repo, allow_dirty=request.allow_dirty)
    published = load_published(checkout.root, (f"git:{checkout.commit}", *request.published), request.release)
    ws = Workspace(checkout.root)
    tree = load_tree(checkout.root)
    buildkit, bk_id, _ = _engine(ws, "buildx", release_profile(tree, request.release, events=events))
    podman, pm_id, _ = _engine(ws, "podman")
    options = BuildOptions(jobs=request.jobs, platform=request.platform)
    run = _Run(checkout.root, request.release)
    before = _before(run, tree, ws, options, request.sources or FetchOptions(), events,
                     release=None if request.allow_dirty else request.release, engine="podman")
    spec = published_image_spec(request.explain_from or request.deps_from) if request.explain else None
    try:
        result = verify_by_content(tree, request.selection, (buildkit, bk_id), (podman, pm_id), jobs=request.jobs,
                                   platform=request.platform, published=published, published_spec=spec,
                                   before=before, listener=events, checkout=checkout)
    except BusyError:
        raise
    except RebuildxError as e:
        run.bundle(events, error=str(e))
        raise
    path = write_content_report(result, request.report_path or ws.state_dir / "reports" /
                                f"verify-{request.release}-podman.json", request.release)
    if result.exit_code != 0:
        run.bundle(events, report=result.podman_build)
    return ContentOutcome(result, path)


@dataclass
class ContentOutcome:
    result: Any  # verify.content.ContentResult
    report_path: Path

    @property
    def exit_code(self) -> int:
        return int(self.result.exit_code)


def status(tree: Tree, release: str) -> ReleaseStatus:
    """What the ledger knows of a release: chain-verified, matched, mismatched, failed, unverified."""
    from rebuildx.stagex.graph import Graph
    from rebuildx.state.ledger import Ledger, release_status

    release_tuple(release)
    return release_status(Graph.of(tree.packages), list(tree.packages), Ledger(Workspace(tree.root)).latest(release))


# doctor and explain -------------------------------------------------------------------------

def doctor(tree: Tree, selection: Sequence[str] = (), *, release: str | None = None, cold: bool = False,
           air_gapped: bool = False, platform: str = DEFAULT_PLATFORM, makefile: Path | None = None,
           targets_py: bool = False, events: Events = QUIET) -> DoctorReport:
    """Machine and checkout checks for the selection, each failure with its fix; with `makefile`
    (the tree's own generated Makefile), or `targets_py` (generate it: the tree's src/targets.py
    run inside BuildKit), rebuildx's build commands compared with its recipes."""
    from rebuildx.doctor.commands import command_findings, generated_command_findings
    from rebuildx.doctor.preflight import examine
    from rebuildx.stagex.plan import make_plan

    packages = make_plan(tree, _words(selection), platform=platform).packages
    report = examine(tree.root, tree=tree, packages=packages, release=release, cold=cold, air_gapped=air_gapped,
                     platform=platform)
    if makefile is not None or targets_py:
        profile = release_profile(tree, release, events=events)
        report.findings.append(command_findings(tree.root, packages, profile, makefile) if makefile is not None
                               else generated_command_findings(tree.root, packages, profile))
    return report


def explain(tree_dir: Path | str, package: str, published: str | None = None, options: Any = None, *,
            events: Events = QUIET) -> Any:
    """The published image of `package` against out/<package>/, as a Difference tree. Without
    `published`, the image by the digest the checkout's digests/ name."""
    from rebuildx.explain import ExplainOptions, explain as run_explain, open_source

    tree_dir = Path(tree_dir)
    if (tree_dir / "packages").is_dir() and package not in load_tree(tree_dir).packages:
        raise RebuildxError(f"no package {package!r} in {tree_dir} (a full name: core-bash)")
    with open_source(published or default_published_image(tree_dir, package, events)) as source:
        return run_explain(Workspace(tree_dir), package, source, options or ExplainOptions())


def default_published_image(tree_dir: Path, package: str, events: Events = QUIET) -> str:
    """The published image by the digest the checkout's digests/ name (a tag can move); StageX's
    own tag (`stagex/<full>:<version>`) only when the checkout publishes no digest for it."""
    from rebuildx.compare.published import PublishedSource

    found = load_tree(tree_dir).packages.get(package)
    if found is None:
        raise RebuildxError(f"{tree_dir}: no package {package!r} in the tree; give --published-image")
    try:
        digest = PublishedSource("git:HEAD").load(tree_dir, [found.stage]).get(package)
    except RebuildxError:
        digest = None
    if digest:
        return f"docker.io/stagex/{package}@sha256:{digest}"
    events.warning(f"no published digest for {package} in {tree_dir}'s digests/; taking the tag "
                   f"{found.version or 'latest'}, which may have moved")
    return f"docker.io/stagex/{package}:{found.version or 'latest'}"


# signatures ---------------------------------------------------------------------------------

def check_signatures(request: SignaturesRequest) -> SignatureReport:
    """Each package's maintainer quorum over the release's published digest: QUORUM,
    UNDER_QUORUM, INVALID or UNSIGNED (trust/signatures)."""
    from rebuildx.trust.signatures.run import check_signatures as run_check

    return run_check(request)


def sign_signatures(request: SignRequest) -> SignSummary:
    """Sign, as StageX's src/sign.sh does, each package whose last verify here MATCHed."""
    from rebuildx.trust.signatures.run import sign_signatures as run_sign

    return run_sign(request)


# attest -------------------------------------------------------------------------------------

def attestations_dir(tree_dir: Path) -> Path:
    """Where `verify --attest-key` signs a checkout's statements."""
    return Workspace(tree_dir).state_dir / "attestations"


def attest_keygen(path: Path) -> tuple[Path, str]:
    """A new Ed25519 key: `path` (private, 0600) and `path`.pub; returns (pub path, key id)."""
    from rebuildx.trust.attest.keys import keygen

    return keygen(path)


def attest_signer(path: Path) -> Signer:
    """The signer of a private key file, loaded before a long run so that a bad key fails at once."""
    from rebuildx.trust.attest.keys import load_signer

    return load_signer(path)


def attest_verify(outcome: VerifyOutcome, signer: Signer, *, deps: str, started: datetime,
                  finished: datetime | None = None) -> Signed:
    """Sign one statement per attested verdict of a verify run into the checkout's
    `.rebuildx/attestations/`. A run built from other files than the release's is not attested."""
    from rebuildx import __version__
    from rebuildx.engine.check import probe_engine
    from rebuildx.trust.attest.keys import AttestError
    from rebuildx.trust.attest.sign import sign_run
    from rebuildx.trust.attest.statement import RunFacts

    checkout = outcome.checkout
    if checkout.head != checkout.commit or checkout.dirty:
        raise AttestError(f"not attested: the run built {checkout.head[:12]}"
                          f"{' with local changes' if checkout.dirty else ''}, not release {checkout.release} "
                          f"at {checkout.commit[:12]} (--allow-dirty); a statement about the release would be false")
    facts = RunFacts(checkout.release, checkout.commit, "docker buildx", probe_engine().identity, deps,
                     f"urn:rebuildx:key:{signer.public_key.keyid}", started, finished or datetime.now(UTC),
                     __version__)
    return sign_run(attestations_dir(checkout.root), outcome.comparison, facts, signer)


def attest_publish(source: Path, to: Path) -> Published:
    """Append the attestation tree at `source` to the published tree `to` (never rewriting it)."""
    from rebuildx.trust.attest.publish import publish

    return publish(source, to)


def attest_check(tree_dir: Path, release: str, selection: Sequence[str], sources: Sequence[str],
                 trust: Sequence[Path], threshold: int, published: Sequence[str] = (), *,
                 now: datetime | None = None) -> CheckResult:
    """k of n: per package, how many distinct trusted rebuilders attest its published digest
    reproduced (a CheckResult: AGREED, SHORT, DISPUTED or NONE each)."""
    from rebuildx.compare.published import load_published
    from rebuildx.stagex.checkout import resolve_release
    from rebuildx.stagex.plan import make_plan
    from rebuildx.trust.attest.check import check_release, require_threshold
    from rebuildx.trust.attest.keys import AttestError, load_trusted
    from rebuildx.trust.attest.sources import Source

    release_tuple(release)
    if not sources:
        raise AttestError("give at least one --from (an attestation tree: a directory or an http(s) URL)")
    trusted = load_trusted(list(trust))
    require_threshold(trusted, threshold)
    specs = tuple(published) or (f"git:{resolve_release(tree_dir, release)[1]}",)
    theirs = load_published(tree_dir, specs, release)
    names = sorted(theirs)
    if selection and list(selection) != ["all"]:
        wanted = set(make_plan(load_tree(tree_dir), selection).names)
        names = [n for n in names if n in wanted]
    readers = [Source(s) for s in dict.fromkeys(sources)]
    for r in readers:
        if not r.is_url and not Path(r.spec).is_dir():
            raise AttestError(f"--from {r.spec}: not a directory (an attestation tree, or an http(s) URL of one)")
    try:
        return check_release(release, theirs, names, readers, trusted, threshold, now or datetime.now(UTC))
    finally:
        for r in readers:
            r.close()
