"""`rebuildx sign`: a maintainer signs exactly what they reproduced here, as `src/sign.sh` does.

Only packages whose latest verification on this machine MATCHed the release's published digest
are signed; the rest are refused by name. The payload is byte for byte the one sign.sh pipes
into gpg, the file is the next free `signature-N` of `stagex/<name>@sha256=<hex>/` (hard-linked
into place, so an existing file is never overwritten, even by a concurrent signer), and nothing
is signed where this key's primary already signed. Signing runs the user's own gpg with the
user's environment (GNUPGHOME, agent), so keys on a smartcard work.
"""

from __future__ import annotations

import enum
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rebuildx.errors import RebuildxError
from rebuildx.trust.signatures.gpg import gpg_binary
from rebuildx.trust.signatures.packets import MAX_FILE, FormatError, read_message
from rebuildx.trust.signatures.payload import sign_payload
from rebuildx.trust.signatures.source import REGISTRY, image_dir, numbered

REF_NAME = "org.opencontainers.image.ref.name"


class SignError(RebuildxError):
    """Signing cannot start or gpg failed to sign."""


class SignOutcome(enum.Enum):
    SIGNED = "SIGNED"
    ALREADY = "ALREADY"  # this key's primary signed this image before: nothing written
    REFUSED = "REFUSED"  # not reproduced here (or not for the published digest)


@dataclass(frozen=True)
class SignResult:
    package: str
    outcome: SignOutcome
    detail: str  # the file written or found, or why refused

    def to_json(self) -> dict:
        return {"package": self.package, "outcome": self.outcome.value, "detail": self.detail}


@dataclass(frozen=True)
class Request:
    """What to sign for one package: its published digest and sign.sh's tag (from out/)."""

    package: str
    digest: str
    tag: str


def user_keys() -> dict[str, str]:
    """Every key and subkey (fingerprint and key ID) of the user's keyring -> its primary."""
    done = _gpg(["--batch", "--with-colons", "--fixed-list-mode", "--list-keys"])
    keys: dict[str, str] = {}
    primary, kind = "", ""
    for line in done.stdout.decode(errors="replace").splitlines():
        f = line.split(":")
        if f[0] in ("pub", "sub"):
            kind = f[0]
        elif f[0] == "fpr" and len(f) > 9 and kind:
            primary = f[9] if kind == "pub" else primary
            keys[f[9]] = keys[f[9][-16:]] = primary
            kind = ""
    return keys


def signing_primary(key: str, keys: Mapping[str, str]) -> str:
    """The primary fingerprint of `--key` (a primary or subkey fingerprint), which must be the
    user's and have a usable secret (or a smartcard stub)."""
    clean = key.replace(" ", "").upper().removesuffix("!")
    if clean not in keys:
        raise SignError(f"--key {key}: not in your keyring ({os.environ.get('GNUPGHOME', '~/.gnupg')})")
    if _gpg(["--batch", "--list-secret-keys", clean]).returncode != 0:
        raise SignError(f"--key {key}: no secret key for it in your keyring or on a card")
    return keys[clean]


def tag_of(out_entry: Path) -> str:
    """The tag sign.sh reads: the ref-name annotation of the entry's index.json."""
    try:
        index = json.loads((out_entry / "index.json").read_text())
        tags = [m.get("annotations", {}).get(REF_NAME) for m in index.get("manifests", [])]
    except (OSError, ValueError, AttributeError) as e:
        raise SignError(f"{out_entry}/index.json: cannot read its {REF_NAME}: {e}") from e
    if len(tags) != 1 or not isinstance(tags[0], str) or not tags[0]:
        raise SignError(f"{out_entry}/index.json: no single {REF_NAME} annotation (sign.sh would sign a "
                        "wrong tag)")
    return tags[0]


def sign_one(request: Request, key: str, primary: str, sigs_root: Path, keys: Mapping[str, str]) -> SignResult:
    """Sign one reproduced package into `sigs_root/stagex/…`, unless this key's primary already did."""
    folder = sigs_root / image_dir(request.package, request.digest)
    root = sigs_root.resolve()
    if not folder.resolve().is_relative_to(root):  # a symlink in a checkout others push to
        return SignResult(request.package, SignOutcome.REFUSED,
                          f"{folder} is a symlink leading outside {sigs_root}: nothing is written there")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        existing = [folder / name for _, name in numbered(p.name for p in folder.iterdir())]
    except OSError as e:
        raise SignError(f"{folder}: cannot be written ({e.strerror or e})") from e
    for path in existing:
        if _issuer_primary(path, root, keys) == primary:
            return SignResult(request.package, SignOutcome.ALREADY, str(path))
    payload = sign_payload(REGISTRY, request.package, request.tag, request.digest)
    done = _gpg(["--sign", "--no-armor", "--local-user", key], stdin=payload, interactive=True)
    if done.returncode != 0 or not done.stdout:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise SignError(f"{request.package}: gpg could not sign with {key}: {tail[0][:200]}")
    if read_message(done.stdout).payload != payload:
        raise SignError(f"{request.package}: gpg wrote a message that does not hold the payload")
    return SignResult(request.package, SignOutcome.SIGNED, str(_place(folder, done.stdout)))


def _place(folder: Path, data: bytes) -> Path:
    """Write `data` as the next free signature-N: written aside, then hard-linked (link fails
    rather than replace), so no existing signature is ever overwritten."""
    fd, name = tempfile.mkstemp(prefix=".signature-", suffix=".tmp", dir=folder)  # never through a symlink
    tmp = Path(name)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    try:
        while True:
            taken = [n for n, _ in numbered(p.name for p in folder.iterdir())]
            target = folder / f"signature-{max(taken, default=0) + 1}"
            try:
                os.link(tmp, target)
                return target
            except FileExistsError:
                continue
    finally:
        tmp.unlink(missing_ok=True)


def _issuer_primary(path: Path, root: Path, keys: Mapping[str, str]) -> str | None:
    """Who made an existing file, as sign.sh asks (no verification: only whether to skip). Only
    regular files inside the checkout, capped: a FIFO would never answer, /dev/zero never end."""
    try:
        if not path.resolve().is_relative_to(root) or not path.is_file():
            return None
        with open(path, "rb") as f:
            message = read_message(f.read(MAX_FILE + 1))
    except (OSError, FormatError):
        return None
    return keys.get(message.issuer_fpr or "") or keys.get(message.issuer_key_id)


def _gpg(args: list[str], stdin: bytes | None = None, interactive: bool = False) -> subprocess.CompletedProcess[bytes]:
    """The user's gpg in the user's environment. gpg's stdin is the payload, so when signing the
    agent's pinentry asks for a PIN on the terminal named by GPG_TTY (set here when unset)."""
    env = dict(os.environ)
    if interactive and "GPG_TTY" not in env and os.isatty(2):
        env["GPG_TTY"] = os.ttyname(2)
    try:
        return subprocess.run([gpg_binary(), *args], input=stdin, capture_output=True, check=False, env=env,
                              timeout=None if interactive else 60)
    except subprocess.TimeoutExpired as e:
        raise SignError(f"gpg {' '.join(args[:2])}: no answer in 60 s") from e
