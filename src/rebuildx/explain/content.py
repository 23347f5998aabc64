"""Two images compared by content: their final file trees (path, type, mode, owner, link target,
content hash) and the runtime fields of their configs — not their digests.

For images built by two independent engines (BuildKit and Buildah), the digests differ by
construction; equal content is the evidence that counts: an engine would have to be compromised
twice to pass. Timestamps are reported apart and never make a difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rebuildx.explain.difference import CONTENT, FILE_SET, METADATA, TIMESTAMPS, Difference
from rebuildx.explain.image import DEFAULT_OPTIONS, ExplainOptions
from rebuildx.explain.run import compare_images
from rebuildx.explain.sources import ImageSource
from rebuildx.outcomes import ContentVerdict

# Config fields that change what a container of the image does; the rest (created, history,
# rootfs diff_ids, builder-specific labels) differs between engines by construction.
RUNTIME_FIELDS = ("config.Env", "config.Entrypoint", "config.Cmd", "config.WorkingDir", "config.User",
                  "config.ExposedPorts", "config.Volumes", "config.StopSignal", "architecture", "os", "variant")
DIFFERING = (CONTENT, FILE_SET, METADATA)


@dataclass(frozen=True)
class ContentComparison:
    verdict: ContentVerdict
    files: list[tuple[str, str]] = field(default_factory=list)  # (path, content | file set | metadata only)
    config: list[str] = field(default_factory=list)  # runtime config fields that differ
    timestamps_only: int = 0  # files whose only difference is a time

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict.value, "files": [{"path": p, "difference": c} for p, c in self.files],
                "config": self.config, "timestamps_only": self.timestamps_only}

    def summary(self) -> str:
        if self.verdict is ContentVerdict.CONTENT_MATCH:
            extra = f" ({self.timestamps_only} files differ in timestamps only)" if self.timestamps_only else ""
            return f"same files and runtime config{extra}"
        parts = [f"{p} ({c})" for p, c in self.files[:8]] + [f"config {c}" for c in self.config[:4]]
        more = len(self.files) + len(self.config) - len(parts)
        return "differs: " + ", ".join(parts) + (f" and {more} more" if more > 0 else "")


def judge_content(diff: Difference) -> ContentComparison:
    """The content verdict of an explain Difference tree (pure)."""
    files = [(f.name, f.classification or CONTENT) for f in diff.files() if f.classification in DIFFERING]
    stamps = sum(1 for f in diff.files() if f.classification == TIMESTAMPS)
    config_node = diff.child("config")
    config = sorted({c.name for c in (config_node.children if config_node else [])
                     if any(c.name == f or c.name.startswith(f + ".") or c.name.startswith(f + "[")
                            for f in RUNTIME_FIELDS)})
    verdict = ContentVerdict.CONTENT_DIFF if files or config else ContentVerdict.CONTENT_MATCH
    return ContentComparison(verdict, files, config, stamps)


def compare_content(a: ImageSource, b: ImageSource, options: ExplainOptions = DEFAULT_OPTIONS) -> ContentComparison:
    """Compare two images by content (streams every layer of both; bounded as explain is)."""
    return judge_content(compare_images(a, b, options))
