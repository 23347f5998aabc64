"""Pulling from OCI registries: references, a verifying client, and whole OCI layouts.

    from rebuildx.registry import pull_layout
    pull_layout("docker.io/stagex/core-bash@sha256:…", Path("out/core-bash"), "linux/amd64")

Every byte received is checked against the digest it was asked for; a mismatch is a
`RegistryError` naming the reference and both digests.
"""

from rebuildx.net import Timeouts
from rebuildx.registry.client import Manifest, RegistryClient
from rebuildx.registry.layout import platform_matches, pull_layout
from rebuildx.registry.reference import Reference, check_digest, is_loopback, parse_reference
from rebuildx.registry.verify import VerifyingReader, file_chunks, read_verified

__all__ = ["Manifest", "Reference", "RegistryClient", "Timeouts", "VerifyingReader",
           "check_digest", "file_chunks", "is_loopback", "parse_reference", "platform_matches",
           "pull_layout", "read_verified"]
