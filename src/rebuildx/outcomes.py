"""The verdicts rebuildx reaches, as values every layer shares (they go into the state DB and
come back as these enums).

Built-but-different (MISMATCH) is never confused with did-not-build (FAILED) or not-there
(NOT_BUILT, UNPUBLISHED), as in rebuilderd. UNSTABLE: two builds of the same inputs (`--rounds 2`)
differ, so the package is not reproducible whatever the published digest says.
"""

from __future__ import annotations

import enum


class Verdict(enum.Enum):
    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    NOT_BUILT = "NOT_BUILT"
    UNPUBLISHED = "UNPUBLISHED"
    FAILED = "FAILED"
    UNSTABLE = "UNSTABLE"


class ContentVerdict(enum.Enum):
    """Two images built by different engines, compared by their file trees (their digests differ
    by construction: another tar writer, compressor and config history)."""

    CONTENT_MATCH = "CONTENT_MATCH"
    CONTENT_DIFF = "CONTENT_DIFF"
