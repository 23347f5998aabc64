"""Which releases published a digest: the hint that a mismatch is the build command or the engine.

When a package rebuilt from one release's tree gives exactly the digest another release
published for it, the sources are not the cause: the difference is in what the release's build
command or engine did ("these files are the ones published in 2026.01.0–2026.03.0"). The
digests files of every release are in the checkout's history (the release branches and tags);
`read_release_digests` reads them with one `git cat-file --batch`, the rest is pure.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

from rebuildx.stagex.model import release_tuple
from rebuildx.oci.digest import Semantics
from rebuildx.stagex.releases import digest_semantics

_RELEASE_REF = re.compile(r"^refs/(?:heads/release/|remotes/origin/release/|tags/)(\d{4}\.\d{2}\.\d+)$")
_LINE = re.compile(r"^([0-9a-f]{64}) (\S+)$")

# release -> full name -> the digest its digests/<stage>.txt holds
ReleaseDigests = Mapping[str, Mapping[str, str]]


def parse_digest_lines(text: str) -> dict[str, str]:
    """`<hex> <full name>` lines; anything else is skipped (history holds what it holds)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if m:
            found[m.group(2)] = m.group(1)
    return found


def releases_publishing(package: str, digests: Mapping[Semantics, str], history: ReleaseDigests) -> list[str]:
    """The releases whose digests file holds, for `package`, our digest of the kind that release
    published (`digests`: our entry's digest under each Semantics, hex or `sha256:hex`)."""
    found = []
    for release, published in history.items():
        want = digests.get(digest_semantics(release), "").removeprefix("sha256:")
        if want and published.get(package) == want:
            found.append(release)
    return sorted(found, key=release_tuple)


def spans(releases: Iterable[str], known: Iterable[str]) -> str:
    """`2025.06.1, 2026.01.0–2026.03.0`: runs of consecutive releases (in `known`'s order) joined."""
    order = sorted(set(known) | set(releases), key=release_tuple)
    chosen = set(releases)
    runs: list[list[str]] = []
    for i, release in enumerate(order):
        if release not in chosen:
            continue
        if runs and order[i - 1] == runs[-1][-1]:
            runs[-1].append(release)
        else:
            runs.append([release])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs)


def cross_release_hint(package: str, digests: Mapping[Semantics, str], history: ReleaseDigests) -> str | None:
    """The sentence for a mismatch whose files some releases published, else None (a mismatch
    is against another digest, so the releases named are never the one compared with)."""
    found = releases_publishing(package, digests, history)
    if not found:
        return None
    return (f"these files are the ones published in {spans(found, history)}: the sources agree, "
            f"look at the build command or the engine")


def read_release_digests(root: Path) -> dict[str, dict[str, str]]:
    """Every release's digests files from the checkout's git history (branch, else tag)."""
    try:
        return _read(root)
    except (OSError, ValueError):  # no git, or output cut short: no hints, never an error
        return {}


def _read(root: Path) -> dict[str, dict[str, str]]:
    refs = subprocess.run(["git", "-C", str(root), "for-each-ref", "--format=%(refname)"],
                          capture_output=True, text=True, check=False)
    if refs.returncode != 0:
        return {}
    by_release: dict[str, str] = {}
    for ref in refs.stdout.split():
        m = _RELEASE_REF.match(ref)
        if m and m.group(1) not in by_release:  # for-each-ref sorts heads, remotes, then tags
            by_release[m.group(1)] = ref
    objects = [f"{ref}:{path}" for ref in by_release.values() for path in _digest_files(root, ref)]
    if not objects:
        return {}
    batch = subprocess.run(["git", "-C", str(root), "cat-file", "--batch"], input=("\n".join(objects) + "\n").encode(),
                           capture_output=True, check=False)
    history: dict[str, dict[str, str]] = {}
    out, pos = batch.stdout, 0
    for obj in objects:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode()
        pos = end + 1
        if header.endswith(" missing"):
            continue
        size = int(header.rsplit(" ", 1)[1])
        body = out[pos:pos + size].decode(errors="replace")
        pos += size + 1
        release = _RELEASE_REF.match(obj.split(":", 1)[0]).group(1)  # type: ignore[union-attr]
        history.setdefault(release, {}).update(parse_digest_lines(body))
    return history


def _digest_files(root: Path, ref: str) -> list[str]:
    done = subprocess.run(["git", "-C", str(root), "ls-tree", "--name-only", f"{ref}:digests"],
                          capture_output=True, text=True, check=False)
    return [f"digests/{name}" for name in done.stdout.split() if name.endswith(".txt")] if done.returncode == 0 else []
