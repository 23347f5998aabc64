"""Where the signature files come from: a folder, a git repository's ref, or a lookaside URL.

All three hold StageX's signatures repository layout, `stagex/<stage>-<name>@sha256=<hex>/
signature-N` (what `src/sign.sh` writes and what containers' "lookaside" stores serve). A source
returns each file's bytes, capped, or the reason it cannot be used (a symlink leading out of the
checkout, a file over the cap, not a regular file): that becomes an INVALID signature, never a
crash, and nothing outside the source is ever read.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx

from rebuildx.errors import RebuildxError
from rebuildx.net import redact
from rebuildx.trust.signatures.packets import MAX_FILE

REGISTRY = "stagex"
MAX_SIGNATURES = 100  # per image; sign.sh numbers them 1, 2, … and real folders hold up to 7
_NAME = re.compile(r"[a-z0-9][a-z0-9._+-]{0,127}")
_SIGNATURE = re.compile(r"signature-([1-9][0-9]{0,5})")


class SignatureSourceError(RebuildxError):
    """The signatures source cannot be read at all (missing folder, git or network failure)."""


@dataclass(frozen=True)
class SignatureFile:
    """One `signature-N` of an image: its bytes, or why they were not read."""

    label: str  # "stagex/core-bash@sha256=<hex>/signature-2"
    data: bytes | None
    problem: str | None = None


def image_dir(name: str, digest: str) -> str:
    """`stagex/<name>@sha256=<hex>`; names are checked so that none can climb out of the source."""
    if not _NAME.fullmatch(name) or ".." in name:
        raise SignatureSourceError(f"{name[:80]!r}: not a package name that can name a signatures folder")
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise SignatureSourceError(f"{name}: digest {digest[:80]!r} is not 64 hex digits")
    return f"{REGISTRY}/{name}@sha256={digest}"


def numbered(names: Iterable[str]) -> list[tuple[int, str]]:
    """The `signature-N` names among `names`, by N."""
    found = [(int(m[1]), n) for n in names if (m := _SIGNATURE.fullmatch(n))]
    return sorted(found)


def _capped(label: str) -> SignatureFile:
    return SignatureFile(label, None, f"over the {MAX_FILE}-byte cap for a signature file")


class FolderSource:
    """A checkout of the signatures repository (or any folder holding `stagex/`)."""

    def __init__(self, root: Path) -> None:
        self.spec = str(root)
        for base in (root, root / "signatures"):
            if (base / REGISTRY).is_dir():
                self.root = base.resolve()
                return
        if not root.is_dir():
            raise SignatureSourceError(f"{root}: no such folder")
        raise SignatureSourceError(f"{root}: holds no {REGISTRY}/ folder of signatures")

    def files(self, name: str, digest: str) -> list[SignatureFile]:
        rel = image_dir(name, digest)
        folder = self.root / rel
        if not folder.exists() and not folder.is_symlink():
            return []
        if not self._inside(folder) or not folder.is_dir():
            return [SignatureFile(rel, None, "the folder is a symlink leading outside the checkout, or not a folder")]
        return [self._read(folder / entry, f"{rel}/{entry}") for _, entry in numbered(p.name for p in folder.iterdir())]

    def _inside(self, path: Path) -> bool:
        try:
            return path.resolve().is_relative_to(self.root)
        except (OSError, RuntimeError):  # a symlink loop
            return False

    def _read(self, path: Path, label: str) -> SignatureFile:
        if not self._inside(path):
            return SignatureFile(label, None, "a symlink leading outside the checkout")
        if not path.is_file():
            return SignatureFile(label, None, "not a regular file")
        try:
            with open(path, "rb") as f:
                data = f.read(MAX_FILE + 1)
        except OSError as e:
            return SignatureFile(label, None, f"cannot be read: {e.strerror or e}")
        return _capped(label) if len(data) > MAX_FILE else SignatureFile(label, data)

    def collect(self, images: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[SignatureFile]]:
        return {image: self.files(*image) for image in images}

    def close(self) -> None:
        pass


class GitSource:
    """A ref of a git repository of signatures: `git:<dir>[#<ref>]` (a local clone) or a remote
    URL (`git+https://…`, `https://….git`, `ssh://…`), cloned shallow into a temporary folder.
    The ref defaults to `release/<R>`. Files are read from git's objects, not from a work tree,
    so a symlink is seen as one and refused."""

    def __init__(self, spec: str, release: str) -> None:
        self.spec = redact(spec)  # as messages and reports show it; `location` keeps the credentials
        self._tmp: Path | None = None
        location, _, ref = spec.removeprefix("git:").removeprefix("git+").partition("#")
        ref = ref or f"release/{release}"
        if spec.startswith("git:"):
            self.repo = Path(location)
            self.ref = self._resolve_local(ref)
        else:
            self._tmp = Path(tempfile.mkdtemp(prefix="rbx-sigs-"))
            self.repo = self._tmp
            self.ref = "HEAD"
        try:
            if self._tmp:
                self._git(["clone", "--quiet", "--bare", "--depth", "1", "--single-branch", "--branch", ref,
                           location, str(self._tmp)], in_repo=False, timeout=600)
            self._blobs = self._list()
        except BaseException:
            self.close()
            raise

    def _git(self, args: list[str], in_repo: bool = True, timeout: float = 120, stdin: bytes | None = None) -> bytes:
        where = ["-C", str(self.repo)] if in_repo else []
        try:
            done = subprocess.run(["git", *where, *args], input=stdin, capture_output=True, timeout=timeout,
                                  check=False,
                                  env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin:/usr/local/bin",
                                       "HOME": "/nonexistent", "LC_ALL": "C"})
        except FileNotFoundError as e:
            raise SignatureSourceError("git is not installed") from e
        except subprocess.TimeoutExpired as e:
            raise SignatureSourceError(f"{self.spec}: git {args[0]} gave no answer in {timeout:.0f} s") from e
        if done.returncode != 0:  # git's own words may name the URL
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise SignatureSourceError(f"{self.spec}: git {args[0]} failed: {redact(tail[0][:200])}")
        return done.stdout

    def _resolve_local(self, ref: str) -> str:
        if not self.repo.is_dir():
            raise SignatureSourceError(f"{self.spec}: {self.repo} is not a folder")
        for candidate in (ref, f"origin/{ref}"):
            try:
                self._git(["rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}"])
                return candidate
            except SignatureSourceError:
                continue
        raise SignatureSourceError(f"{self.spec}: no ref {ref} (nor origin/{ref}) in {self.repo}")

    def _list(self) -> dict[str, tuple[str, str]]:
        """Path from `stagex/` on -> (git mode, blob id); `stagex/` at the top or under `signatures/`."""
        for prefix in (f"{REGISTRY}/", f"signatures/{REGISTRY}/"):
            out = self._git(["ls-tree", "-r", "-z", "--full-tree", self.ref, "--", prefix])
            if out:
                break
        else:
            raise SignatureSourceError(f"{self.spec}: {self.ref} holds no {REGISTRY}/ folder of signatures")
        blobs = {}
        for entry in out.split(b"\0"):
            meta, _, path = entry.partition(b"\t")
            if path:
                mode, _kind, oid = meta.decode().split(" ")
                blobs[path.decode(errors="replace").removeprefix("signatures/")] = (mode, oid)
        return blobs

    def files(self, name: str, digest: str) -> list[SignatureFile]:
        return self.collect([(name, digest)])[(name, digest)]

    def collect(self, images: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[SignatureFile]]:
        """Every image's files, read with two git processes in all (sizes first, so nothing over
        the cap is ever read)."""
        wanted: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
        for name, digest in images:
            folder = image_dir(name, digest) + "/"
            entries = numbered(p[len(folder):] for p in self._blobs if p.startswith(folder))
            wanted[(name, digest)] = [(f"{folder}{e}", *self._blobs[f"{folder}{e}"]) for _, e in entries]
        oids = {oid for rows in wanted.values() for _, mode, oid in rows if mode in ("100644", "100755")}
        sizes = self._sizes(oids)
        contents = self._contents([o for o in oids if sizes.get(o, MAX_FILE + 1) <= MAX_FILE])
        out: dict[tuple[str, str], list[SignatureFile]] = {}
        for key, rows in wanted.items():
            out[key] = [self._file(label, mode, oid, contents) for label, mode, oid in rows]
        return out

    @staticmethod
    def _file(label: str, mode: str, oid: str, contents: dict[str, bytes]) -> SignatureFile:
        if mode not in ("100644", "100755"):
            return SignatureFile(label, None, "a symlink" if mode == "120000" else f"not a file (git mode {mode})")
        return SignatureFile(label, contents[oid]) if oid in contents else _capped(label)

    def _sizes(self, oids: Iterable[str]) -> dict[str, int]:
        out = self._git(["cat-file", "--batch-check"], stdin="".join(f"{o}\n" for o in oids).encode())
        sizes = {}
        for line in out.decode().splitlines():
            parts = line.split(" ")
            if len(parts) == 3:  # "<oid> missing" is left out, and read as unreadable
                sizes[parts[0]] = int(parts[2])
        return sizes

    def _contents(self, oids: list[str]) -> dict[str, bytes]:
        out = self._git(["cat-file", "--batch"], stdin="".join(f"{o}\n" for o in oids).encode())
        contents, pos = {}, 0
        for oid in oids:
            header_end = out.index(b"\n", pos)
            got, _kind, size = out[pos:header_end].decode().split(" ")
            if got != oid:
                raise SignatureSourceError(f"{self.spec}: git cat-file answered {got} for {oid}")
            start = header_end + 1
            contents[oid] = out[start:start + int(size)]
            pos = start + int(size) + 1
        return contents

    def close(self) -> None:
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)


class LookasideSource:
    """A containers "lookaside" store over HTTP(S): `<base>/stagex/<name>@sha256=<hex>/signature-N`,
    N = 1, 2, … until the first 404."""

    def __init__(self, base: str, client: httpx.Client | None = None, deadline: float = 60) -> None:
        self.spec = redact(base)  # as messages and reports show it
        self.deadline = deadline
        self.base = base.rstrip("/")
        self.client = client or httpx.Client(follow_redirects=True, timeout=30)

    def files(self, name: str, digest: str) -> list[SignatureFile]:
        out: list[SignatureFile] = []
        for n in range(1, MAX_SIGNATURES + 1):
            label = f"{image_dir(name, digest)}/signature-{n}"
            got = self._get(f"{self.base}/{label}", label)
            if got is None:
                break
            out.append(got)
        return out

    def collect(self, images: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[SignatureFile]]:
        """Eight images at a time: a release is ~400 images of 2-7 files each."""
        images = list(images)
        with ThreadPoolExecutor(8) as pool:
            return dict(zip(images, pool.map(lambda image: self.files(*image), images), strict=True))

    def _get(self, url: str, label: str) -> SignatureFile | None:
        try:
            with self.client.stream("GET", url) as r:
                if r.status_code == 404:
                    return None
                if r.status_code != 200:
                    raise SignatureSourceError(f"{redact(url)}: HTTP {r.status_code}")
                data, started = bytearray(), time.monotonic()
                for chunk in r.iter_bytes():
                    data += chunk
                    if len(data) > MAX_FILE:
                        return _capped(label)
                    if time.monotonic() - started > self.deadline:  # a server dribbling bytes
                        raise SignatureSourceError(f"{redact(url)}: still sending after {self.deadline:.0f} s")
                return SignatureFile(label, bytes(data))
        except httpx.HTTPError as e:
            raise SignatureSourceError(redact(f"{url}: {type(e).__name__}: {e}")) from e

    def close(self) -> None:
        self.client.close()


Source = FolderSource | GitSource | LookasideSource


def open_source(spec: str, release: str) -> Source:
    """`git:<dir>[#ref]` or a git URL (`git+…`, `ssh://…`, `….git`), an http(s) lookaside base,
    or a folder."""
    if spec.startswith(("git:", "git+")):
        return GitSource(spec, release)
    if spec.startswith(("ssh://", "git@")) or (spec.startswith(("http://", "https://"))
                                               and spec.split("#")[0].rstrip("/").endswith(".git")):
        return GitSource(f"git+{spec}", release)
    if spec.startswith(("http://", "https://")):
        return LookasideSource(spec)
    return FolderSource(Path(spec))
