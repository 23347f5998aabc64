"""Maintainers' keys for the signature tests, made by gpg in a throwaway home (never real keys).

Alice: Ed25519 primary with two Ed25519 signing subkeys; Bob: RSA-2048 primary with an RSA-2048
signing subkey; Carol: a valid key nobody trusts; Dave: a key whose expiry was set, after he
signed, to a date before his signature; Erin: revoked after she signed; Mallory: not in the
keyring handed to rebuildx. RSA is 2048 bits to keep the session's setup short.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Keys:
    home: Path
    keyring: Path  # public keys of everyone but Mallory
    fpr: dict[str, str] = field(default_factory=dict)  # person -> primary fingerprint
    subkeys: dict[str, list[str]] = field(default_factory=dict)  # person -> signing subkey fingerprints
    early: dict[str, bytes] = field(default_factory=dict)  # signed before expiry / revocation

    def env(self) -> dict[str, str]:
        return {**os.environ, "GNUPGHOME": str(self.home)}

    def gpg(self, *args: str, stdin: bytes | None = None) -> bytes:
        done = subprocess.run(["gpg", "--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", "",
                               *args], input=stdin, capture_output=True, env=self.env(), check=False)
        if done.returncode != 0:
            raise RuntimeError(f"gpg {' '.join(args)}: {done.stderr.decode()[-400:]}")
        return done.stdout

    def sign(self, payload: bytes, key: str, *, at: str | None = None, compress: bool = True) -> bytes:
        """An inline-signed binary message as sign.sh makes it; `key` a person or a subkey fpr."""
        args = ["--faked-system-time", at, "--ignore-time-conflict"] if at else []
        if not compress:
            args += ["--compress-algo", "none"]
        user = self.fpr.get(key, key)
        return self.gpg(*args, "--sign", "--no-armor", "--local-user", f"{user}!" if key not in self.fpr else user,
                        stdin=payload)

    def close(self) -> None:
        """Stop the gpg-agent that key generation and signing started for this home."""
        subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "gpg-agent"], capture_output=True,
                       check=False)

    def export(self, path: Path, *people: str) -> Path:
        path.write_bytes(self.gpg("--export", *(self.fpr[p] for p in people)))
        return path


def _primary(keys: Keys, person: str, algo: str, *, at: str | None = None) -> str:
    time = ["--faked-system-time", at] if at else []
    keys.gpg(*time, "--quick-gen-key", f"{person} <{person}@example.org>", algo, "cert", "never")
    fpr = _fprs(keys, person)[0]
    keys.fpr[person] = fpr
    return fpr


def _subkey(keys: Keys, person: str, algo: str, *, at: str | None = None) -> str:
    time = ["--faked-system-time", at] if at else []
    keys.gpg(*time, "--quick-add-key", keys.fpr[person], algo, "sign", "never")
    sub = _fprs(keys, person)[-1]
    keys.subkeys.setdefault(person, []).append(sub)
    return sub


def _fprs(keys: Keys, person: str) -> list[str]:
    out = keys.gpg("--with-colons", "--fixed-list-mode", "--list-keys", f"<{person}@example.org>").decode()
    return [ln.split(":")[9] for ln in out.splitlines() if ln.startswith("fpr:")]


def make_keys(home: Path, early: dict[str, tuple[str, bytes, str | None]]) -> Keys:
    """Everyone's keys; `early` (label -> person, payload, faked time) are signed before Dave's
    key is made to expire and Erin's is revoked, into `keys.early`."""
    home.mkdir(mode=0o700, parents=True)
    keys = Keys(home, home.parent / "keyring.gpg")
    _primary(keys, "alice", "ed25519")
    _subkey(keys, "alice", "ed25519")
    _subkey(keys, "alice", "ed25519")
    _primary(keys, "bob", "rsa2048")
    _subkey(keys, "bob", "rsa2048")
    _primary(keys, "carol", "ed25519")
    _subkey(keys, "carol", "ed25519")
    _primary(keys, "mallory", "ed25519")
    _subkey(keys, "mallory", "ed25519")
    _primary(keys, "dave", "ed25519", at="20200101T000000")
    _subkey(keys, "dave", "ed25519", at="20200101T000000")
    _primary(keys, "erin", "ed25519")
    _subkey(keys, "erin", "ed25519")
    keys.early = {label: keys.sign(payload, person, at=at) for label, (person, payload, at) in early.items()}
    expire_dave(keys)
    revoke_erin(keys)
    keys.export(keys.keyring, "alice", "bob", "carol", "dave", "erin")
    return keys


def expire_dave(keys: Keys) -> None:
    """After Dave signed (in 2022), make his key expire in 2021, by a self-signature dated 2020."""
    for which in ((), ("*",)):
        keys.gpg("--faked-system-time", "20200601T000000", "--quick-set-expire", keys.fpr["dave"],
                 "20210101T000000", *which)


def revoke_erin(keys: Keys) -> None:
    """Import the revocation certificate gpg stored when Erin's key was made."""
    cert = (keys.home / "openpgp-revocs.d" / f"{keys.fpr['erin']}.rev").read_text()
    armored = cert[cert.index(":-----BEGIN"):].replace(":-----BEGIN", "-----BEGIN", 1)
    keys.gpg("--import", stdin=armored.encode())
