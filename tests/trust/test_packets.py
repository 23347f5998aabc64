"""The signature-file reader (trust/signatures/packets.py) on messages built here packet by packet
(RFC 9580 §4-5), so that each field a report shows comes from the right bytes, and each damaged
field is refused with what is wrong. gpg-made files are read in test_payload.py."""

from __future__ import annotations

import bz2
import zlib

import pytest

from rebuildx.trust.signatures.packets import MAX_PACKETS, MAX_PAYLOAD, FormatError, read_message

KEY_ID = "0123456789ABCDEF"
FPR = "FEDCBA9876543210FEDCBA98" + KEY_ID


def length(n: int) -> bytes:
    """A new-format packet (or subpacket) length: one, two or five octets."""
    if n < 192:
        return bytes([n])
    if n < 8384:
        return bytes([((n - 192) >> 8) + 192, (n - 192) & 0xFF])
    return b"\xff" + n.to_bytes(4, "big")


def packet(tag: int, body: bytes) -> bytes:
    return bytes([0xC0 | tag]) + length(len(body)) + body


def sub(kind: int, data: bytes, five: bool = False) -> bytes:
    return (b"\xff" + (len(data) + 1).to_bytes(4, "big") if five else length(len(data) + 1)) + bytes([kind]) + data


def one_pass(key_id: str = KEY_ID, version: int = 3) -> bytes:
    return bytes([version, 0x00, 8, 22]) + bytes.fromhex(key_id) + b"\x01"


def literal(payload: bytes, filename: bytes = b"") -> bytes:
    return b"b" + bytes([len(filename)]) + filename + b"\x00\x00\x00\x00" + payload


def signature(hashed: bytes, unhashed: bytes = b"", version: int = 4, sigtype: int = 0, algo: int = 22) -> bytes:
    return (bytes([version, sigtype, algo, 8]) + len(hashed).to_bytes(2, "big") + hashed
            + len(unhashed).to_bytes(2, "big") + unhashed + b"\xab\xcd" + b"\x00\x08\xff")


def hashed_area(created: int = 1_700_000_000, fpr: str = FPR) -> bytes:
    return sub(33, b"\x04" + bytes.fromhex(fpr)) + sub(2, created.to_bytes(4, "big"))


def message(op: bytes = one_pass(), lit: bytes = literal(b"{}"), sig: bytes | None = None) -> bytes:
    sig = signature(hashed_area(), sub(16, bytes.fromhex(KEY_ID))) if sig is None else sig
    return packet(4, op) + packet(11, lit) + packet(2, sig)


def test_a_message_as_gpg_lays_it_out():
    m = read_message(message(lit=literal(b'{"critical":{}}', b"payload.json")))
    assert m.payload == b'{"critical":{}}'  # after the literal packet's file name and date
    assert (m.issuer_key_id, m.issuer_fpr, m.created, m.pubkey_algo, m.compressed) == (
        KEY_ID, FPR, 1_700_000_000, 22, False)


@pytest.mark.parametrize("payload", [b"", b"x" * MAX_PAYLOAD])
def test_an_empty_payload_and_one_at_the_cap_are_read(payload):
    assert read_message(message(lit=literal(payload))).payload == payload


def test_subpackets_of_every_length_form_are_read():
    """A long notation (two-octet length) and a creation time with a five-octet length, in a
    hashed area longer than 255 bytes: the fields after them are still found."""
    hashed = sub(20, b"n" * 600) + sub(2, (1_650_000_000).to_bytes(4, "big"), five=True) + sub(
        33, b"\x04" + bytes.fromhex(FPR))
    m = read_message(message(sig=signature(hashed)))
    assert (m.created, m.issuer_fpr) == (1_650_000_000, FPR)


def test_the_hashed_area_wins_and_a_critical_flag_is_ignored():
    hashed = sub(2 | 0x80, (1_600_000_000).to_bytes(4, "big"))
    unhashed = sub(2, (1_800_000_000).to_bytes(4, "big")) + sub(16, bytes.fromhex(KEY_ID))
    m = read_message(message(sig=signature(hashed, unhashed)))
    assert (m.created, m.issuer_fpr) == (1_600_000_000, None)


@pytest.mark.parametrize("hashed, created, fpr", [
    (sub(2, b"\x00\x00\x01"), None, None),  # a creation time that is not four octets
    (sub(2, b"\x00\x00\x00\x01\x00"), None, None),
    (sub(33, b"\x05" + bytes.fromhex(FPR)), None, None),  # not a v4 fingerprint
    (sub(33, b"\x04" + bytes.fromhex(FPR)[:-1]), None, None),
    (sub(33, b"\x04" + bytes.fromhex(FPR)) + sub(2, (0x01020304).to_bytes(4, "big")), 0x01020304, FPR),
])
def test_odd_issuer_fields_are_left_out_not_misread(hashed, created, fpr):
    m = read_message(message(sig=signature(hashed)))
    assert (m.created, m.issuer_fpr) == (created, fpr)


