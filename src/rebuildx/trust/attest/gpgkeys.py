"""OpenPGP keys through gpg, beside Ed25519 files: `--attest-key gpg:FINGERPRINT` signs with the
user's key in their keyring (GNUPGHOME), and `--trust alice.asc` trusts an armored public key
export (`gpg --export --armor FINGERPRINT`). Both go through securesystemslib's GPGSigner and
GPGKey, so the DSSE envelope is the same and only the signature scheme differs
(`pgp+eddsa-ed25519`, `pgp+rsa-pkcsv1.5`, …). As securesystemslib says, a key's expiry and
revocation are not considered: trust is the file the user gives.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from securesystemslib.signer import GPGKey, GPGSigner

from rebuildx.trust.attest.keys import AttestError

ARMOR = b"-----BEGIN PGP PUBLIC KEY BLOCK-----"
_FPR = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")


def _gpg(homedir: str, *args: str, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["gpg", "--batch", "--no-tty", "--homedir", homedir, *args], input=data,
                              capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise AttestError(f"gpg cannot run: {e}") from e


def gpg_signer(fingerprint: str) -> GPGSigner:
    """The signer of the secret key FINGERPRINT in the user's keyring (GNUPGHOME or ~/.gnupg)."""
    if not _FPR.fullmatch(fingerprint):
        raise AttestError(f"gpg:{fingerprint}: give the key's full fingerprint (40 hex digits)")
    homedir = os.environ.get("GNUPGHOME") or None
    try:
        uri, public = GPGSigner.import_(fingerprint.lower(), homedir)
    except Exception as e:  # ValueError (no such key), OSError and UnsupportedLibraryError (no gpg)
        raise AttestError(f"gpg:{fingerprint}: not usable for signing ({type(e).__name__}: {e})") from e
    return GPGSigner(public, homedir)


def armored_key(path: Path, data: bytes) -> GPGKey:
    """The one OpenPGP public key of an armored export, read by gpg in a throwaway keyring."""
    home = tempfile.mkdtemp(prefix="rbx-gpg-")  # short: gpg-agent's socket path has a length limit
    try:
        done = _gpg(home, "--import", data=data)
        if done.returncode != 0:
            said = " ".join(done.stderr.decode(errors="replace").split())  # gpg says it in several lines
            raise AttestError(f"{path}: gpg cannot import it ({said[-200:]})")
        listing = _gpg(home, "--with-colons", "--list-keys").stdout.decode(errors="replace").splitlines()
        primaries = [i for i, ln in enumerate(listing) if ln.startswith("pub:")]
        if len(primaries) != 1:
            raise AttestError(f"{path}: holds {len(primaries)} OpenPGP keys; give one key per --trust file")
        fpr = next(ln.split(":")[9] for ln in listing[primaries[0]:] if ln.startswith("fpr:"))
        _, key = GPGSigner.import_(fpr.lower(), home)
        assert isinstance(key, GPGKey)
        return key
    except (ValueError, OSError) as e:
        raise AttestError(f"{path}: not a usable OpenPGP public key ({type(e).__name__}: {e})") from e
    finally:
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], capture_output=True, check=False)
        shutil.rmtree(home, ignore_errors=True)
