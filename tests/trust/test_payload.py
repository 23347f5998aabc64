"""Payloads of both formats, the bytes sign.sh writes, and the packet reader's refusals."""

from __future__ import annotations

import string
import subprocess
import zlib

import pytest

from rebuildx.trust.signatures.packets import MAX_FILE, FormatError, read_message
from rebuildx.trust.signatures.payload import MAX_DEPTH, PayloadError, parse_claim, sign_payload
from sigtree import atomic, digest, legacy

HEX = digest("x")


def test_legacy_and_atomic_claims():
    old = parse_claim(legacy("user-buildkit", HEX))
    new = parse_claim(atomic("user-buildkit", HEX, "0.21.1"))
    assert (old.format, old.name, old.tag, old.digest) == ("legacy", "user-buildkit", None, HEX)
    assert (new.format, new.name, new.tag, new.digest) == ("atomic", "user-buildkit", "0.21.1", HEX)


def test_sign_payload_is_byte_identical_to_sign_sh():
    """The printf line of StageX's src/sign.sh, run by bash."""
    script = ('printf \'{"critical":{"identity":{"docker-reference":"%s/%s:%s"},"image":{"docker-manifest-digest":'
              '"%s"},"type":"atomic container signature"},"optional":{}}\' "$1" "$2" "$3" "sha256:$4"')
    shell = subprocess.run(["bash", "-c", script, "sign.sh", "stagex", "core-bash", "5.2.37", HEX],
                           capture_output=True, check=True).stdout
    assert sign_payload("stagex", "core-bash", "5.2.37", HEX) == shell


@pytest.mark.parametrize("payload, words", [
    (b"[" * 100 + b"]" * 100, "nests deeper"),
    (b"not json", "not JSON"),
    (b"42", "JSON int"),
    (b"[]", "list of 0 items"),
    (b'{"critical":{"type":"atomic container signature"}}', "critical.identity is missing"),
    (atomic("core-a", HEX).replace(b"sha256:", b""), "expected sha256:<64 hex digits>"),
    (legacy("core-a", "sha256:" + HEX), "expected 64 hex digits"),
    (atomic("core-a", HEX).replace(b"atomic container", b"cosign container"), "critical.type"),
    (atomic("core-a", HEX).replace(b"stagex/core-a:1.0", b"stagex/../etc"), "is not <registry>/<name>"),
])
def test_bad_payloads_name_the_field(payload, words):
    with pytest.raises(PayloadError, match=words):
        parse_claim(payload)


def test_reader_reads_both_compressed_and_plain(keys):
    plain = read_message(keys.sign(b"hello", "bob", compress=False))
    packed = read_message(keys.sign(b"hello", "alice"))
    assert plain.payload == packed.payload == b"hello"
    assert (plain.compressed, packed.compressed) == (False, True)
    assert plain.issuer_key_id == keys.subkeys["bob"][0][-16:] and plain.pubkey_algo == 1
    assert packed.issuer_fpr in keys.subkeys["alice"] and packed.pubkey_algo == 22


def _compressed(inner: bytes) -> bytes:
    body = b"\x02" + zlib.compress(inner)
    return bytes([0xC8, 0xFF]) + len(body).to_bytes(4, "big") + body


@pytest.mark.parametrize("data, words", [
    (b"", "empty file"),
    (b"hello", "not OpenPGP data"),
    (b"\x90\x0d" + b"\x03" * 5, "truncated packet"),
    (b"\xa3" + b"\x00" * (MAX_FILE + 1), "over the"),
    (_compressed(b"\x00" * (2 * MAX_FILE)), "expands past"),
    (bytes([0xC8, 0x03, 0x02, 0x78, 0x9C]), "truncated"),
    (bytes([0xC8, 0x03, 0x02, 0x00, 0x00]), "damaged"),
    (bytes([0xC8, 0x02, 0x07, 0x00]), "unknown compression algorithm 7"),
    (bytes([0xCB, 0x06]) + b"b\x00\x00\x00\x00\x00", "packet types [11]"),
])
def test_reader_refuses_what_is_not_a_stagex_signature(data, words):
    with pytest.raises(FormatError, match=words.replace("[", r"\[").replace("]", r"\]")):
        read_message(data)


