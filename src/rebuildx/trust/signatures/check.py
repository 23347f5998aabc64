"""Check a release's signatures: every file of every package read, parsed, verified by gpg in
one batch, its claim compared with the published digest, and each package judged.

The structure check (packets.py) comes first: only files of StageX's one shape reach gpg, so the
payload checked here is the one gpg verified. Identity: the claim must name
`stagex/<stage>-<name>` (a tag is optional) and the published digest of that release.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from rebuildx.trust.signatures.gpg import GpgResult, Keyring
from rebuildx.trust.signatures.packets import FormatError, SignedMessage, read_message
from rebuildx.trust.signatures.payload import Claim, PayloadError, parse_claim
from rebuildx.trust.signatures.source import REGISTRY, SignatureFile, Source
from rebuildx.trust.signatures.verdicts import SigStatus, SignatureCheck, SignatureReport, judge


def check_release(source: Source, published: Mapping[str, str], names: Sequence[str], keyring: Keyring,
                  trusted: Mapping[str, str], quorum: int, release: str) -> SignatureReport:
    """A verdict for each of `names` (all of them in `published`)."""
    images = [(n, published[n]) for n in names]
    found = source.collect(images)
    parsed: dict[str, SignedMessage | str] = {}
    for files in found.values():
        for f in files:
            parsed[f.label] = _parse(f)
    messages = {label: m for label, m in parsed.items() if isinstance(m, SignedMessage)}
    verdicts = _gpg_verify(keyring, [(f.label, f.data) for files in found.values() for f in files
                                     if f.label in messages and f.data is not None])
    report = SignatureReport(release, quorum, source.spec, keys=len(keyring.keys))
    for name, digest in images:
        checks = [_check(f, parsed[f.label], verdicts.get(f.label), name, digest, keyring, trusted)
                  for f in found[(name, digest)]]
        report.packages.append(judge(name, digest, checks, quorum))
    return report


def _parse(f: SignatureFile) -> SignedMessage | str:
    if f.data is None:
        return f.problem or "not read"
    try:
        return read_message(f.data)
    except FormatError as e:
        return f"not a signature StageX writes: {e}"


def _gpg_verify(keyring: Keyring, files: list[tuple[str, bytes | None]]) -> dict[str, GpgResult]:
    with tempfile.TemporaryDirectory(prefix="rbx-sigcheck-") as tmp:
        paths = []
        for i, (_, data) in enumerate(files):
            path = Path(tmp) / f"{i}.sig"
            path.write_bytes(data or b"")
            paths.append(path)
        results = keyring.verify_files(paths)
    return {label: r for (label, _), r in zip(files, results, strict=True)}


def _check(f: SignatureFile, parsed: SignedMessage | str, result: GpgResult | None, name: str, digest: str,
           keyring: Keyring, trusted: Mapping[str, str]) -> SignatureCheck:
    if isinstance(parsed, str) or result is None:
        return SignatureCheck(f.label, SigStatus.INVALID, reason=parsed if isinstance(parsed, str) else "not verified")
    key_id = parsed.issuer_key_id
    claim: Claim | None = None
    try:
        claim = parse_claim(parsed.payload)
        wrong = _claim_problem(claim, name, digest)
    except PayloadError as e:
        wrong = str(e)
    fmt = claim.format if claim else None
    if result.status == "NO_KEY":
        status = SigStatus.INVALID if wrong else SigStatus.UNKNOWN_SIGNER
        return SignatureCheck(f.label, status, key_id, reason=wrong or "no key for it in the keyrings given",
                              payload_format=fmt)
    problem = _gpg_problem(result, keyring)
    signer = result.primary if result.status in ("GOOD", "EXPIRED_KEY", "REVOKED_KEY") else None
    if problem or wrong:
        return SignatureCheck(f.label, SigStatus.INVALID, key_id, signer, trusted.get(signer or ""),
                              "; ".join(p for p in (problem, wrong) if p), fmt)
    note = "the key has expired since" if result.status == "EXPIRED_KEY" else None
    return SignatureCheck(f.label, SigStatus.VALID, key_id, signer, trusted.get(signer or ""), note, fmt)


def _claim_problem(claim: Claim, name: str, digest: str) -> str | None:
    if claim.registry != REGISTRY or claim.name != name:
        return f"signed for {claim.reference}, not {REGISTRY}/{name}"
    if claim.digest != digest:
        return f"signs digest {claim.digest[:16]}…, not the published {digest[:16]}…"
    return None


def _gpg_problem(result: GpgResult, keyring: Keyring) -> str | None:
    if result.status == "GOOD":
        return None
    if result.status == "EXPIRED_KEY":
        expired = keyring.expiry(result.key_fpr or "")
        if expired is not None and result.created is not None and expired <= result.created:
            return f"made by a key that had expired before the signature (at {expired}, signed at {result.created})"
        return None
    return {"BAD": "bad signature: the file was altered or not signed by this key",
            "REVOKED_KEY": "made by a revoked key",
            "EXPIRED_SIG": "the signature has expired"}.get(result.status, f"gpg: {result.detail or 'cannot verify'}")
