"""Build engines: the contract (`Engine`) and its implementations (buildx today)."""

from rebuildx.engine.base import BuildOutcome, BuildRequest, Engine

__all__ = ["BuildOutcome", "BuildRequest", "Engine"]
