"""OpenPGP verification through gpg, in a throwaway home that holds only the given keyrings.

Why gpg rather than a binding: gpg is what StageX's maintainers sign with (smartcards through
their agent) and what StageX's own tooling verifies with; it is a Debian package on every
machine rebuildx runs on; and its `--status-fd` protocol names each outcome apart (GOODSIG,
BADSIG, EXPKEYSIG with KEYEXPIRED, REVKEYSIG, ERRSIG/NO_PUBKEY), with the primary key's
fingerprint in VALIDSIG, which is what a quorum counts. pysequoia (well kept) would add a
compiled dependency and says of a revoked key's signature only "no valid signatures found";
PGPy is unmaintained. Speed comes from batching: one gpg process verifies a whole slice of files
(`--verify-files`, names on stdin, FILE_START/FILE_DONE around each file's status lines), one
slice per core, instead of a process per file.

Trust is decided by rebuildx (MAINTAINERS, --trust), never by gpg's web of trust:
`--trust-model always` only stops gpg from asking.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rebuildx.errors import RebuildxError

GPG_TIMEOUT = 600  # a whole slice of a release; ~1 ms per file


class GpgError(RebuildxError):
    """gpg is missing, a keyring cannot be imported, or gpg stopped mid-way."""


@dataclass(frozen=True)
class KeyInfo:
    primary: str  # fingerprint of the primary key owning this (sub)key
    expires: int | None
    revoked: bool


@dataclass
class GpgResult:
    """What gpg said about one file."""

    status: str  # GOOD, BAD, EXPIRED_KEY, REVOKED_KEY, EXPIRED_SIG, NO_KEY, ERROR
    key_fpr: str | None = None  # the (sub)key that made the signature
    primary: str | None = None
    created: int | None = None
    key_id: str | None = None
    detail: str = ""
    lines: list[str] = field(default_factory=list)


def gpg_binary() -> str:
    found = shutil.which("gpg")
    if not found:
        raise GpgError("gpg is not installed (Debian package gnupg)")
    return found


class Keyring:
    """A throwaway GNUPGHOME holding only the public keys of the given keyring files."""

    def __init__(self, keyrings: Sequence[Path]) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="rbx-gpg-"))
        os.chmod(self.home, 0o700)
        try:
            for keyring in keyrings:
                self._import(keyring)
            self.keys = self._list()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> Keyring:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _gpg(self, args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        cmd = [gpg_binary(), "--homedir", str(self.home), "--batch", "--no-tty", "--no-autostart", "--no-auto-key-retrieve",
               "--no-greeting", "--trust-model", "always", "--lock-never", *args]
        try:
            return subprocess.run(cmd, input=stdin, capture_output=True, check=False, timeout=GPG_TIMEOUT,
                                  env={**os.environ, "LC_ALL": "C"}, start_new_session=True)
        except subprocess.TimeoutExpired as e:
            raise GpgError(f"gpg {args[-1] if args else ''}: no answer in {GPG_TIMEOUT} s") from e

    def _import(self, keyring: Path) -> None:
        if not keyring.is_file():
            raise GpgError(f"--keyring {keyring}: no such file")
        done = self._gpg(["--status-fd", "1", "--import", str(keyring)])
        imported = [ln for ln in done.stdout.decode(errors="replace").splitlines() if ln.startswith("[GNUPG:] IMPORT_OK")]
        if not imported:
            raise GpgError(f"--keyring {keyring}: no OpenPGP public key could be imported from it (make one with "
                           "`gpg --export FPR… > keys.gpg`)")

    def _list(self) -> dict[str, KeyInfo]:
        """Every key and subkey fingerprint -> its primary, expiry and revocation."""
        done = self._gpg(["--with-colons", "--fixed-list-mode", "--list-keys"])
        keys: dict[str, KeyInfo] = {}
        primary, pending = "", None
        for line in done.stdout.decode(errors="replace").splitlines():
            f = line.split(":")
            if f[0] in ("pub", "sub") and len(f) > 6:
                pending = (f[0], int(f[6]) if f[6].isdigit() else None, f[1] == "r")
            elif f[0] == "fpr" and pending is not None and len(f) > 9:
                kind, expires, revoked = pending
                primary = f[9] if kind == "pub" else primary
                keys[f[9]] = KeyInfo(primary, expires, revoked)
                pending = None
        return keys

    def expiry(self, fpr: str) -> int | None:
        """When the key `fpr` stopped being usable: its own expiry or its primary's, the earlier."""
        key = self.keys.get(fpr)
        if key is None:
            return None
        owner = self.keys.get(key.primary)
        times = [t for t in (key.expires, owner.expires if owner else None) if t]
        return min(times) if times else None

    def verify_files(self, files: Sequence[Path], jobs: int = 2) -> list[GpgResult]:
        """One result per file, in order; `jobs` gpg processes, each verifying one slice."""
        if not files:
            return []
        size = -(-len(files) // jobs)
        slices = [files[i:i + size] for i in range(0, len(files), size)]
        with ThreadPoolExecutor(len(slices)) as pool:
            return [r for part in pool.map(self._verify_slice, slices) for r in part]

    def _verify_slice(self, files: Sequence[Path]) -> list[GpgResult]:
        """In batch mode gpg stops at a BAD signature: the file it stopped on gets what gpg said
        about it, and the rest of the slice goes to a new process."""
        if any("\n" in str(f) for f in files):
            raise GpgError("a file name with a newline cannot be passed to gpg --verify-files")
        results: list[GpgResult] = []
        while len(results) < len(files):
            rest = files[len(results):]
            done = self._gpg(["--status-fd", "1", "--verify-files"], stdin="".join(f"{f}\n" for f in rest).encode())
            finished, stopped_in = parse_status(done.stdout.decode(errors="replace"))
            results += finished[:len(rest)]
            if len(results) < len(files):
                if stopped_in is None:
                    tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
                    raise GpgError(f"gpg stopped before {rest[len(finished)].name}: {tail[0][:200]}")
                results.append(_result(stopped_in))
        return results


def parse_status(text: str) -> tuple[list[GpgResult], list[str] | None]:
    """The status lines of `--verify-files`: one GpgResult per FILE_START … FILE_DONE, and the
    lines of a file gpg started but did not finish (None when there is none)."""
    results: list[GpgResult] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if not line.startswith("[GNUPG:] "):
            continue
        body = line[9:]
        if body.startswith("FILE_START"):
            current = []
        elif body.startswith("FILE_DONE") and current is not None:
            results.append(_result(current))
            current = None
        elif current is not None:
            current.append(body)
    return results, current


_OUTCOME = {"GOODSIG": "GOOD", "BADSIG": "BAD", "EXPKEYSIG": "EXPIRED_KEY", "REVKEYSIG": "REVOKED_KEY",
            "EXPSIG": "EXPIRED_SIG"}


def _result(lines: list[str]) -> GpgResult:
    r = GpgResult("ERROR", lines=lines)
    for line in lines:
        w = line.split(" ")
        if w[0] in _OUTCOME and len(w) > 1:
            r.status, r.key_id = _OUTCOME[w[0]], w[1]
        elif w[0] == "VALIDSIG" and len(w) > 10:
            r.key_fpr, r.created, r.primary = w[1], int(w[3]) if w[3].isdigit() else None, w[10]
        elif w[0] == "ERRSIG" and len(w) > 6:
            r.key_id, r.created = w[1], int(w[5]) if w[5].isdigit() else None
            r.status = "NO_KEY" if w[6] == "9" else "ERROR"
            r.detail = {"4": "unsupported algorithm", "9": "no public key"}.get(w[6], f"error code {w[6]}")
        elif w[0] == "NODATA":
            r.detail = r.detail or "no OpenPGP signature found"
    signatures = sum(1 for line in lines if line.startswith("NEWSIG"))
    if signatures != 1 and r.status != "ERROR":
        r.status, r.detail = "ERROR", f"{signatures} signatures in one file, expected one"
    if r.status in ("GOOD", "EXPIRED_KEY") and not r.primary:
        r.status, r.detail = "ERROR", "gpg named no valid signing key"
    return r
