"""Signatures: a release's maintainer quorum (`rebuildx signatures`) and signing what was
reproduced here (`rebuildx sign`). See docs/signatures.md."""
