"""Download one URL into a partial file: retries with backoff, `Range` resume, timeouts.

httpx does the HTTP; this layer adds the policy a long cold fetch needs. Transient trouble
(connection reset or refused, timeout, a truncated body, HTTP 5xx/408/429) is retried after a
growing delay; a download that was cut keeps its bytes and continues with `Range`. An answer
that will not change (404, 403, too many redirects) ends the attempt at once so the caller can
go to the next mirror. Every httpx exception is mapped here to a one-line `answer`.

The body is hashed while it is written, so a finished download is not read back again.
"""

from __future__ import annotations

import hashlib
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from rebuildx.net import Timeouts

# StageX's src/fetch.py sends these; some mirrors (SourceForge) answer a browser-less client with
# the file rather than an HTML page, so rebuildx presents itself the same way.
HEADERS = {"Accept": "*/*", "User-Agent": "Wget/1.21.3 (linux-gnu)",
           # Raw bytes only: a server that gzips a .tar.gz on the fly would change the hash and
           # make byte offsets for Range meaningless.
           "Accept-Encoding": "identity"}

OnBytes = Callable[[int, "int | None"], None]  # (bytes in the partial file, expected total)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one URL is retried after a transient failure.

    `retries` counts failures in a row: an attempt that got further into the file than any
    before it resets the count (the download advances), up to `max_attempts` attempts in all.
    """

    retries: int = 4
    backoff: float = 1.0  # first delay; doubles each failure in a row
    backoff_max: float = 30.0
    max_attempts: int = 50

    def delay(self, failures: int, retry_after: float | None = None) -> float:
        wait = min(self.backoff * 2.0 ** max(failures - 1, 0), self.backoff_max)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.backoff_max))
        return wait


MAX_SOURCE_BYTES = 1 << 30


@dataclass(frozen=True)
class Limits:
    """Downloads at once overall and per host, redirects followed per request, and the bytes a
    download may write when the tree does not give the source's `size`: StageX's largest
    sources are a few hundred MB, and a hostile or broken mirror must not fill the disk (or,
    six at once, six times over) before the sha256 check can refuse its answer."""

    jobs: int = 8
    per_host: int = 4
    redirects: int = 10
    max_source_bytes: int = MAX_SOURCE_BYTES


@dataclass(frozen=True)
class Transfer:
    """A download the server says is complete; `sha256` is of the whole partial file."""

    sha256: str
    size: int
    resumed_from: int  # bytes already in the partial file when the final attempt began


class DownloadFailed(Exception):
    """This URL will not deliver now; `answer` says what it answered, in one line."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


class Cancelled(Exception):
    """The run is being stopped (Ctrl-C); the partial file is kept for a later resume."""


class _Transient(Exception):
    def __init__(self, answer: str, retry_after: float | None = None, connect: bool = False) -> None:
        super().__init__(answer)
        self.connect = connect  # no connection could be made at all
        self.answer, self.retry_after = answer, retry_after


class HostSlots:
    """At most `limit` requests in flight per host, across every worker thread."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots: dict[str, threading.Semaphore] = {}
        self._lock = threading.Lock()

    @contextmanager
    def hold(self, url: str) -> Iterator[None]:
        host = urlsplit(url).netloc.lower()
        with self._lock:
            slot = self._slots.setdefault(host, threading.Semaphore(self.limit))
        with slot:
            yield


class _Partial:
    """The partial file and the running sha256 of its bytes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.digest = hashlib.sha256()
        self.offset = 0
        if path.exists():
            with open(path, "rb") as f:
                self.digest = hashlib.file_digest(f, "sha256")
            self.offset = path.stat().st_size
        # Default mode (0666 less umask), as urlretrieve creates it: the build context copies it.
        self.file = open(path, "ab")  # noqa: SIM115 (held across attempts; closed by close())

    def restart(self) -> None:
        self.file.seek(0)
        self.file.truncate()
        self.digest, self.offset = hashlib.sha256(), 0

    def write(self, chunk: bytes) -> None:
        self.file.write(chunk)
        self.digest.update(chunk)
        self.offset += len(chunk)

    def close(self) -> None:
        self.file.close()


