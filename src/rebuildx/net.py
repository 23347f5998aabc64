"""Network settings shared by every HTTP client of rebuildx (mirrors, registries, published digests)."""

from __future__ import annotations

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
