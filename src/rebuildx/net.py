"""Network settings shared by every HTTP client of rebuildx (mirrors, registries, published digests)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for a connection, and for each read of a body (not for the whole body)."""

    connect: float = 20.0
    read: float = 60.0

    def to_httpx(self) -> httpx.Timeout:
        import httpx  # heavy: only where a client is made

        return httpx.Timeout(connect=self.connect, read=self.read, write=self.read, pool=None)


# scheme://user:password@ — the password runs to the netloc's last `@` (an unescaped `@` in a
# password is taken as urlsplit takes it); quotes, brackets and blanks end a URL inside a message.
_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#@:\s\"'<>\\]*):[^/?#\s\"'<>\\]*@")
# user:password@host/… with no scheme, as a registry prefix (`--deps-from`) is written
_BARE = re.compile(r"(?<![\w.+~%/-])(?P<head>[\w.~%+-]+):[^/?#\s\"'<>\\@]*@(?=[a-zA-Z0-9.-]+(?::[0-9]+)?/)")
# http(s)://token@ — a user name alone is, by convention, a token (pip redacts it too)
_TOKEN = re.compile(r"(?P<head>\bhttps?://)[^/?#@:\s\"'<>\\]+@(?=[^/?#\s\"'<>\\]*(?:[/?#\s\"'<>\\]|$))")


def redact(text: str) -> str:
    """`text` (a URL, or a message, log line or report holding URLs) with each URL's password
    replaced by `***` (`https://user:***@host/…`), and an http(s) URL's lone user name, a token,
    by `***`: what a user gives with credentials in it is never echoed. Idempotent."""
    if "@" not in text:
        return text
    text = _PASSWORD.sub(r"\g<head>:***@", text)
    return _BARE.sub(r"\g<head>:***@", _TOKEN.sub(r"\g<head>***@", text))
