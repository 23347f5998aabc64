"""`verify --engine podman`: the selection built by a second, independent engine and compared by
content with BuildKit's build of the same checkout, and with the published image where reachable.

The digests of the two engines' images differ by construction (another tar writer, compressor and
config history), so the verdict is about content: CONTENT_MATCH when the final file trees (path,
type, mode, owner, link target, content) and the runtime config are the same, CONTENT_DIFF naming
what differs. BuildKit's entries stay in out/ (built when missing); Podman's go to
`.rebuildx/engines/podman/out/`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rebuildx import exitcodes
from rebuildx.build.run import BuildOptions, BuildReport, run_build
from rebuildx.build.scheduler import Listener
from rebuildx.engine.base import Engine
from rebuildx.errors import RebuildxError
from rebuildx.explain import LayoutSource, open_source
from rebuildx.explain.content import ContentComparison, compare_content
from rebuildx.net import redact
from rebuildx.outcomes import ContentVerdict
from rebuildx.stagex.checkout import Checkout
from rebuildx.stagex.plan import Plan
from rebuildx.stagex.tree import Tree
from rebuildx.workspace import Workspace

BY_CONSTRUCTION = ("the two engines' image digests differ by construction (another tar writer, compressor "
                   "and config history): the verdicts below compare content, not digests")


@dataclass
class ContentRow:
    package: str
    podman: str | None  # the Podman image's manifest digest, None when it did not build
    buildkit: str | None
    vs_buildkit: ContentComparison | None = None
    vs_published: ContentComparison | None = None
    note: str | None = None  # why a comparison is missing (a failed build, an unreachable image)

    @property
    def verdict(self) -> ContentVerdict | None:
        """CONTENT_DIFF if either comparison differs, CONTENT_MATCH if one was made and none differs."""
        made = [c for c in (self.vs_buildkit, self.vs_published) if c is not None]
        if any(c.verdict is ContentVerdict.CONTENT_DIFF for c in made):
            return ContentVerdict.CONTENT_DIFF
        return ContentVerdict.CONTENT_MATCH if made else None

    def to_json(self) -> dict[str, Any]:
        return {"package": self.package, "verdict": self.verdict.value if self.verdict else "FAILED",
                "podman": self.podman, "buildkit": self.buildkit,
                "vs_buildkit": self.vs_buildkit.to_json() if self.vs_buildkit else None,
                "vs_published": self.vs_published.to_json() if self.vs_published else None, "note": self.note}


@dataclass
class ContentResult:
    checkout: Checkout | None
    rows: list[ContentRow] = field(default_factory=list)
    podman_build: BuildReport | None = None
    buildkit_build: BuildReport | None = None

    @property
    def exit_code(self) -> int:
        if any(r.verdict is ContentVerdict.CONTENT_DIFF for r in self.rows):
            return exitcodes.DIFFERS
        if any(r.verdict is None for r in self.rows):
            return exitcodes.FAILED
        return exitcodes.OK if self.rows else exitcodes.NOTHING

    def to_json(self) -> dict[str, Any]:
        counts = {v.value: sum(1 for r in self.rows if r.verdict is v) for v in ContentVerdict}
        counts["FAILED"] = sum(1 for r in self.rows if r.verdict is None)
        return {"format": 1, "engine": "podman", "note": BY_CONSTRUCTION, "counts": counts,
                "rows": [r.to_json() for r in self.rows]}


def verify_by_content(tree: Tree, selection: tuple[str, ...], buildkit: tuple[Engine, str], podman: tuple[Engine, str],
                      *, jobs: int, platform: str, published: dict[str, str],
                      published_spec: Callable[[str, str], str] | None,
                      before: Callable[[Plan], None] | None = None, listener: Listener | None = None,
                      checkout: Checkout | None = None) -> ContentResult:
    """Build the selection's closure with BuildKit (kept when up to date) and cold with Podman, then
    compare every package by content with BuildKit's build and with the published image."""
    ws = Workspace(tree.root)
    pws = ws.for_engine("podman")
    bk = run_build(ws, tree, selection, BuildOptions(jobs=jobs, keep_going=True, platform=platform),
                   buildkit[0], buildkit[1], listener=listener, before=before)
    pm = run_build(pws, tree, selection, BuildOptions(jobs=jobs, cold=True, keep_going=True, platform=platform),
                   podman[0], podman[1], listener=listener)
    result = ContentResult(checkout, podman_build=pm, buildkit_build=bk)
    built_bk = {r.package: r for r in bk.results}
    unreachable: str | None = None
    for r in pm.results:
        other = built_bk.get(r.package)
        row = ContentRow(r.package, r.digest, other.digest if other else None)
        if not r.ok:
            row.note = f"podman build {r.status.value}: {r.error or r.blocked_by or ''}".strip()
        elif other is None or not other.ok:
            row.note = "the BuildKit build failed; compared with the published image only"
        if r.ok and other is not None and other.ok:
            row.vs_buildkit = _compare(pws.out_entry(r.package), str(ws.out_entry(r.package)))
        if r.ok and published_spec is not None and r.package in published and unreachable is None:
            spec = published_spec(r.package, published[r.package])
            try:
                row.vs_published = _compare(pws.out_entry(r.package), spec)
            except (RebuildxError, OSError) as e:
                row.note = redact(f"published image not compared: {e}")
                if "connect" in str(e).lower() or "resolve" in str(e).lower():
                    unreachable = redact(str(e))
        elif r.ok and unreachable:
            row.note = f"published image not tried: unreachable ({unreachable})"
        result.rows.append(row)
    return result


def _compare(podman_entry: Path, other: str) -> ContentComparison:
    with LayoutSource(podman_entry) as mine, open_source(other) as theirs:
        return compare_content(theirs, mine)


def write_content_report(result: ContentResult, path: Path, release: str | None) -> Path:
    doc = {**result.to_json(), "release": release,
           "commit": result.checkout.commit if result.checkout else None,
           "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(redact(json.dumps(doc, indent=1)) + "\n")  # errors quoting a URL: no password
    except OSError as e:
        raise RebuildxError(f"{path}: cannot write the report: {e.strerror or e}") from e
    return path
