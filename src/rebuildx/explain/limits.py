"""What explain refuses to do for a hostile image, and the errors it raises.

A layer is untrusted input: a few KiB of gzip can claim terabytes, a tar header can claim an
absurd size or a gigantic PAX header. Every limit here is checked while streaming, before the
memory or time is spent, and ends the comparison with a `LimitExceeded` that says which limit
to raise if the image is genuine.
"""

from __future__ import annotations

from dataclasses import dataclass

from rebuildx.errors import ExplainError, LimitExceeded

__all__ = ["ExplainError", "LimitExceeded", "Limits"]

GIB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """Per-layer caps. The defaults are far above any StageX package (the largest layers are a
    few GiB and some ten thousand files) and far below what would exhaust the machine: explain
    keeps every entry of both images in memory (a few hundred bytes each), so `max_entries`
    bounds its memory to about 100 MB per side."""

    max_layer_bytes: int = 64 * GIB  # uncompressed bytes of one layer
    max_entries: int = 200_000  # tar entries of one layer
    max_header_bytes: int = 1 << 20  # one PAX or GNU long-name header
    max_document_bytes: int = 16 << 20  # an index, manifest or config
