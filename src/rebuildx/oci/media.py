"""OCI and Docker media types, named once for every reader and writer."""

from __future__ import annotations

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})


def media_type(desc: object) -> str:
    """A descriptor's or document's `mediaType`, "" when it has none or not a string (untrusted
    JSON: a list there must read as "unknown", not break a set lookup)."""
    value = desc.get("mediaType") if isinstance(desc, dict) else None
    return value if isinstance(value, str) else ""


ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST])
