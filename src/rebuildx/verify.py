"""`rebuildx verify`: the seed's whole reproduction procedure as one run, plus a per-package mode.

Closure mode (the seed's procedure): the release's checkout, sources fetched, the selection and
its closure built cold, digests written, compared with the release's published digests.

Published-deps mode (`--deps published`): each selected package is built against its deps taken
from the *published* images (pulled by the digests of the release's digest files, every blob
checked), so that each package can be checked on its own and in parallel. If every package's
published image equals the build of its source against its published deps, then by induction
from the seed every published image is reproduced.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rebuildx.build import BuildOptions, BuildReport, Status, run_build
from rebuildx.checkout import Checkout
from rebuildx.compare import Comparison, compare
from rebuildx.digests import Semantics, local_digests, write_digests
from rebuildx.engine.base import Engine
from rebuildx.errors import RebuildxError
from rebuildx.oci import manifest_digest
from rebuildx.outputs import clean_leftovers, remove_entry, workspace_lock
from rebuildx.plan import Plan, make_plan
from rebuildx.scheduler import Listener
from rebuildx.state import History, Ledger
from rebuildx.tree import load_tree
from rebuildx.workspace import Workspace

# Obtain the published image of a dep: (full name, manifest digest hex, destination dir) -> None.
DepSource = Callable[[str, str, Path], None]


@dataclass(frozen=True)
class VerifyOptions:
    selection: tuple[str, ...] = ()
    jobs: int = 1
    platform: str = "linux/amd64"
    keep_going: bool = True  # a verification reports every package, not the first failure


@dataclass
class VerifyResult:
    checkout: Checkout
    comparison: Comparison
    build: BuildReport | None = None
    report_path: Path | None = None
    extra: dict = field(default_factory=dict)


def verify_closure(checkout: Checkout, published: dict[str, str], options: VerifyOptions, engine: Engine,
                   identity: str, *, before: Callable[[Plan], None] | None = None,
                   listener: Listener | None = None) -> VerifyResult:
    """Build the selection and its closure cold and compare every package of the closure."""
    ws, tree = Workspace(checkout.root), load_tree(checkout.root)
    semantics = Semantics.for_release(checkout.release)
    build = run_build(ws, tree, options.selection,
                      BuildOptions(jobs=options.jobs, cold=True, keep_going=options.keep_going,
                                   platform=options.platform), engine, identity,
                      listener=listener, before=before)
    write_digests(ws, semantics)
    local = local_digests(ws, semantics)
    failed = {r.package: (r.error or f"blocked by {r.blocked_by}" if r.status is Status.BLOCKED else r.error or "")
              for r in build.results if not r.ok}
    names = build.plan.names
    if not options.selection:
        names = names + sorted(n for n in published if n not in tree.packages)
    result = compare(names, local, published, failed)
    _record(ws, checkout.release, result)
    return VerifyResult(checkout, result, build)


def verify_published_deps(checkout: Checkout, published: dict[str, str], options: VerifyOptions,
                          engine: Engine, identity: str, obtain: DepSource, *,
                          before: Callable[[Plan], None] | None = None,
                          listener: Listener | None = None) -> VerifyResult:
    """Build each selected package against its deps' published images and compare it alone."""
    ws, tree = Workspace(checkout.root), load_tree(checkout.root)
    semantics = Semantics.for_release(checkout.release)
    if semantics is not Semantics.MANIFEST:
        raise RebuildxError(f"--deps published needs manifest digests (releases from 2025.06.1 on); "
                            f"{checkout.release} publishes index digests")
    plan = make_plan(tree, options.selection, platform=options.platform, only=True)
    deps = sorted({d for p in plan.packages for d in p.deps} - set(plan.names))
    missing = [d for d in deps if d not in published]
    if missing:
        raise RebuildxError(f"--deps published: no published digest for {', '.join(missing)} in release "
                            f"{checkout.release}; verify them in closure mode instead")
    history = History(ws)
    with workspace_lock(ws):
        clean_leftovers(ws)
        for dep in deps:
            _place_published(ws, history, dep, published[dep], obtain)
    build = run_build(ws, tree, plan.names, BuildOptions(jobs=options.jobs, cold=True, only=True,
                                                         keep_going=True, platform=options.platform),
                      engine, identity, listener=listener, before=before)
    local = local_digests(ws, semantics)
    failed = {r.package: r.error or "" for r in build.results if not r.ok}
    result = compare(plan.names, local, published, failed, deps_from="published")
    _record(ws, checkout.release, result)
    return VerifyResult(checkout, result, build, extra={"published_deps": {d: published[d] for d in deps}})


