"""Ed25519 keys for attestations: made by `attest keygen`, read for signing and for trust.

The private key is PKCS#8 PEM (what securesystemslib's CryptoSigner reads), written with mode
0600 and never over an existing file; the public key is SubjectPublicKeyInfo PEM beside it
(KEYFILE.pub). A key's id is securesystemslib's: the sha256 of its canonical public form, so
the same key given twice (or in two files) is one rebuilder.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (Encoding, PublicFormat, load_pem_private_key,
                                                          load_pem_public_key)
from securesystemslib.signer import CryptoSigner, Key, Signer, SSlibKey

from rebuildx.errors import RebuildxError

MAX_KEY_BYTES = 256 * 1024  # a PEM key is a few hundred bytes, an armored OpenPGP export a few KiB


class AttestError(RebuildxError):
    """A key, statement, envelope or attestation source that cannot be used as asked."""


def keygen(path: Path) -> tuple[Path, str]:
    """Write a new Ed25519 key pair to `path` (0600) and `path`.pub; return (pub path, key id).
    Both or neither: a .pub that cannot be written takes the private key it belongs to away."""
    if not path.name:
        raise AttestError(f"{path}: not a file name for a key")
    pub = path.with_name(path.name + ".pub")
    for p in (path, pub):
        if os.path.lexists(p):
            raise AttestError(f"{p}: exists; keygen never overwrites a key (move it away first)")
    signer = CryptoSigner.generate_ed25519()
    written: list[Path] = []
    try:
        for p, data, mode in ((path, signer.private_bytes, 0o600), (pub, _public_pem(signer), 0o644)):
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)  # O_EXCL: nor over a symlink
            written.append(p)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
    except (OSError, ValueError) as e:  # ValueError: a NUL byte in the path
        for p in written:
            p.unlink(missing_ok=True)
        if isinstance(e, FileExistsError):
            raise AttestError(f"{e.filename}: exists; keygen never overwrites a key (move it away first)") from e
        where, why = getattr(e, "filename", None) or path, getattr(e, "strerror", None) or e
        raise AttestError(f"{where!s}: cannot write the key: {why}") from e
    return pub, signer.public_key.keyid


def _public_pem(signer: CryptoSigner) -> bytes:
    return load_pem_private_key(signer.private_bytes, None).public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def _read(path: Path, what: str) -> tuple[bytes, int]:
    """The file's bytes and mode. At most MAX_KEY_BYTES: a file's size can lie (/dev/zero, a pipe),
    so the read is capped."""
    try:
        with path.open("rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            data = f.read(MAX_KEY_BYTES + 1)
    except (OSError, ValueError) as e:  # ValueError: a NUL byte in the path
        raise AttestError(f"{path}: cannot read the {what}: {getattr(e, 'strerror', None) or e}") from e
    if len(data) > MAX_KEY_BYTES:
        raise AttestError(f"{path}: {what} is larger than {MAX_KEY_BYTES} bytes; not a key")
    return data, mode


def load_signer(path: Path) -> Signer:
    """The signer of a private key file written by `keygen` (any Ed25519 PKCS#8 PEM), or of the
    user's OpenPGP key in their gpg keyring when `path` is `gpg:FINGERPRINT`."""
    if str(path).startswith("gpg:"):
        from rebuildx.trust.attest.gpgkeys import gpg_signer

        return gpg_signer(str(path)[4:])
    data, mode = _read(path, "private key")
    try:
        private = load_pem_private_key(data, None)
    except Exception as e:  # ValueError, TypeError (encrypted), UnsupportedAlgorithm
        raise AttestError(f"{path}: not an unencrypted PKCS#8 PEM private key ({type(e).__name__}: {e})") from e
    if not isinstance(private, Ed25519PrivateKey):
        raise AttestError(f"{path}: a {type(private).__name__}; attestations are signed with Ed25519 keys")
    if stat.S_ISREG(mode) and mode & 0o077:  # as ssh refuses it: whoever reads it signs as this rebuilder
        raise AttestError(f"{path}: a private key others can read (mode {stat.S_IMODE(mode):04o}); chmod 600 {path}")
    return CryptoSigner(private)


def load_public(path: Path) -> Key:
    """A trusted public key: Ed25519 in PEM, or an armored OpenPGP public key export (gpgkeys)."""
    data, _ = _read(path, "public key")
    if data.lstrip().startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----"):
        from rebuildx.trust.attest.gpgkeys import armored_key

        return armored_key(path, data)
    if (blocks := data.count(b"-----BEGIN ")) > 1:  # cryptography would read the first and drop the rest
        raise AttestError(f"{path}: holds {blocks} PEM blocks; give one key per --trust file")
    try:
        public = load_pem_public_key(data)
    except Exception as e:  # cryptography raises several kinds for a bad PEM
        raise AttestError(f"{path}: not a public key in PEM ({type(e).__name__}: {e})") from e
    if not isinstance(public, Ed25519PublicKey):
        raise AttestError(f"{path}: a {type(public).__name__}; only Ed25519 keys are trusted")
    return SSlibKey.from_crypto(public)


def load_trusted(paths: list[Path]) -> dict[str, Key]:
    """Trusted keys by key id: a key given twice counts once."""
    keys: dict[str, Key] = {}
    for p in paths:
        key = load_public(p)
        keys[key.keyid] = key
    return keys
