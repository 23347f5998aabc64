"""The claim inside a signature: which image (docker reference) has which manifest digest.

Two formats are in StageX's signatures, both read here:
- older (e.g. release 2025.06.0): a JSON array of one object, type "pgp container image
  signature", the digest as bare hex, reference `stagex/<stage>-<name>`;
- current `src/sign.sh`: one object, type "atomic container signature", digest `sha256:<hex>`,
  reference `stagex/<stage>-<name>:<tag>`, `"optional":{}`.
`sign_payload` writes the current format byte for byte as sign.sh's printf does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

MAX_DEPTH = 8  # a real payload nests 3 deep

LEGACY_TYPE = "pgp container image signature"
ATOMIC_TYPE = "atomic container signature"
_HEX = re.compile(r"[0-9a-f]{64}")
_REFERENCE = re.compile(r"(?P<registry>[a-z0-9._-]+)/(?P<name>[a-z0-9._-]+)(?::(?P<tag>[\w][\w.-]{0,127}))?")


class PayloadError(ValueError):
    """The payload is not a container-signature claim of either format."""


@dataclass(frozen=True)
class Claim:
    reference: str  # as written, e.g. "stagex/core-bash:5.2"
    registry: str  # "stagex"
    name: str  # "core-bash"
    tag: str | None
    digest: str  # bare sha256 hex
    format: str  # "legacy" or "atomic"


def parse_claim(payload: bytes) -> Claim:
    """The claim of a payload in either format; anything else is a PayloadError naming the field."""
    _check_depth(payload)
    try:
        doc = json.loads(payload)
    except (ValueError, RecursionError) as e:
        raise PayloadError(f"payload is not JSON: {str(e)[:80]}") from e
    if isinstance(doc, list):
        if len(doc) != 1 or not isinstance(doc[0], dict):
            raise PayloadError(f"payload is a list of {len(doc)} items, expected one claim")
        return _claim(doc[0], "legacy", LEGACY_TYPE, bare_digest=True)
    if isinstance(doc, dict):
        return _claim(doc, "atomic", ATOMIC_TYPE, bare_digest=False)
    raise PayloadError(f"payload is a JSON {type(doc).__name__}, expected an object or a list of one")


def sign_payload(registry: str, name: str, tag: str, digest: str) -> bytes:
    """The bytes `src/sign.sh` pipes into gpg (its printf, no trailing newline)."""
    return ('{"critical":{"identity":{"docker-reference":"%s/%s:%s"},"image":{"docker-manifest-digest":"%s"},'
            '"type":"atomic container signature"},"optional":{}}' % (registry, name, tag, f"sha256:{digest}")).encode()


def _claim(doc: dict, fmt: str, kind: str, bare_digest: bool) -> Claim:
    critical = _field(doc, "critical", dict, "")
    typ = _field(critical, "type", str, "critical.")
    if typ != kind:
        raise PayloadError(f"critical.type is {typ[:60]!r}, expected {kind!r} for the {fmt} format")
    reference = _field(_field(critical, "identity", dict, "critical."), "docker-reference", str,
                       "critical.identity.")
    digest = _field(_field(critical, "image", dict, "critical."), "docker-manifest-digest", str,
                    "critical.image.")
    hexdigest = digest if bare_digest else digest.removeprefix("sha256:")
    if not _HEX.fullmatch(hexdigest) or (not bare_digest and not digest.startswith("sha256:")):
        want = "64 hex digits" if bare_digest else "sha256:<64 hex digits>"
        raise PayloadError(f"critical.image.docker-manifest-digest is {digest[:80]!r}, expected {want}")
    m = _REFERENCE.fullmatch(reference)
    if not m:
        raise PayloadError(f"critical.identity.docker-reference {reference[:80]!r} is not <registry>/<name>[:<tag>]")
    return Claim(reference, m["registry"], m["name"], m["tag"], hexdigest, fmt)


def _field(doc: dict, key: str, kind: type, where: str):
    value = doc.get(key)
    if not isinstance(value, kind):
        raise PayloadError(f"{where}{key} is missing or not a {kind.__name__}")
    return value


def _check_depth(payload: bytes) -> None:
    """Reject deep nesting before json builds it (the reader caps the size already). Brackets
    inside strings count too: a real payload has none, and few brackets in all."""
    if payload.count(b"[") + payload.count(b"{") <= MAX_DEPTH:
        return
    depth = 0
    for byte in payload:
        if byte in b"[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise PayloadError(f"payload JSON nests deeper than {MAX_DEPTH} levels")
        elif byte in b"]}":
            depth -= 1