def _place_published(ws: Workspace, history: History, dep: str, digest: str, obtain: DepSource) -> None:
    """Put the published image of `dep` at out/<dep>, checked to be the published digest."""
    entry = ws.out_entry(dep)
    if entry.is_dir():
        try:
            if manifest_digest(entry) == f"sha256:{digest}":
                return
        except RebuildxError:
            pass
        remove_entry(ws, history, dep)
    ws.build_tmp.mkdir(parents=True, exist_ok=True)
    dest = ws.build_tmp / f"published-{dep}"
    obtain(dep, digest, dest)
    got = manifest_digest(dest)
    if got != f"sha256:{digest}":
        raise RebuildxError(f"the published image of {dep} has manifest {got}, not the published sha256:{digest}")
    history.claim_out(dep, f"published:{digest}", got)
    ws.out.mkdir(parents=True, exist_ok=True)
    dest.rename(entry)


def _record(ws: Workspace, release: str, result: Comparison) -> None:
    ledger = Ledger(ws)
    for v in result.verdicts:
        ledger.record(release, v.package, v.verdict.value, v.local, v.published, v.deps_from)


def write_report(result: VerifyResult, path: Path) -> Path:
    doc = {
        **result.comparison.to_json(),
        "release": result.checkout.release,
        "ref": result.checkout.ref,
        "commit": result.checkout.commit,
        "head": result.checkout.head,  # what was built: differs from commit only with --allow-dirty
        "dirty": list(result.checkout.dirty),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **result.extra,
    }
    if result.build:
        doc["builds"] = [{"package": r.package, "status": r.status.value, "digest": r.digest,
                          "seconds": round(r.seconds, 3), "error": r.error, "blocked_by": r.blocked_by,
                          "log": str(r.log) if r.log else None} for r in result.build.results]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=1) + "\n")
    except OSError as e:
        raise RebuildxError(f"{path}: cannot write the report: {e.strerror or e}") from e
    result.report_path = path
    return path


def explain_mismatches(ws: Workspace, comparison: Comparison, source_of: Callable[[str, str], str],
                       max_files: int = 50) -> dict[str, dict]:
    """For each MISMATCH, the published image against the local build (`explain`), as JSON
    documents by package. A published image that cannot be reached is said so, once per cause:
    after a connection failure the remaining ones are not tried (they would all wait for it)."""
    from rebuildx.explain import explain, open_source, summary, to_json

    out: dict[str, dict] = {}
    unreachable: str | None = None
    for v in comparison.verdicts:
        if v.verdict.value != "MISMATCH" or v.published is None:
            continue
        if unreachable:
            out[v.package] = {"error": f"not tried: {unreachable}"}
            continue
        spec = source_of(v.package, v.published)
        try:
            with open_source(spec) as source:
                diff = explain(ws, v.package, source)
            out[v.package] = {"summary": summary(diff), "source": spec, "difference": to_json(diff, max_files)}
        except (RebuildxError, OSError) as e:
            out[v.package] = {"error": f"{spec}: {e}", "source": spec}
            if "connect" in str(e).lower() or "resolve" in str(e).lower():
                unreachable = f"published images unreachable ({e})"
    return out


def published_image_spec(where: str) -> Callable[[str, str], str]:
    """Where a package's published image is: `<where>/<package>` for a directory of OCI layouts,
    else `<where>/<package>@sha256:<digest>` in a registry."""
    if Path(where).is_dir():
        return lambda package, digest: str(Path(where) / package)
    return lambda package, digest: f"{where.rstrip('/')}/{package}@sha256:{digest}"
