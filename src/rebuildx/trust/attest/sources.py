"""Reading one package's envelope file from an attestation tree: a directory or an http(s) URL.

Everything here is hostile until checked: the size is capped before anything is parsed (a file
that says or turns out to be larger is refused, not truncated), and redirects are never followed
(a tree that sends the reader elsewhere is not the tree the user named).
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from rebuildx.net import redact
from rebuildx.trust.attest.keys import AttestError
from rebuildx.trust.attest.store import relative_path

MAX_FILE_BYTES = 32 * 1024 * 1024  # thousands of envelopes; a real file is a few KiB per run
MAX_SECONDS = 120.0  # for one file, whole: a server dribbling bytes under the read timeout is cut
TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=30.0, pool=None)


class SourceError(Exception):
    """A source that could not be read for one package, and why (one line)."""


@dataclass
class Source:
    """`spec` is a directory or an http(s) URL of an attestation tree's root."""

    spec: str
    max_bytes: int = MAX_FILE_BYTES
    max_seconds: float = MAX_SECONDS
    _client: httpx.Client | None = field(default=None, repr=False)
    _down: str | None = field(default=None, repr=False)  # after a connection failure, not asked again

    def __post_init__(self) -> None:
        if not self.is_url:
            return
        try:
            host = httpx.URL(self.spec).host
        except httpx.InvalidURL as e:
            raise AttestError(f"--from {self.label!r}: not a usable URL ({redact(str(e))})") from e
        if not host:
            raise AttestError(f"--from {self.label!r}: not a usable URL (no host)")

    @property
    def label(self) -> str:
        """The spec as messages and reports show it: a URL's password never echoed."""
        return redact(self.spec)

    @property
    def is_url(self) -> bool:
        return self.spec.startswith(("http://", "https://"))

    def read(self, release: str, package: str, hex_: str) -> bytes | None:
        """The file's bytes, None when the tree has no file for that digest; SourceError otherwise."""
        rel = relative_path(release, package, hex_)
        return self._get(f"{self.spec.rstrip('/')}/{rel}") if self.is_url else self._open(Path(self.spec) / rel)

    def _open(self, path: Path) -> bytes | None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO named like a file must not block
        except FileNotFoundError:
            return None
        except OSError as e:
            raise SourceError(f"{path}: {e.strerror or e}") from e
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # before fdopen, which refuses a folder with an OSError of its own
            os.close(fd)
            raise SourceError(f"{path}: not a regular file; not read")
        with os.fdopen(fd, "rb") as f:
            if st.st_size > self.max_bytes:
                raise SourceError(f"{path}: {st.st_size} bytes, more than the {self.max_bytes} allowed; not read")
            try:
                data = f.read(self.max_bytes + 1)  # it may grow between stat and read
            except OSError as e:
                raise SourceError(f"{path}: {e.strerror or e}") from e
        if len(data) > self.max_bytes:
            raise SourceError(f"{path}: more than the {self.max_bytes} bytes allowed; not read")
        return data

    def _get(self, url: str) -> bytes | None:
        try:
            return self._fetch(url)
        except SourceError as e:  # every message names the URL, or the server's own words: redacted
            raise SourceError(redact(str(e))) from e.__cause__

    def _fetch(self, url: str) -> bytes | None:
        if self._down:
            raise SourceError(f"{url}: not tried ({self._down})")
        if self._client is None:
            self._client = httpx.Client(follow_redirects=False, timeout=TIMEOUT,
                                        headers={"Accept-Encoding": "identity"})
        try:
            with self._client.stream("GET", url) as response:
                if response.status_code == 404:
                    return None
                if response.is_redirect:
                    raise SourceError(f"{url}: redirects to {response.headers.get('location', '?')}; "
                                      f"redirects are not followed (name the tree's own URL)")
                if response.status_code != 200:
                    raise SourceError(f"{url}: HTTP {response.status_code}")
                length = response.headers.get("content-length")
                if length and length.isdigit() and int(length) > self.max_bytes:
                    raise SourceError(f"{url}: {length} bytes, more than the {self.max_bytes} allowed; not read")
                body, deadline = bytearray(), time.monotonic() + self.max_seconds
                for chunk in response.iter_raw():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise SourceError(f"{url}: more than the {self.max_bytes} bytes allowed; not read")
                    if time.monotonic() > deadline:  # and not waited for again, package after package
                        self._down = f"{self.label} sent a file too slowly"
                        raise SourceError(f"{url}: not sent whole within {self.max_seconds:g} s; not read")
                return bytes(body)
        except (httpx.ConnectError, httpx.TimeoutException, UnicodeError) as e:  # UnicodeError: a host no resolver takes
            self._down = f"{self.label} unreachable: {type(e).__name__}: {e}"
            raise SourceError(f"{url}: {type(e).__name__}: {e}") from e
        except httpx.HTTPError as e:
            raise SourceError(f"{url}: {type(e).__name__}: {e}") from e

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
