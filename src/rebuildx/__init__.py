"""rebuildx: rebuild StageX from source and prove the published images."""

__version__ = "0.1.0"
