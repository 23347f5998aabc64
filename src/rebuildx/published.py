"""Where the published digests of a release come from: a git ref, a URL, or a directory.

Reading them from the release ref itself (`git show <ref>:digests/<stage>.txt`) means that
`digests` overwriting the working files never matters. Two sources given are cross-checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from rebuildx.digests import DigestError, parse_digest_file
from rebuildx.proc import run

STAGES = ("bootstrap", "core", "pallet", "user")
FORGE_URL = "https://codeberg.org/stagex/stagex/raw/branch/release/{release}/digests"


@dataclass(frozen=True)
class PublishedSource:
    """`git:<ref>` (in the tree's repository), an http(s) URL of the digests folder, or a directory."""

    spec: str

    def describe(self) -> str:
        return self.spec

    def load(self, tree_root: Path, stages: Sequence[str] = STAGES) -> dict[str, str]:
        """Digests of every stage file found; `stages` are the names looked for (the usual four
        and any other stage of the tree)."""
        digests: dict[str, str] = {}
        for stage in stages:
            text, origin = self._read(tree_root, stage)
            if text is not None:
                digests.update(parse_digest_file(text, origin))
        if not digests:
            raise DigestError(f"{self.spec}: no published digests found (looked for digests/<stage>.txt "
                              f"for {', '.join(stages)})")
        return digests

    def _read(self, tree_root: Path, stage: str) -> tuple[str | None, str]:
        spec = self.spec
        if spec.startswith("git:"):
            ref = spec[4:]
            origin = f"{ref}:digests/{stage}.txt"
            done = run(["git", "-C", str(tree_root), "show", origin], check=False, error=DigestError)
            return (done.stdout if done.returncode == 0 else None), origin
        if spec.startswith(("http://", "https://")):
            url = f"{spec.rstrip('/')}/{stage}.txt"
            try:
                response = httpx.get(url, follow_redirects=True, timeout=30)
            except httpx.HTTPError as e:
                raise DigestError(f"{url}: {e}") from e
            if response.status_code == 404:
                return None, url
            if response.status_code != 200:
                raise DigestError(f"{url}: HTTP {response.status_code}")
            return response.text, url
        path = Path(spec) / f"{stage}.txt"
        return (path.read_text() if path.is_file() else None), str(path)


def default_source(release: str) -> PublishedSource:
    return PublishedSource(FORGE_URL.format(release=release))


def cross_check(a: Mapping[str, str], b: Mapping[str, str]) -> list[str]:
    """Where two sources of published digests disagree, one line each."""
    lines = []
    for name in sorted(set(a) | set(b)):
        if a.get(name) != b.get(name):
            lines.append(f"{name}: {a.get(name, 'absent')} vs {b.get(name, 'absent')}")
    return lines
