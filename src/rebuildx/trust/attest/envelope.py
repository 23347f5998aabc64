"""DSSE envelopes around statements: signed and opened with securesystemslib, never by hand.

`open_envelope` is the one door for anything read from outside: it takes one line of a
`.intoto.jsonl` file, already size-capped, and returns the statement and the trusted keys whose
signature over it verifies, or raises `Rejected` with the reason, one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import Key, Signer

from rebuildx.trust.attest.statement import PAYLOAD_TYPE

MAX_LINE_BYTES = 1024 * 1024  # one envelope of one statement is a few KiB


class Rejected(ValueError):
    """An envelope that counts for nothing, and why."""


def sign(statement: dict, signer: Signer) -> dict:
    """The DSSE envelope (as JSON) of `statement` signed by `signer`."""
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    envelope = Envelope(payload, PAYLOAD_TYPE, {})
    envelope.sign(signer)
    return envelope.to_dict()


def to_line(envelope: dict) -> bytes:
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode() + b"\n"


@dataclass(frozen=True)
class Opened:
    statement: dict
    signers: frozenset[str]  # ids of the trusted keys whose signature verifies


def _loads(data: bytes | str, what: str) -> object:
    try:
        return json.loads(data)
    except RecursionError as e:
        raise Rejected(f"{what} is nested too deeply") from e
    except (ValueError, UnicodeDecodeError) as e:
        raise Rejected(f"{what} is not JSON ({e})") from e


def open_envelope(line: bytes, trusted: dict[str, Key]) -> Opened:
    """Verify one envelope against the trusted keys; `Rejected` unless one of them signed it."""
    if len(line) > MAX_LINE_BYTES:
        raise Rejected(f"an envelope of {len(line)} bytes (more than {MAX_LINE_BYTES})")
    doc = _loads(line, "the envelope")
    if not isinstance(doc, dict) or not isinstance(doc.get("signatures"), list):
        raise Rejected("not a DSSE envelope (no signatures list)")
    if doc.get("payloadType") != PAYLOAD_TYPE:
        raise Rejected(f"payloadType {str(doc.get('payloadType'))[:80]!r} is not {PAYLOAD_TYPE}")
    try:
        envelope = Envelope.from_dict(doc)
    except Exception as e:  # KeyError, FormatError, binascii.Error, ValueError: all malformed
        raise Rejected(f"a malformed DSSE envelope ({type(e).__name__}: {str(e)[:120]})") from e
    signers = set()
    for keyid, key in trusted.items():
        if keyid not in envelope.signatures:
            continue
        try:
            envelope.verify([key], 1)
        except VerificationError as e:
            raise Rejected(f"a bad signature by trusted key {keyid[:16]}") from e
        signers.add(keyid)
    if not signers:
        ids = ", ".join(k[:16] for k in list(envelope.signatures)[:5]) or "none"
        ids += f", and {len(envelope.signatures) - 5} more" if len(envelope.signatures) > 5 else ""
        raise Rejected(f"signed by no trusted key (key ids: {ids})")
    return Opened(_statement(envelope.payload), frozenset(signers))


def _statement(payload: bytes) -> dict:
    statement = _loads(payload, "the payload")
    if not isinstance(statement, dict):
        raise Rejected("the payload is not a JSON object")
    return statement
