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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rebuildx.build.run import BuildOptions, BuildReport, FarmMember, Status, run_build
from rebuildx.stagex.checkout import Checkout
from rebuildx.compare.digestfiles import local_digests, write_digests
from rebuildx.compare.verdicts import Comparison, compare, mark_unstable
from rebuildx.engine.base import Engine
from rebuildx.errors import RebuildxError
from rebuildx.oci.digest import Semantics, entry_digest
from rebuildx.build.outputs import clean_leftovers, remove_entry, workspace_lock
from rebuildx.stagex.plan import Plan, make_plan
from rebuildx.build.scheduler import Listener
from rebuildx.state.history import History
from rebuildx.state.ledger import Ledger
from rebuildx.verify.rounds import second_round, unstable_notes
from rebuildx.stagex.releases import digest_semantics
from rebuildx.stagex.tree import load_tree
from rebuildx.workspace import Workspace

# Obtain the published image of a dep: (full name, manifest digest hex, destination dir) -> None.
DepSource = Callable[[str, str, Path], None]


@dataclass(frozen=True)
class VerifyOptions:
    selection: tuple[str, ...] = ()
    jobs: int = 1
    platform: str = "linux/amd64"
    keep_going: bool = True  # a verification reports every package, not the first failure
    rounds: int = 1  # 2: each selected package built twice and the two compared (UNSTABLE when they differ)


@dataclass
class VerifyResult:
    checkout: Checkout
    comparison: Comparison
    build: BuildReport | None = None
    report_path: Path | None = None
    extra: dict = field(default_factory=dict)


def verify_closure(checkout: Checkout, published: dict[str, str], options: VerifyOptions, engine: Engine,
                   identity: str, *, before: Callable[[Plan], None] | None = None,
                   listener: Listener | None = None, farm: Sequence[FarmMember] = ()) -> VerifyResult:
    """Build the selection and its closure cold and compare every package of the closure."""
    ws, tree = Workspace(checkout.root), load_tree(checkout.root)
    semantics = digest_semantics(checkout.release)
    build = run_build(ws, tree, options.selection,
                      BuildOptions(jobs=options.jobs, cold=True, keep_going=options.keep_going,
                                   platform=options.platform), engine, identity,
                      listener=listener, before=before, farm=farm)
    write_digests(ws, semantics)
    local = local_digests(ws, semantics)
    failed = {r.package: (r.error or f"blocked by {r.blocked_by}" if r.status is Status.BLOCKED else r.error or "")
              for r in build.results if not r.ok}
    names = build.plan.names
    if not options.selection:
        names = names + sorted(n for n in published if n not in tree.packages)
    result = compare(names, local, published, failed)
    extra: dict = {}
    result = _rounds(ws, build, result, options, engine, farm, extra)
    _record(ws, checkout.release, result)
    return VerifyResult(checkout, result, build, extra=extra)


def verify_published_deps(checkout: Checkout, published: dict[str, str], options: VerifyOptions,
                          engine: Engine, identity: str, obtain: DepSource, *,
                          before: Callable[[Plan], None] | None = None,
                          listener: Listener | None = None, farm: Sequence[FarmMember] = ()) -> VerifyResult:
    """Build each selected package against its deps' published images and compare it alone."""
    ws, tree = Workspace(checkout.root), load_tree(checkout.root)
    semantics = digest_semantics(checkout.release)
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
                      engine, identity, listener=listener, before=before, farm=farm)
    local = local_digests(ws, semantics)
    failed = {r.package: r.error or "" for r in build.results if not r.ok}
    result = compare(plan.names, local, published, failed, deps_from="published")
    extra: dict = {"published_deps": {d: published[d] for d in deps}}
    result = _rounds(ws, build, result, options, engine, farm, extra)
    _record(ws, checkout.release, result)
    return VerifyResult(checkout, result, build, extra=extra)


def _place_published(ws: Workspace, history: History, dep: str, digest: str, obtain: DepSource) -> None:
    """Put the published image of `dep` at out/<dep>, checked to be the published digest."""
    entry = ws.out_entry(dep)
    if entry.is_dir():
        try:
            if entry_digest(entry) == f"sha256:{digest}":
                return
        except RebuildxError:
            pass
        remove_entry(ws, history, dep)
    ws.build_tmp.mkdir(parents=True, exist_ok=True)
    dest = ws.build_tmp / f"published-{dep}"
    obtain(dep, digest, dest)
    got = entry_digest(dest)
    if got != f"sha256:{digest}":
        raise RebuildxError(f"the published image of {dep} has manifest {got}, not the published sha256:{digest}")
    history.claim_out(dep, f"published:{digest}", got)
    ws.out.mkdir(parents=True, exist_ok=True)
    dest.rename(entry)


def _rounds(ws: Workspace, build: BuildReport, result: Comparison, options: VerifyOptions, engine: Engine,
            farm: Sequence[FarmMember], extra: dict) -> Comparison:
    """With rounds, the second round of the selection: UNSTABLE where the two differ."""
    if options.rounds < 2:
        return result
    members = list(farm) or [FarmMember("default", engine, options.jobs)]
    build.rounds = second_round(ws, load_tree(ws.root), build, members, BuildOptions(platform=options.platform))
    extra["rounds"] = [r.to_json() for r in build.rounds.values()]
    return mark_unstable(result, unstable_notes(build.rounds))


def _record(ws: Workspace, release: str, result: Comparison) -> None:
    ledger = Ledger(ws)
    for v in result.verdicts:
        ledger.record(release, v.package, v.verdict, v.local, v.published, v.deps_from)
