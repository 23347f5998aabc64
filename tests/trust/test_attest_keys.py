"""Keys, DSSE with the libraries alone, and the append-only published tree."""

from __future__ import annotations

import json
import stat
import subprocess
import sys

import pytest

from attestkit import RELEASE, A, B, facts, key, matching, put, signed_lines
from rebuildx.compare.verdicts import compare
from rebuildx.trust.attest import store
from rebuildx.trust.attest.keys import AttestError, keygen, load_public, load_signer
from rebuildx.trust.attest.publish import publish

# Verifies an envelope with securesystemslib and in-toto's attestation library only.
LIBRARY_ONLY = """
import json, sys
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from google.protobuf import json_format
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

key = SSlibKey.from_crypto(load_pem_public_key(open(sys.argv[1], "rb").read()))
envelope = Envelope.from_dict(json.loads(open(sys.argv[2], "rb").readline()))
envelope.verify([key], 1)
assert envelope.payload_type == "application/vnd.in-toto+json"
statement = json.loads(envelope.payload)
Statement.copy_from_pb(json_format.ParseDict(statement, statement_pb2.Statement())).validate()
assert not any(m == "rebuildx" or m.startswith("rebuildx.") for m in sys.modules)
print(statement["subject"][0]["name"], statement["subject"][0]["digest"]["sha256"],
      statement["predicate"]["verificationResult"])
"""


def test_keygen_writes_a_private_key_0600_and_never_overwrites(tmp_path):
    pub, keyid = keygen(tmp_path / "k")
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600 and pub == tmp_path / "k.pub"
    assert load_public(pub).keyid == keyid == load_signer(tmp_path / "k").public_key.keyid
    before = (tmp_path / "k").read_bytes()
    with pytest.raises(AttestError, match="exists; keygen never overwrites"):
        keygen(tmp_path / "k")
    assert (tmp_path / "k").read_bytes() == before


def test_unusable_key_files_are_one_clear_error(tmp_path):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "rsa").write_bytes(rsa_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    (tmp_path / "rsa.pub").write_bytes(rsa_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    (tmp_path / "junk").write_bytes(b"-----BEGIN PUBLIC KEY-----\nnope\n")
    (tmp_path / "big").write_bytes(b"x" * 1_000_000)
    with pytest.raises(AttestError, match="rsa: a .*RSA.*Ed25519"):
        load_signer(tmp_path / "rsa")
    with pytest.raises(AttestError, match="rsa.pub: a .*RSA.*only Ed25519"):
        load_public(tmp_path / "rsa.pub")
    with pytest.raises(AttestError, match="junk: not a public key in PEM"):
        load_public(tmp_path / "junk")
    with pytest.raises(AttestError, match="big: .*larger than"):
        load_public(tmp_path / "big")
    with pytest.raises(AttestError, match="missing: cannot read"):
        load_signer(tmp_path / "missing")


def test_a_signed_statement_verifies_with_the_libraries_alone(tmp_path):
    signer, pub = key(tmp_path, "k")
    root = tmp_path / "tree"
    put(root, signed_lines(compare(["core-x"], {"core-x": B}, {"core-x": A}), facts(), signer))
    path = root / store.relative_path(RELEASE, "core-x", A)
    done = subprocess.run([sys.executable, "-c", LIBRARY_ONLY, str(pub), str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["stagex/core-x", A, "FAILED"]
    other, other_pub = key(tmp_path, "other")
    done = subprocess.run([sys.executable, "-c", LIBRARY_ONLY, str(other_pub), str(path)], capture_output=True, text=True)
    assert done.returncode != 0 and "VerificationError" in done.stderr


def test_publish_appends_and_never_rewrites(tmp_path):
    signer, _ = key(tmp_path, "k")
    local, to = tmp_path / "local", tmp_path / "pub"
    put(local, signed_lines(matching(["core-x", "core-y"]), facts(), signer))
    first = publish(local, to)
    assert (first.files, first.appended) == (2, 2)
    path = to / store.relative_path(RELEASE, "core-x", A)
    before = path.read_bytes()
    assert publish(local, to).appended == 0 and path.read_bytes() == before  # nothing twice
    put(local, signed_lines(matching(["core-x"]), facts(rebuilder="urn:second-run"), signer))
    assert publish(local, to).appended == 1
    after = path.read_bytes()
    assert after.startswith(before) and after.count(b"\n") == 2
    index = json.loads((to / "index.json").read_text())
    assert index["releases"][RELEASE]["core-x"] == [
        {"digest": f"sha256:{A}", "path": f"{RELEASE}/core-x@sha256={A}.intoto.jsonl", "envelopes": 2}]


def test_publish_refuses_a_misplaced_or_damaged_line_before_writing(tmp_path):
    signer, _ = key(tmp_path, "k")
    local, to = tmp_path / "local", tmp_path / "pub"
    lines = signed_lines(matching(["core-y"]), facts(), signer)
    put(local, {("core-x", A): lines[("core-y", A)]})  # core-y's statement in core-x's file
    with pytest.raises(AttestError, match=r"core-x@sha256=a+\.intoto\.jsonl: line 1: a statement about core-y"):
        publish(local, to)
    assert not to.exists() or not list(to.rglob("*.jsonl"))
    damaged = tmp_path / "damaged"
    put(damaged, {("core-x", A): [b'{"payload": "!!"}\n']})
    with pytest.raises(AttestError, match="line 1: not a DSSE envelope"):
        publish(damaged, to)
    with pytest.raises(AttestError, match="no attestations to publish"):
        publish(tmp_path / "nothing", to)
