"""Where the published digests of a release come from: a git ref, a URL, or a directory.

Reading them from the release ref itself (`git show <ref>:digests/<stage>.txt`) means that
`digests` overwriting the working files never matters. Two sources given are cross-checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rebuildx.compare.digestfiles import parse_digest_file
from rebuildx.errors import DigestError
from rebuildx.net import redact
from rebuildx.proc import run

STAGES = ("bootstrap", "core", "pallet", "user")
FORGE_URL = "https://codeberg.org/stagex/stagex/raw/branch/release/{release}/digests"


@dataclass(frozen=True)
class PublishedSource:
    """`git:<ref>` (in the tree's repository), an http(s) URL of the digests folder, or a directory."""

    spec: str

    def describe(self) -> str:
        """The spec as messages and reports show it: a URL's password never echoed."""
        return redact(self.spec)

    def load(self, tree_root: Path, stages: Sequence[str] = STAGES) -> dict[str, str]:
        """Digests of every stage file found; `stages` are the names looked for (the usual four
        and any other stage of the tree)."""
        spec = self._resolved(tree_root)
        digests: dict[str, str] = {}
        for stage in stages:
            data, origin = _read(spec, tree_root, stage)
            if data is not None:
                digests.update(parse_digest_file(_text(data, origin), origin))
        if not digests:
            raise DigestError(f"{self.describe()}: no published digests found (looked for digests/<stage>.txt "
                              f"for {', '.join(stages)})")
        return digests

    def _resolved(self, tree_root: Path) -> str:
        """The spec as read: a bare ref as `git:<ref>`, a checkout root as its `digests/`; a
        `git:` ref that does not exist is an error here, not an empty result."""
        spec = self.spec
        if spec.startswith(("http://", "https://")):
            return spec
        if spec.startswith("git:"):
            done = run(["git", "-C", str(tree_root), "rev-parse", "--verify", "--quiet", f"{spec[4:]}^{{commit}}"],
                       check=False, error=DigestError)
            if done.returncode != 0:
                raise DigestError(f"--published {redact(spec)}: no such ref in {tree_root}'s repository (see `git -C "
                                  f"{tree_root} branch -a`; fetch the release branch first)")
            return spec
        if Path(spec).is_dir():
            nested = Path(spec) / "digests"
            if nested.is_dir() and not any(Path(spec).glob("*.txt")):
                return str(nested)  # a checkout root: its digests/ folder
            return spec
        ref = _existing_ref(tree_root, spec)
        if ref is None:
            raise DigestError(f"--published {redact(spec)}: no such directory, URL or git ref of {tree_root} "
                              f"(a ref is read as git:<ref>)")
        return f"git:{ref}"  # `release/2026.03.0`: an existing ref of the tree (or origin's), read as one


MAX_DIGEST_FILE = 16 << 20  # StageX's largest digests/<stage>.txt is ~30 KB; more is not a digest file


def _read(spec: str, tree_root: Path, stage: str) -> tuple[bytes | None, str]:
    """The bytes of one stage file (None: there is none), read at most to MAX_DIGEST_FILE."""
    if spec.startswith("git:"):
        origin = f"{spec[4:]}:digests/{stage}.txt"
        try:
            done = run(["git", "-C", str(tree_root), "show", origin], check=False, error=DigestError)
        except UnicodeDecodeError as e:
            raise DigestError(f"{origin}: not UTF-8 text ({e.reason} at byte {e.start}); not a digest file") from e
        return (done.stdout.encode() if done.returncode == 0 else None), origin
    if spec.startswith(("http://", "https://")):
        url = f"{spec.rstrip('/')}/{stage}.txt"
        return _download(url), redact(url)
    path = Path(spec) / f"{stage}.txt"
    if not path.is_file():
        return None, str(path)
    try:
        with open(path, "rb") as f:
            return _capped(iter(lambda: f.read(1 << 16), b""), str(path)), str(path)
    except OSError as e:
        raise DigestError(f"{path}: cannot read it ({e.strerror})") from e


def _download(url: str) -> bytes | None:
    """The body at `url`, streamed and capped (a hostile server can send gigabytes)."""
    import httpx  # heavy: only when digests come over HTTP

    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=30) as response:
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                raise DigestError(f"{redact(url)}: HTTP {response.status_code}")
            return _capped(response.iter_bytes(), redact(url))
    except httpx.HTTPError as e:
        raise DigestError(redact(f"{url}: {e}")) from e


def _capped(chunks: Iterable[bytes], origin: str) -> bytes:
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > MAX_DIGEST_FILE:
            raise DigestError(f"{origin}: more than {MAX_DIGEST_FILE} bytes; not a digest file (stopped)")
    return bytes(data)


def _text(data: bytes, origin: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DigestError(f"{origin}: not UTF-8 text ({e.reason} at byte {e.start}); not a digest file") from e


def _existing_ref(tree_root: Path, name: str) -> str | None:
    """`name` if it names a commit of the tree's repository, else `origin/name` if that does."""
    if not (tree_root / ".git").exists():
        return None
    for ref in (name, f"origin/{name}"):
        done = run(["git", "-C", str(tree_root), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                   check=False, error=DigestError)
        if done.returncode == 0:
            return ref
    return None


def load_published(tree_root: Path, specs: Sequence[str], release: str | None = None) -> dict[str, str]:
    """Published digests from one or two sources; two are cross-checked, a disagreement is an
    error. `forge` stands for the release branch's raw files on StageX's forge."""
    if len(specs) > 2:
        raise DigestError("--published: give one or two sources")
    if "forge" in specs and not release:
        raise DigestError("--published forge needs --release YYYY.MM.N")
    specs = [default_source(release).spec if s == "forge" and release else s for s in specs]
    packages = tree_root / "packages"
    stages = sorted(set(STAGES) | {p.name for p in packages.iterdir() if p.is_dir()}) \
        if packages.is_dir() else list(STAGES)
    loaded = [(s, PublishedSource(s).load(tree_root, stages)) for s in specs]
    if len(loaded) == 2:
        disagree = cross_check(loaded[0][1], loaded[1][1])
        if disagree:
            raise DigestError(f"the published sources {redact(specs[0])} and {redact(specs[1])} disagree on "
                              f"{len(disagree)} packages: " + "; ".join(disagree[:5]))
    return loaded[0][1]


def default_source(release: str) -> PublishedSource:
    return PublishedSource(FORGE_URL.format(release=release))


def cross_check(a: Mapping[str, str], b: Mapping[str, str]) -> list[str]:
    """Where two sources of published digests disagree, one line each."""
    lines = []
    for name in sorted(set(a) | set(b)):
        if a.get(name) != b.get(name):
            lines.append(f"{name}: {a.get(name, 'absent')} vs {b.get(name, 'absent')}")
    return lines
