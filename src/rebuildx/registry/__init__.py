"""Pulling from OCI registries: references, a verifying client, and whole OCI layouts.

    from rebuildx.registry import pull_layout
    pull_layout("docker.io/stagex/core-bash@sha256:…", Path("out/core-bash"), "linux/amd64")

Every byte received is checked against the digest it was asked for; a mismatch is a
`RegistryError` naming the reference and both digests.
"""

from rebuildx.registry.client import (ACCEPT, DOCKER_LIST, DOCKER_MANIFEST, INDEX_TYPES, MANIFEST_TYPES,
                                      OCI_INDEX, OCI_MANIFEST, Manifest, RegistryClient, Timeouts)
from rebuildx.registry.layout import platform_matches, pull_layout
from rebuildx.registry.reference import Reference, check_digest, is_loopback, parse_reference
from rebuildx.registry.verify import VerifyingReader, file_chunks, read_verified

__all__ = ["ACCEPT", "DOCKER_LIST", "DOCKER_MANIFEST", "INDEX_TYPES", "MANIFEST_TYPES", "OCI_INDEX",
           "OCI_MANIFEST", "Manifest", "Reference", "RegistryClient", "Timeouts", "VerifyingReader",
           "check_digest", "file_chunks", "is_loopback", "parse_reference", "platform_matches",
           "pull_layout", "read_verified"]
