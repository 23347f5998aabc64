"""Image references (`host/repo:tag`, `host/repo@sha256:…`), read as Docker reads them.

The first path component is a registry host only if it has a `.` or `:` or is `localhost`
(`stagex/core-bash` is `docker.io/stagex/core-bash`); Docker Hub's one-word repositories live
under `library/`. Docker Hub's API is not at `docker.io` but at `registry-1.docker.io`.
Loopback registries are spoken to over plain HTTP, as Docker does; every other one over HTTPS.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace

from rebuildx.errors import RegistryError
from rebuildx.net import redact
from rebuildx.oci.names import is_component

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_HUB_ALIASES = {"index.docker.io", "registry-1.docker.io"}

_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_HOST = re.compile(r"(?:\[[0-9a-fA-F:]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?)(?::[0-9]+)?")


def check_digest(digest: str, what: str = "digest") -> str:
    """Only `sha256:<64 hex>` is accepted: a digest also names a file under blobs/sha256/."""
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise RegistryError(f"{what}: unsupported or malformed digest {digest!r} (want sha256:<64 hex>)")
    return digest


@dataclass(frozen=True)
class Reference:
    """One image: `host` as written (`docker.io` kept), repository, and a tag and/or digest."""

    host: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.host == DOCKER_HUB else self.host

    @property
    def scheme(self) -> str:
        return "http" if is_loopback(self.host) else "https"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.api_host}/v2/{self.repository}"

    @property
    def name(self) -> str:
        return f"{self.host}/{self.repository}"

    @property
    def reference(self) -> str:
        """What to ask the registry for: the digest when there is one, else the tag."""
        return self.digest or self.tag or "latest"

    def with_digest(self, digest: str) -> Reference:
        return replace(self, digest=check_digest(digest))

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{self.name}{tag}{digest}"


def is_loopback(host: str) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1, with or without a port."""
    name = host[1:host.find("]")] if host.startswith("[") else host.split(":")[0]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse_reference(text: str) -> Reference:
    """`[host/]repo[:tag][@sha256:…]` -> Reference; anything else is a RegistryError naming it."""
    shown = redact(text)  # a reference never holds credentials; one written with them is not echoed
    rest, _, digest = text.strip().partition("@")
    if digest:
        check_digest(digest, f"image reference {shown!r}")
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host, path = first, remainder
    else:
        host, path = DOCKER_HUB, rest
    path, tag = _split_tag(path)
    host = DOCKER_HUB if host in _HUB_ALIASES else host
    if host == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if not _HOST.fullmatch(host) or not path or not all(is_component(c) for c in path.split("/")):
        raise RegistryError(f"image reference {shown!r}: not of the form host/repository[:tag][@sha256:…]")
    if tag is not None and not _TAG.fullmatch(tag):
        raise RegistryError(f"image reference {shown!r}: malformed tag {tag!r}")
    return Reference(host, path, tag, digest or None)


def _split_tag(path: str) -> tuple[str, str | None]:
    head, slash, last = path.rpartition("/")
    if ":" not in last:
        return path, None
    name, _, tag = last.partition(":")
    return f"{head}{slash}{name}", tag
