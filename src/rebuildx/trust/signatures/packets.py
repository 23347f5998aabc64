"""A strict, bounded reader of the one shape StageX's signature files have.

An inline-signed binary OpenPGP message (RFC 9580 §10.3): optionally one compressed packet
holding exactly a one-pass signature, a literal data packet and a signature. The reader only
extracts the payload and the issuer, for reports and for the benchmark over a release's files;
whether a signature is good is never decided here but by gpg (gpg.py), which reads the same
file, and a file of any other shape is refused before gpg sees it, so the payload read here is
the one gpg verified. Anything else, or anything past the caps, is a FormatError naming what is
wrong: one line, never a traceback or a huge allocation.
"""

from __future__ import annotations

import bz2
import zlib
from dataclasses import dataclass

MAX_FILE = 1 << 20  # real files are under 1 KiB; a 50 MB "signature" stops here
MAX_PAYLOAD = 64 << 10  # a StageX payload is ~250 bytes
MAX_PACKETS = 8

TAG_SIGNATURE, TAG_ONE_PASS, TAG_COMPRESSED, TAG_LITERAL = 2, 4, 8, 11
_PARTIAL_OK = (TAG_COMPRESSED, TAG_LITERAL)  # the only packets here that may use partial lengths
_EXPECTED = [TAG_ONE_PASS, TAG_LITERAL, TAG_SIGNATURE]


class FormatError(ValueError):
    """The bytes are not a signature file of the expected shape."""


@dataclass(frozen=True)
class SignedMessage:
    payload: bytes
    issuer_key_id: str  # 16 upper-case hex digits, from the one-pass signature packet
    issuer_fpr: str | None  # from the issuer-fingerprint subpacket, when the signature has one
    created: int | None  # signature creation time (unix seconds), from the hashed area
    pubkey_algo: int  # 1 RSA, 22 EdDSA, …
    compressed: bool


def read_message(data: bytes) -> SignedMessage:
    """The payload and issuer of one inline-signed message (see the module's docstring)."""
    if not data:
        raise FormatError("empty file")
    if len(data) > MAX_FILE:
        raise FormatError(f"{len(data)} bytes, over the {MAX_FILE}-byte cap for a signature file")
    packets = _packets(data)
    compressed = len(packets) == 1 and packets[0][0] == TAG_COMPRESSED
    if compressed:
        packets = _packets(_decompress(packets[0][1]))
    tags = [tag for tag, _ in packets]
    if tags != _EXPECTED:
        raise FormatError(f"packet types {tags}, expected one-pass signature, literal data, signature {_EXPECTED}")
    key_id = _one_pass_key_id(packets[0][1])
    payload = _literal(packets[1][1])
    fpr, created, algo = _signature(packets[2][1], key_id)
    return SignedMessage(payload, key_id, fpr, created, algo, compressed)


def _packets(data: bytes) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        if len(out) >= MAX_PACKETS:
            raise FormatError(f"more than {MAX_PACKETS} packets")
        tag, body, pos = _packet(data, pos)
        out.append((tag, body))
    return out


def _packet(data: bytes, pos: int) -> tuple[int, bytes, int]:
    head = data[pos]
    if not head & 0x80:
        raise FormatError(f"not OpenPGP data (byte {head:#04x} at offset {pos})")
    if head & 0x40:
        return _new_format(data, pos + 1, head & 0x3F)
    tag, kind = (head >> 2) & 0x0F, head & 0x03
    pos += 1
    if kind == 3:  # indeterminate length: to the end of the data
        return tag, data[pos:], len(data)
    size = (1, 2, 4)[kind]
    length = int.from_bytes(_take(data, pos, size), "big")
    pos += size
    return tag, _take(data, pos, length), pos + length


def _new_format(data: bytes, pos: int, tag: int) -> tuple[int, bytes, int]:
    chunks: list[bytes] = []
    while True:
        first = _take(data, pos, 1)[0]
        if first < 192:
            length, pos = first, pos + 1
        elif first < 224:
            length, pos = ((first - 192) << 8) + _take(data, pos + 1, 1)[0] + 192, pos + 2
        elif first == 255:
            length, pos = int.from_bytes(_take(data, pos + 1, 4), "big"), pos + 5
        else:  # a partial body length: another length header follows this chunk
            if tag not in _PARTIAL_OK:
                raise FormatError(f"partial body length in a packet of type {tag}")
            size = 1 << (first & 0x1F)
            chunks.append(_take(data, pos + 1, size))
            pos += 1 + size
            continue
        chunks.append(_take(data, pos, length))
        return tag, b"".join(chunks), pos + length


