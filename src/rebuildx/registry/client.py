"""An OCI distribution API client on httpx: manifests and blobs by digest, anonymous pulls.

Layers, as in httpx: `Reference` (reference.py) says where; `RegistryClient` adds the policy a
pull needs — the anonymous bearer-token flow of Docker Hub and quay.io (401 with
`WWW-Authenticate: Bearer realm=…,service=…,scope=…` -> GET a token -> retry), Accept headers for
the OCI and Docker media types, and a digest check on every byte received (verify.py). Every
httpx exception and every unexpected answer becomes a one-line `RegistryError` here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from rebuildx.errors import RegistryError
from rebuildx.net import Timeouts
from rebuildx.oci.media import ACCEPT, INDEX_TYPES, MANIFEST_TYPES
from rebuildx.registry.reference import Reference, check_digest
from rebuildx.registry.verify import VerifyingReader


MAX_MANIFEST = 4 << 20  # the distribution spec lets registries refuse manifests over 4 MiB
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Manifest:
    """A manifest or index exactly as received (its digest is that of `data`)."""

    data: bytes
    media_type: str
    digest: str

    def json(self) -> dict:
        try:
            doc = json.loads(self.data)
        except ValueError as e:
            raise RegistryError(f"manifest {self.digest}: not JSON: {e}") from e
        if not isinstance(doc, dict):
            raise RegistryError(f"manifest {self.digest}: not a JSON object")
        return doc

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


class RegistryClient:
    """Anonymous pulls from OCI registries; one instance may serve many registries and threads."""

    def __init__(self, *, timeouts: Timeouts = Timeouts(), transport: httpx.BaseTransport | None = None) -> None:
        timeout = timeouts.to_httpx()
        self._http = httpx.Client(timeout=timeout, follow_redirects=True, transport=transport,
                                  headers={"User-Agent": "rebuildx", "Accept-Encoding": "identity"})
        self._tokens: dict[tuple[str, str], str] = {}

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_manifest(self, ref: Reference, reference: str | None = None) -> Manifest:
        """The manifest or index `reference` (a digest or tag; default: the ref's own) as received.
        Asked by digest, the bytes must have that digest; asked by tag, they must have the digest
        the registry names in `Docker-Content-Digest`, if it names one."""
        reference = reference or ref.reference
        url = f"{ref.base_url}/manifests/{reference}"
        with self._stream(ref, url, {"Accept": ACCEPT}) as answer:
            data = _read_capped(answer, MAX_MANIFEST, f"{ref}: manifest {reference}")
            header_type = answer.headers.get("Content-Type", "").split(";")[0].strip()
            named = answer.headers.get("Docker-Content-Digest")
        got = "sha256:" + hashlib.sha256(data).hexdigest()
        wanted = reference if reference.startswith("sha256:") else named
        if wanted and got != wanted:
            raise RegistryError(f"{ref}: asked for manifest {wanted}, received {got} "
                                f"({len(data)} bytes); refused")
        manifest = Manifest(data, header_type, got)
        body_type = manifest.json().get("mediaType")
        media_type = body_type if isinstance(body_type, str) and body_type else header_type
        if media_type not in INDEX_TYPES | MANIFEST_TYPES:
            raise RegistryError(f"{ref}: manifest {got} has media type {media_type!r}, not an OCI "
                                f"or Docker image manifest or index")
        return Manifest(data, media_type, got)

    @contextmanager
    def open_blob(self, ref: Reference, digest: str, size: int | None) -> Iterator[VerifyingReader]:
        """A stream of the blob that raises RegistryError as soon as it is not `digest`/`size`."""
        check_digest(digest, str(ref))
        with self._stream(ref, f"{ref.base_url}/blobs/{digest}", {}) as answer:
            yield VerifyingReader(_raw_chunks(answer, str(ref)), digest, size, str(ref))

    @contextmanager
    def _stream(self, ref: Reference, url: str, headers: dict[str, str]) -> Iterator[httpx.Response]:
        answer = self._send(ref, url, headers)
        try:
            if answer.status_code == 401:
                challenge = answer.headers.get("WWW-Authenticate", "")
                answer.close()
                self._authenticate(ref, challenge)
                answer = self._send(ref, url, headers)
            _check_status(answer, ref, url)
            yield answer
        finally:
            answer.close()

    def _send(self, ref: Reference, url: str, headers: dict[str, str]) -> httpx.Response:
        token = self._tokens.get((ref.api_host, ref.repository))
        if token:
            headers = {**headers, "Authorization": f"Bearer {token}"}
        try:
            return self._http.send(self._http.build_request("GET", url, headers=headers), stream=True)
        except httpx.HTTPError as e:
            raise RegistryError(f"{ref}: {url}: {type(e).__name__}: {e}") from e

    def _authenticate(self, ref: Reference, challenge: str) -> None:
        """Docker's token flow: the 401's Bearer challenge says where to get an anonymous token."""
        scheme, _, params = challenge.partition(" ")
        if scheme.lower() != "bearer":
            raise RegistryError(f"{ref}: the registry wants {scheme or 'unknown'} authentication; "
                                f"rebuildx pulls anonymously")
        fields = dict(_CHALLENGE.findall(params))
        if "realm" not in fields:
            raise RegistryError(f"{ref}: a Bearer challenge without a realm: {challenge!r}")
        query = {k: v for k, v in fields.items() if k in ("service", "scope")}
        query.setdefault("scope", f"repository:{ref.repository}:pull")
        try:
            answer = self._http.get(fields["realm"], params=query)
            answer.raise_for_status()
            doc = answer.json()
        except (httpx.HTTPError, ValueError) as e:
            raise RegistryError(f"{ref}: no token from {fields['realm']}: {e}") from e
        token = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{ref}: the token service {fields['realm']} answered without a token")
        self._tokens[(ref.api_host, ref.repository)] = token


def _check_status(answer: httpx.Response, ref: Reference, url: str) -> None:
    if answer.status_code == 200:
        return
    first = next(answer.iter_raw(4096), b"")  # a hostile error page is not read whole
    detail = first.decode("utf-8", "replace").strip().replace("\n", " ")[:200]
    if answer.status_code == 404:
        raise RegistryError(f"{ref}: not found: {url} (404) {detail}".rstrip())
    raise RegistryError(f"{ref}: {url}: HTTP {answer.status_code} {detail}".rstrip())


def _raw_chunks(answer: httpx.Response, what: str) -> Iterator[bytes]:
    """The body as sent (no content decoding), with transport errors mapped."""
    try:
        yield from answer.iter_raw(1 << 20)
    except httpx.HTTPError as e:
        raise RegistryError(f"{what}: the blob transfer broke off: {type(e).__name__}: {e}") from e


def _read_capped(answer: httpx.Response, cap: int, what: str) -> bytes:
    parts, total = [], 0
    for chunk in _raw_chunks(answer, what):
        total += len(chunk)
        if total > cap:
            raise RegistryError(f"{what}: over {cap} bytes; refused")
        parts.append(chunk)
    return b"".join(parts)
