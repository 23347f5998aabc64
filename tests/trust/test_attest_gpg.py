"""OpenPGP keys through gpg: a real key in a throwaway keyring signs, its armored export is trusted."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from attestkit import NOW, RELEASE, A, facts, key, matching, put, signed_lines
from rebuildx.trust.attest.check import CheckVerdict, check_release
from rebuildx.trust.attest.envelope import to_line
from rebuildx.trust.attest.keys import AttestError, load_signer, load_trusted
from rebuildx.trust.attest.sources import Source


def gpg(home: Path, *args: str) -> str:
    return subprocess.run(["gpg", "--batch", "--homedir", str(home), *args], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture
def keyring(monkeypatch, tmp_path):
    """A keyring of its own with one Ed25519 OpenPGP key; (fingerprint, armored export)."""
    home = Path(tempfile.mkdtemp(prefix="rbx-t-"))  # short: gpg-agent's socket lives in it
    home.chmod(0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))
    try:
        gpg(home, "--passphrase", "", "--quick-gen-key", "Rebuilder <r@example.invalid>", "ed25519", "sign", "never")
        fpr = next(ln.split(":")[9] for ln in gpg(home, "--with-colons", "--list-keys").splitlines()
                   if ln.startswith("fpr:"))
        armored = tmp_path / "rebuilder.asc"
        armored.write_text(gpg(home, "--export", "--armor", fpr))
        yield fpr, armored
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def test_an_openpgp_key_signs_and_its_export_is_trusted(keyring, tmp_path):
    fpr, armored = keyring
    signer = load_signer(Path(f"gpg:{fpr}"))
    root = tmp_path / "tree"
    lines = signed_lines(matching(["core-x"]), facts(), signer)
    put(root, lines)
    ed_signer, ed_pub = key(tmp_path, "ed")
    put(root, signed_lines(matching(["core-x"]), facts(), ed_signer))
    trusted = load_trusted([armored, ed_pub, armored])
    assert len(trusted) == 2 and fpr.lower() in trusted
    result = check_release(RELEASE, {"core-x": A}, ["core-x"], [Source(str(root))], trusted, 2, NOW)
    assert result.packages[0].verdict is CheckVerdict.AGREED
    assert result.packages[0].matched_by == {fpr.lower(), ed_signer.public_key.keyid}
    # the same envelope with its payload changed: a bad signature by the trusted OpenPGP key
    env = json.loads(lines[("core-x", A)][0])
    statement = json.loads(base64.b64decode(env["payload"]))
    statement["predicate"]["rebuild"]["treeCommit"] = "0" * 40
    env["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    bad = tmp_path / "bad"
    put(bad, {("core-x", A): [to_line(env)]})
    result = check_release(RELEASE, {"core-x": A}, ["core-x"], [Source(str(bad))], trusted, 1, NOW)
    assert result.packages[0].verdict is CheckVerdict.NONE and "bad signature" in result.packages[0].rejected[0]


def test_unusable_openpgp_keys(keyring, tmp_path):
    with pytest.raises(AttestError, match="gpg:1234: give the key's full fingerprint"):
        load_signer(Path("gpg:1234"))
    with pytest.raises(AttestError, match="not usable for signing"):
        load_signer(Path("gpg:" + "0" * 40))
    junk = tmp_path / "junk.asc"
    junk.write_text("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----\n")
    with pytest.raises(AttestError, match="junk.asc: gpg cannot import it"):
        load_trusted([junk])