def _take(data: bytes, pos: int, n: int) -> bytes:
    if pos + n > len(data):
        raise FormatError(f"truncated packet (needs {pos + n} bytes, has {len(data)})")
    return data[pos:pos + n]


def _decompress(body: bytes) -> bytes:
    """Decompress at most MAX_FILE + 1 bytes, so a bomb stops at the cap."""
    if not body:
        raise FormatError("empty compressed packet")
    algo, rest = body[0], body[1:]
    if algo == 0:
        return rest
    try:
        if algo in (1, 2):  # ZIP is raw deflate, ZLIB carries its header
            inflate = zlib.decompressobj(-15 if algo == 1 else 15)
            out, complete = inflate.decompress(rest, MAX_FILE + 1), inflate.eof
        elif algo == 3:
            unbzip = bz2.BZ2Decompressor()
            out, complete = unbzip.decompress(rest, MAX_FILE + 1), unbzip.eof
        else:
            raise FormatError(f"unknown compression algorithm {algo}")
    except (zlib.error, OSError, EOFError) as e:
        raise FormatError(f"compressed data is damaged: {e}") from e
    if len(out) > MAX_FILE:
        raise FormatError(f"compressed data expands past the {MAX_FILE}-byte cap")
    if not complete:
        raise FormatError("compressed data is truncated (it ends before its end marker)")
    return out


def _one_pass_key_id(body: bytes) -> str:
    if len(body) != 13 or body[0] != 3:
        raise FormatError(f"unsupported one-pass signature packet (version {body[:1].hex() or 'none'}, "
                          f"{len(body)} bytes)")
    return body[4:12].hex().upper()


def _literal(body: bytes) -> bytes:
    start = 2 + (body[1] if len(body) > 1 else 0) + 4
    if len(body) < 6 or start > len(body):
        raise FormatError("truncated literal data packet")
    payload = body[start:]
    if len(payload) > MAX_PAYLOAD:
        raise FormatError(f"payload of {len(payload)} bytes, over the {MAX_PAYLOAD}-byte cap")
    return payload


def _signature(body: bytes, key_id: str) -> tuple[str | None, int | None, int]:
    """(issuer fingerprint, creation time, public-key algorithm) of a v4 binary signature."""
    if len(body) < 6 or body[0] != 4:
        raise FormatError(f"unsupported signature packet (version {body[:1].hex() or 'none'}; StageX signs v4)")
    if body[1] != 0x00:
        raise FormatError(f"signature type {body[1]:#04x}, expected a signature of a binary document (0x00)")
    hashed_len = int.from_bytes(body[4:6], "big")
    hashed = _take(body, 6, hashed_len)
    pos = 6 + hashed_len
    unhashed = _take(body, pos + 2, int.from_bytes(_take(body, pos, 2), "big"))
    fields = _subpackets(unhashed)
    fields.update(_subpackets(hashed))  # the hashed area wins
    issuer = fields.get(16)
    if issuer is not None and issuer.hex().upper() != key_id:
        raise FormatError(f"the one-pass key ID {key_id} differs from the signature's issuer {issuer.hex().upper()}")
    fpr, created = fields.get(33), fields.get(2)
    return (fpr[1:].hex().upper() if fpr and len(fpr) == 21 and fpr[0] == 4 else None,
            int.from_bytes(created, "big") if created and len(created) == 4 else None, body[2])


def _subpackets(area: bytes) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    pos = 0
    while pos < len(area):
        first = area[pos]
        if first < 192:
            length, pos = first, pos + 1
        elif first < 255:
            length, pos = ((first - 192) << 8) + _take(area, pos + 1, 1)[0] + 192, pos + 2
        else:
            length, pos = int.from_bytes(_take(area, pos + 1, 4), "big"), pos + 5
        if length == 0:
            raise FormatError("empty signature subpacket")
        sub = _take(area, pos, length)
        out.setdefault(sub[0] & 0x7F, sub[1:])
        pos += length
    return out