class Downloader:
    """Fetches URLs into partial files with one shared httpx client (thread-safe)."""

    def __init__(self, client: httpx.Client, retry: RetryPolicy, slots: HostSlots,
                 sleep: Callable[[float], None], cancel: threading.Event) -> None:
        self.client, self.retry, self.slots = client, retry, slots
        self.sleep, self.cancel = sleep, cancel
        # Hosts no connection could be made to, after every retry, in this run: the next URLs on
        # them fail at once instead of each waiting out the same retries (a circuit breaker).
        self._down: dict[str, str] = {}
        self._down_lock = threading.Lock()
        self._streams: set[httpx.Response] = set()  # bodies being read now, for abort()

    @classmethod
    def create(cls, limits: Limits, timeouts: Timeouts, retry: RetryPolicy,
               sleep: Callable[[float], None], cancel: threading.Event) -> Downloader:
        client = httpx.Client(
            headers=HEADERS, timeout=timeouts.to_httpx(), follow_redirects=True,
            max_redirects=limits.redirects,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=limits.jobs))
        return cls(client, retry, HostSlots(limits.per_host), sleep, cancel)

    def close(self) -> None:
        self.client.close()

    def abort(self) -> None:
        """Wake every read blocked on a stalled server (Ctrl-C must not wait for the read
        timeout): shut the sockets down under the readers, which then see an error and stop."""
        with self._down_lock:
            streams = list(self._streams)
        for response in streams:
            stream = response.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def fetch(self, url: str, partial: Path, on_bytes: OnBytes, max_bytes: int | None = None) -> Transfer:
        """Download `url` into `partial`, resuming the bytes already there; never more than
        `max_bytes` in the partial file (the source's size, or a cap): a server announcing or
        sending more is refused at once.

        Raises DownloadFailed with the last answer when the URL gives up; the partial file is
        left in place (it may be resumed from another mirror: the hash decides in the end).
        """
        host = urlsplit(url).netloc.lower()
        with self._down_lock:
            down = self._down.get(host)
        if down:
            raise DownloadFailed(f"not tried: {host.rpartition('@')[2]} was unreachable earlier in this run ({down})")
        part = _Partial(partial)
        failures = attempts = 0
        furthest = part.offset
        try:
            while True:
                attempts += 1
                start = part.offset
                try:
                    self._attempt(url, part, on_bytes, max_bytes)
                    return Transfer(part.digest.hexdigest(), part.offset, start)
                except _Transient as e:
                    failures = 1 if part.offset > furthest else failures + 1
                    furthest = max(furthest, part.offset)
                    if failures > self.retry.retries or attempts >= self.retry.max_attempts:
                        if e.connect and furthest == 0:
                            with self._down_lock:
                                self._down.setdefault(host, e.answer)
                        raise DownloadFailed(f"{e.answer} (gave up after {attempts} attempts)") from e
                    self.sleep(self.retry.delay(failures, e.retry_after))
                    if self.cancel.is_set():
                        raise Cancelled(url) from e
        finally:
            part.close()

    def _attempt(self, url: str, part: _Partial, on_bytes: OnBytes, max_bytes: int | None) -> None:
        headers = {"Range": f"bytes={part.offset}-"} if part.offset else {}
        try:
            with self.slots.hold(url), self.client.stream("GET", url, headers=headers) as response:
                total = _accept(response, part)
                if total is None and response.status_code == 416:
                    return  # nothing after our offset: the partial file may be complete
                if max_bytes is not None and total is not None and total > max_bytes:
                    part.restart()
                    raise DownloadFailed(f"announces {total} bytes, more than the {max_bytes} expected; refused")
                with self._down_lock:
                    self._streams.add(response)
                try:
                    for chunk in response.iter_raw():
                        if self.cancel.is_set():
                            raise Cancelled(url)
                        if max_bytes is not None and part.offset + len(chunk) > max_bytes:
                            part.restart()  # these bytes are not the file: none is kept
                            raise DownloadFailed(f"sent more than the {max_bytes} bytes expected; stopped")
                        part.write(chunk)
                        on_bytes(part.offset, total)
                finally:
                    with self._down_lock:
                        self._streams.discard(response)
                part.file.flush()
        except httpx.TimeoutException as e:
            raise _Transient(f"timed out ({type(e).__name__})") from e
        except httpx.TooManyRedirects as e:
            raise DownloadFailed("too many redirects") from e
        except httpx.ConnectError as e:
            raise _Transient(f"{type(e).__name__}: {e}".rstrip(": "), connect=True) from e
        except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError) as e:
            raise _Transient(f"{type(e).__name__}: {e}".rstrip(": ")) from e
        except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.LocalProtocolError) as e:
            raise DownloadFailed(f"{type(e).__name__}: {e}") from e
        except httpx.HTTPError as e:
            raise _Transient(f"{type(e).__name__}: {e}") from e


_CONTENT_RANGE = re.compile(r"bytes (\d+)-\d+/(\d+|\*)")


def _accept(response: httpx.Response, part: _Partial) -> int | None:
    """Decide from the status what the body is; return the expected full size if known."""
    status = response.status_code
    if status == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
        if not match or int(match[1]) != part.offset:
            part.restart()
            raise _Transient(f"HTTP 206 with unusable Content-Range {response.headers.get('Content-Range')!r}")
        return int(match[2]) if match[2] != "*" else None
    if status == 200:
        if part.offset:
            part.restart()  # the server ignored Range: start over
        length = response.headers.get("Content-Length")
        return int(length) if length and length.isdigit() else None
    if status == 416 and part.offset:
        return None
    if status >= 500 or status in (408, 429):
        raise _Transient(f"HTTP {status}", _retry_after(response))
    raise DownloadFailed(f"HTTP {status}")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
