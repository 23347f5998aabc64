"""signatures and attestations: the maintainers' quorum, and rebuilders' signed verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rebuildx.stagex.model import release_tuple
from rebuildx.stagex.tree import load_tree
from rebuildx.trust.signatures.requests import SignaturesRequest, SignRequest
from rebuildx.workspace import Workspace

if TYPE_CHECKING:
    from securesystemslib.signer import Signer

    from rebuildx.api.verifying import VerifyOutcome
    from rebuildx.trust.attest.check import CheckResult
    from rebuildx.trust.attest.publish import Published
    from rebuildx.trust.attest.sign import Signed
    from rebuildx.trust.signatures.run import SignSummary
    from rebuildx.trust.signatures.verdicts import SignatureReport

__all__ = ["SignRequest", "SignaturesRequest", "attest_check", "attest_keygen", "attest_publish", "attest_signer",
           "attest_verify", "attestations_dir", "check_attest_options", "check_signatures", "sign_signatures"]




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


def check_attest_options(*, allow_dirty: bool, engine: str = "buildx") -> None:
    """Refuse, before anything runs, a `verify --attest-key` whose statements could not be true:
    `--allow-dirty` builds from files that may not be the release's, and Podman's verdicts are by
    content, not digest. A UsageError (exit 2); attest_verify still refuses a run that turns out
    to be built from another commit."""
    from rebuildx.errors import UsageError

    if allow_dirty:
        raise UsageError("--attest-key with --allow-dirty: a statement that the release reproduces, about a "
                         "build from other files than the release's, would be false; drop one of them")
    if engine == "podman":
        raise UsageError("--attest-key signs digest verdicts of buildx runs; --engine podman compares by content")


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
            raise AttestError(f"--from {r.label}: not a directory (an attestation tree, or an http(s) URL of one)")
    try:
        return check_release(release, theirs, names, readers, trusted, threshold, now or datetime.now(UTC))
    finally:
        for r in readers:
            r.close()
