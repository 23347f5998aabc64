"""What explain works on: its options, and one side of a comparison resolved to its documents.

Kept apart from run.py so that the comparison steps (run.py, diffoscope.py) share these types
without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rebuildx.explain.compare import LayerFacts
from rebuildx.explain.layers import Entry
from rebuildx.explain.limits import ExplainError, Limits
from rebuildx.explain.sources import ImageSource


@dataclass(frozen=True)
class DiffoscopeOptions:
    """Run diffoscope on each pair of regular files whose content differs, within bounds."""

    timeout: float = 60.0  # seconds per file pair
    max_file_bytes: int = 64 << 20  # larger files are skipped, with a note
    max_files: int = 20  # pairs looked at
    max_output_lines: int = 200
    command: str = "diffoscope"


@dataclass(frozen=True)
class ExplainOptions:
    limits: Limits = Limits()
    platform: str | None = None  # default: the local image's own platform
    jobs: int = 2  # layers streamed at once
    diffoscope: DiffoscopeOptions | None = None


@dataclass(frozen=True)
class Doc:
    descriptor: dict
    json: dict


@dataclass
class Image:
    """One side, resolved: the indexes passed through, the manifest, its config and layers."""

    source: ImageSource
    indexes: list[Doc]
    manifest: Doc
    config: Doc
    layers: list[LayerFacts] = field(default_factory=list)
    entries: list[list[Entry]] = field(default_factory=list)
    tree: dict[str, Entry] = field(default_factory=dict)  # the final file tree

    @property
    def platform(self) -> str:
        c = self.config.json
        return "/".join(str(x) for x in (c.get("os"), c.get("architecture"), c.get("variant")) if x)

    @property
    def layer_descriptors(self) -> list[dict]:
        layers = self.manifest.json.get("layers", [])
        if not isinstance(layers, list) or not all(isinstance(d, dict) for d in layers):
            raise ExplainError(f"{self.source.label}: manifest {self.manifest.descriptor['digest']} "
                               f"has no list of layer descriptors")
        return layers


DEFAULT_OPTIONS = ExplainOptions()
