"""verify: the seed's whole reproduction of a release as one run (BuildKit, or Podman by content),
its JSON report and its HTML page."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rebuildx.api.comparing import hinted
from rebuildx.api.events import QUIET, Events
from rebuildx.api.planning import release_profile
from rebuildx.api.runs import Run, at_least_one, before_builds, engine_for, engines_for, rebased, tell_down, use_recipe, words
from rebuildx.api.trusting import SignaturesRequest, check_signatures
from rebuildx.errors import BusyError, RebuildxError, UsageError
from rebuildx.stagex.checkout import DEFAULT_REPO
from rebuildx.stagex.model import DEFAULT_PLATFORM, release_tuple
from rebuildx.stagex.tree import load_tree
from rebuildx.workspace import Workspace

if TYPE_CHECKING:
    from rebuildx.build.run import BuildReport
    from rebuildx.compare.verdicts import Comparison
    from rebuildx.engine.builders import BuilderSpec
    from rebuildx.fetch import FetchOptions
    from rebuildx.stagex.checkout import Checkout
    from rebuildx.trust.signatures.verdicts import SignatureReport


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
        set_(self, "selection", words(self.selection))
        set_(self, "published", words(self.published))
        set_(self, "keyrings", tuple(Path(k) for k in ((self.keyrings,) if isinstance(self.keyrings, str | Path)
                                                        else self.keyrings)))
        at_least_one("jobs", self.jobs)
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
    engine, identity, farm = engines_for(probe_ws, request.builders, request.jobs)
    checkout = prepare(request.tree_dir, request.release, repo=request.repo, allow_dirty=request.allow_dirty)
    published = load_published(checkout.root, (f"git:{checkout.commit}", *request.published), request.release)
    ws = Workspace(checkout.root)
    tree = load_tree(checkout.root)
    options = VerifyOptions(selection=request.selection, jobs=request.jobs, platform=request.platform,
                            rounds=request.rounds)
    build_options = BuildOptions(jobs=request.jobs, cold=True, platform=request.platform)
    run = Run(checkout.root, request.release)
    before = before_builds(run, tree, ws, build_options, request.sources or FetchOptions(), events,
                     release=None if request.allow_dirty else request.release)
    engine, farm = rebased(engine, farm, ws)
    use_recipe(release_profile(tree, request.release, events=events), engine, farm)
    try:
        if request.deps == "published":
            result = verify_published_deps(checkout, published, options, engine, identity,
                                           dep_source(request.deps_from), before=before, listener=events,
                                           farm=farm)
        else:
            result = verify_closure(checkout, published, options, engine, identity, before=before,
                                    listener=events, farm=farm)
        if result.build:
            tell_down(result.build, events)
    except BusyError:
        raise
    except RebuildxError as e:  # doctor, fetch, published deps: still worth a bundle
        run.bundle(events, error=str(e))
        raise
    result.comparison = hinted(result.comparison, ws)
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
    buildkit, bk_id, _ = engine_for(ws, "buildx", release_profile(tree, request.release, events=events))
    podman, pm_id, _ = engine_for(ws, "podman")
    options = BuildOptions(jobs=request.jobs, platform=request.platform)
    run = Run(checkout.root, request.release)
    before = before_builds(run, tree, ws, options, request.sources or FetchOptions(), events,
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
