"""The two use cases, from a release's tree: check its signatures, and sign what was reproduced.

Both read the release as published: its digests files and MAINTAINERS from the release's ref in
the tree (`release/<R>`, as `verify` checks it out), or digests from `--published`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rebuildx.compare.published import load_published
from rebuildx.outcomes import Verdict
from rebuildx.errors import LayoutError, RebuildxError
from rebuildx.exitcodes import INCOMPLETE, OK
from rebuildx.oci.digest import Semantics, entry_digest, hex_of
from rebuildx.proc import run
from rebuildx.stagex.checkout import resolve_release
from rebuildx.stagex.plan import make_plan
from rebuildx.stagex.releases import digest_semantics
from rebuildx.stagex.tree import load_tree
from rebuildx.state.ledger import Ledger
from rebuildx.trust.signatures.check import check_release
from rebuildx.trust.signatures.gpg import Keyring
from rebuildx.trust.signatures.requests import SignaturesRequest, SignRequest
from rebuildx.trust.signatures.maintainers import MaintainersError, parse_maintainers, trusted_keys
from rebuildx.trust.signatures.sign import (Request, SignError, SignOutcome, SignResult, sign_one, signing_primary,
                                            tag_of, user_keys)
from rebuildx.trust.signatures.source import open_source
from rebuildx.trust.signatures.verdicts import SignatureReport
from rebuildx.workspace import Workspace

DEFAULT_SIGS = "https://codeberg.org/stagex/signatures.git"


@dataclass
class SignSummary:
    results: list[SignResult] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return INCOMPLETE if any(r.outcome is SignOutcome.REFUSED for r in self.results) else OK

    def summary(self) -> str:
        n = {o: sum(1 for r in self.results if r.outcome is o) for o in SignOutcome}
        return (f"{len(self.results)} packages: {n[SignOutcome.SIGNED]} signed, {n[SignOutcome.ALREADY]} already "
                f"signed with this key, {n[SignOutcome.REFUSED]} refused (not reproduced here)")


@dataclass(frozen=True)
class Release:
    root: Path
    ref: str | None
    published: dict[str, str]
    names: list[str]  # the selection (and its closure) that the release publishes


def read_release(tree_dir: Path, release: str, selection: tuple[str, ...], published: tuple[str, ...], *,
                 only: bool = False) -> Release:
    """The release's published digests and the selected names (with their closure unless `only`)."""
    tree = load_tree(tree_dir)
    ref = resolve_release(tree.root, release)[0] if not published else _ref_or_none(tree.root, release)
    digests = load_published(tree.root, published or (f"git:{ref}",), release)
    if not selection or list(selection) == ["all"]:
        names = sorted(digests)
    else:
        names = [n for n in make_plan(tree, selection, only=only).names if n in digests]
        if not names:
            raise RebuildxError(f"release {release} publishes none of {' '.join(selection)} (nor their deps)")
    return Release(tree.root, ref, digests, names)


def _ref_or_none(root: Path, release: str) -> str | None:
    try:
        return resolve_release(root, release)[0]
    except RebuildxError:
        return None


def maintainers_of(rel: Release, release: str) -> dict[str, str]:
    """MAINTAINERS as of the release (its ref), else the tree's file."""
    if rel.ref:
        done = run(["git", "-C", str(rel.root), "show", f"{rel.ref}:MAINTAINERS"], check=False,
                   error=MaintainersError)
        if done.returncode == 0:
            return parse_maintainers(done.stdout, f"{rel.ref}:MAINTAINERS")
    path = rel.root / "MAINTAINERS"
    if not path.is_file():
        raise MaintainersError(f"release {release}: no MAINTAINERS in {rel.ref or rel.root}; name the trusted "
                               "keys with --trust FPR")
    return parse_maintainers(path.read_text(), str(path))


def check_signatures(request: SignaturesRequest) -> SignatureReport:
    rel = read_release(request.tree_dir, request.release, request.selection, request.published)
    try:
        maintainers = maintainers_of(rel, request.release)
    except MaintainersError:
        if not request.trust:
            raise
        maintainers = {}
    trusted = trusted_keys(maintainers, request.trust)
    source = open_source(request.sigs or DEFAULT_SIGS, request.release)
    try:
        with Keyring(request.keyrings) as keyring:
            return check_release(source, rel.published, rel.names, keyring, trusted, request.quorum, request.release)
    finally:
        source.close()


def sign_signatures(request: SignRequest) -> SignSummary:
    """Sign each reproduced package; refuse the others by name (see sign.py)."""
    rel = read_release(request.tree_dir, request.release, request.selection, request.published, only=True)
    if not request.sigs_dir.is_dir():
        raise RebuildxError(f"--sigs {request.sigs_dir}: no such folder (a checkout of the signatures repository)")
    keys = user_keys()
    primary = signing_primary(request.key, keys)
    latest = Ledger(Workspace(rel.root)).latest(request.release)
    semantics = digest_semantics(request.release)
    out = SignSummary()
    for name in rel.names:
        digest, entry = rel.published[name], Workspace(rel.root).out / name
        try:
            _check_reproduced(name, latest.get(name), digest, entry, semantics)
            job = Request(name, digest, tag_of(entry))
        except (_Refused, SignError) as e:  # SignError: no tag to sign in its out/ entry
            out.results.append(SignResult(name, SignOutcome.REFUSED, str(e)))
            continue
        out.results.append(sign_one(job, request.key, primary, request.sigs_dir, keys))
    return out


class _Refused(RebuildxError):
    """This package is not signed, for the reason given; the others go on."""


def _check_reproduced(name: str, latest: tuple[Verdict, str | None, str] | None, digest: str, entry: Path,
                      semantics: Semantics) -> None:
    """Raise _Refused unless the last verify here MATCHed `digest` and out/<name> is still that image
    (every blob it reaches hashed again)."""
    if latest is None:
        raise _Refused("never verified on this machine (run `rebuildx verify` first)")
    verdict, published, _ = latest
    if verdict is not Verdict.MATCH:
        raise _Refused(f"its last verify here was {verdict.value}, not MATCH")
    if published != digest:
        raise _Refused(f"verified against digest {str(published)[:12]}…, but the release publishes {digest[:12]}…")
    try:
        if hex_of(entry_digest(entry, semantics, check=True)) != digest:
            raise _Refused(f"out/{name} is no longer the image verified (rebuild and verify it again)")
    except LayoutError as e:
        raise _Refused(f"out/{name} cannot be read: {e}") from e