def test_reader_refuses_a_second_signature(keys):
    one = keys.sign(b"hello", "alice", compress=False)
    with pytest.raises(FormatError, match="packet types"):
        read_message(one + one)


def test_the_claim_keeps_the_reference_as_written():
    """The reference is what a report quotes when a file claims another image."""
    new = parse_claim(atomic("core-bash", HEX, "5.2.37"))
    old = parse_claim(legacy("core-bash", HEX))
    assert (new.reference, new.registry) == ("stagex/core-bash:5.2.37", "stagex")
    assert (old.reference, old.registry) == ("stagex/core-bash", "stagex")


@pytest.mark.parametrize("payload, message", [
    (b'{"optional":{}}', "critical is missing or not a dict"),
    (b'{"critical":{"identity":{}}}', "critical.type is missing or not a str"),
    (b'{"critical":{"type":7}}', "critical.type is missing or not a str"),
    (b'{"critical":{"type":"atomic container signature","identity":[]}}', "critical.identity is missing or not a dict"),
    (b'{"critical":{"type":"atomic container signature","identity":{}}}',
     "critical.identity.docker-reference is missing or not a str"),
    (b'{"critical":{"type":"atomic container signature","identity":{"docker-reference":"stagex/a"}}}',
     "critical.image is missing or not a dict"),
    (b'{"critical":{"type":"atomic container signature","identity":{"docker-reference":"stagex/a"},"image":{}}}',
     "critical.image.docker-manifest-digest is missing or not a str"),
    (b"{not json", "payload is not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
])
def test_a_missing_field_is_named_by_its_path(payload, message):
    with pytest.raises(PayloadError) as e:
        parse_claim(payload)
    assert str(e.value) == message


@pytest.mark.parametrize("old, new, field", [
    (b"stagex/core-a:1.0", b"stagex/" + b"N" * 200, "critical.identity.docker-reference "),
    (b"sha256:" + HEX.encode(), b"sha256:" + b"f" * 200, "critical.image.docker-manifest-digest is "),
    (b"atomic container signature", b"t" * 200, "critical.type is "),
])
def test_a_long_bad_value_is_quoted_to_80_characters(old, new, field):
    """A hostile payload's value is cut in the message, so a report line stays short."""
    value = new.decode()
    with pytest.raises(PayloadError) as e:
        parse_claim(atomic("core-a", HEX).replace(old, new))
    assert str(e.value).startswith(field + repr(value[:60 if field == "critical.type is " else 80]))


def _nested(depth: int, sibling: bool = False) -> bytes:
    """A valid atomic claim whose `optional` object nests to `depth` levels in all, under keys of
    any letters (only brackets count as nesting); `sibling` puts a closed object before the chain."""
    inner = "{}"
    for i in range(depth - 3):
        inner = '{"%s":%s}' % (string.ascii_letters[i::7], inner)
    inner = '{%s"deep":%s}' % ('"first":{"x":{}},' if sibling else "", inner)
    return atomic("core-a", HEX).replace(b'"optional":{}', b'"optional":' + inner.encode())


@pytest.mark.parametrize("sibling", [False, True])
def test_a_claim_nesting_to_the_cap_is_read_and_one_level_more_refused(sibling):
    assert parse_claim(_nested(MAX_DEPTH, sibling)).name == "core-a"
    with pytest.raises(PayloadError) as e:
        parse_claim(_nested(MAX_DEPTH + 1, sibling))
    assert str(e.value) == f"payload JSON nests deeper than {MAX_DEPTH} levels"


def test_brackets_closed_again_do_not_add_up():
    """Depth, not the number of brackets: many shallow lists in a real claim's optional part."""
    shallow = b'"optional":{"a":[[1],[2],[3],[4],[5],[6],[7],[8],[9]],"b":{}}'
    assert parse_claim(atomic("core-a", HEX).replace(b'"optional":{}', shallow)).name == "core-a"