@pytest.mark.parametrize("data, words", [
    (message(lit=b"b\x00\x00\x00\x00"), "truncated literal data packet"),
    (message(lit=b""), "truncated literal data packet"),  # not even a format octet and a name length
    (message(lit=b"b"), "truncated literal data packet"),
    (message(lit=b"b\x09\x00\x00\x00\x00abc"), "truncated literal data packet"),  # a file name longer than the packet
    (message(lit=literal(b"x" * (MAX_PAYLOAD + 1))), f"payload of {MAX_PAYLOAD + 1} bytes, over the {MAX_PAYLOAD}"),
    (message(op=one_pass(version=4)), "unsupported one-pass signature packet (version 04, 13 bytes)"),
    (message(op=one_pass()[:12]), "unsupported one-pass signature packet (version 03, 12 bytes)"),
    (message(op=b""), "unsupported one-pass signature packet (version none, 0 bytes)"),
    (message(sig=signature(hashed_area(), version=5)), "unsupported signature packet (version 05; StageX signs v4)"),
    (message(sig=b""), "unsupported signature packet (version none; StageX signs v4)"),
    (message(sig=b"\x04\x00\x16\x08\x00"), "unsupported signature packet (version 04; StageX signs v4)"),
    (message(sig=b"\x04\x00\x16\x08\x00\x00"), "truncated packet"),  # cut after the hashed area's length
    (message(sig=signature(hashed_area(), sigtype=1)), "signature type 0x01, expected a signature of a binary"),
    (message(sig=signature(hashed_area(), sub(16, bytes.fromhex("00000000DEADBEEF")))),
     f"the one-pass key ID {KEY_ID} differs from the signature's issuer 00000000DEADBEEF"),
    (message(sig=signature(hashed_area() + b"\x00")), "empty signature subpacket"),
    (message(sig=signature(b"\xc5")), "truncated packet"),  # a two-octet subpacket length cut short
    (message(sig=signature(b"\xff\x00\x00")), "truncated packet"),
])
def test_each_damaged_field_is_named(data, words):
    with pytest.raises(FormatError) as e:
        read_message(data)
    assert str(e.value).startswith(words)


def test_a_signature_issuer_key_in_upper_case_hex_is_the_one_pass_key():
    """gpg writes the issuer key ID subpacket in the unhashed area; its hex is compared as the
    one-pass packet's, upper case, so a matching pair is read, not refused."""
    low = "abcdef0123456789"
    data = message(op=one_pass(low), sig=signature(hashed_area(), sub(16, bytes.fromhex(low))))
    assert read_message(data).issuer_key_id == low.upper()


def old_packet(tag: int, body: bytes, kind: int) -> bytes:
    """An old-format packet: a one-, two- or four-octet length, or (kind 3) to the end of the data."""
    head = bytes([0x80 | tag << 2 | kind])
    return head + (b"" if kind == 3 else len(body).to_bytes((1, 2, 4)[kind], "big")) + body


def partial(tag: int, body: bytes, chunks: list[int]) -> bytes:
    """A new-format packet in partial body lengths (as gpg streams a literal or compressed packet):
    chunks of 2**k octets, then the rest with an ordinary length."""
    out, pos = bytes([0xC0 | tag]), 0
    for k in chunks:
        out += bytes([224 + k]) + body[pos:pos + (1 << k)]
        pos += 1 << k
    return out + length(len(body) - pos) + body[pos:]


def compressed(algo: int, inner: bytes) -> bytes:
    data = {0: inner, 1: zlib.compress(inner)[2:-4], 2: zlib.compress(inner), 3: bz2.compress(inner)}[algo]
    return packet(8, bytes([algo]) + data)


@pytest.mark.parametrize("algo", [0, 1, 2, 3])
def test_each_compression_gpg_may_use_is_read(algo):
    """Uncompressed, ZIP (raw deflate), ZLIB and BZip2 (RFC 9580 §9.4)."""
    m = read_message(compressed(algo, message(lit=literal(b"hello"))))
    assert (m.payload, m.compressed, m.issuer_key_id) == (b"hello", True, KEY_ID)


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_old_format_packets_of_each_length_are_read(kind):
    sig = signature(hashed_area(), sub(16, bytes.fromhex(KEY_ID)))
    data = old_packet(4, one_pass(), kind) + old_packet(11, literal(b"x" * 300), 1) + old_packet(2, sig, kind)
    assert read_message(data).payload == b"x" * 300


def test_an_old_format_packet_of_indeterminate_length_runs_to_the_end():
    sig = signature(hashed_area(), sub(16, bytes.fromhex(KEY_ID)))
    data = packet(4, one_pass()) + packet(11, literal(b"{}")) + old_packet(2, sig, 3)
    assert read_message(data).created == 1_700_000_000


@pytest.mark.parametrize("chunks", [[0], [1, 0, 3], [9]])
def test_a_literal_in_partial_body_lengths_is_joined(chunks):
    body = literal(b"p" * 700)
    sig = signature(hashed_area(), sub(16, bytes.fromhex(KEY_ID)))
    data = packet(4, one_pass()) + partial(11, body, chunks) + packet(2, sig)
    assert read_message(data).payload == b"p" * 700


def test_a_compressed_packet_in_partial_body_lengths_is_read():
    inner = zlib.compress(message(lit=literal(b"hello")))
    assert read_message(partial(8, b"\x02" + inner, [2, 4])).payload == b"hello"


@pytest.mark.parametrize("data, message_", [
    (b"", "empty file"),
    (b'{"critical":{}}', "not OpenPGP data (byte 0x7b at offset 0)"),  # a payload given for its signature
    (packet(4, one_pass())[:9], "truncated packet (needs 15 bytes, has 9)"),
    (partial(4, one_pass(), [2]), "partial body length in a packet of type 4"),
    (packet(8, b""), "empty compressed packet"),
    (packet(8, b"\x03" + bz2.compress(b"x" * 1000)[:-10]),
     "compressed data is truncated (it ends before its end marker)"),
    (packet(11, b"b\x00\x00\x00\x00\x00") * MAX_PACKETS, f"packet types {[11] * MAX_PACKETS}, expected"),
    (packet(11, b"b\x00\x00\x00\x00\x00") * (MAX_PACKETS + 1), f"more than {MAX_PACKETS} packets"),
])
def test_what_is_wrong_is_said_exactly(data, message_):
    with pytest.raises(FormatError) as e:
        read_message(data)
    assert str(e.value).startswith(message_)
