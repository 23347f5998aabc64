"""One URL into a partial file, against a real server on 127.0.0.1 that misbehaves."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from rebuildx.fetch.http import Downloader, DownloadFailed, Limits, RetryPolicy, Timeouts

from .conftest import MirrorServer, blob, sha

BODY = blob(600_000)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def downloader(sleeps: list[float]):
    d = Downloader.create(Limits(), Timeouts(connect=2, read=0.5), RetryPolicy(retries=2, backoff=0.25),
                          sleeps.append, threading.Event())
    yield d
    d.close()


def _fetch(downloader: Downloader, url: str, partial: Path):
    seen: list[tuple[int, int | None]] = []
    transfer = downloader.fetch(url, partial, lambda done, total: seen.append((done, total)))
    return transfer, seen


def test_happy_path_hashes_while_writing(mirror1: MirrorServer, downloader: Downloader, tmp_path: Path) -> None:
    transfer, seen = _fetch(downloader, mirror1.add("/f", BODY), tmp_path / "p")
    assert (tmp_path / "p").read_bytes() == BODY
    assert transfer.sha256 == sha(BODY) and transfer.size == len(BODY) and transfer.resumed_from == 0
    assert seen[-1] == (len(BODY), len(BODY))


@pytest.mark.parametrize("fault", ["reset", "truncate"])
def test_cut_body_is_resumed_with_range(mirror1: MirrorServer, downloader: Downloader, tmp_path: Path,
                                        sleeps: list[float], fault: str) -> None:
    url = mirror1.add("/f", BODY, faults=[fault])
    transfer, _ = _fetch(downloader, url, tmp_path / "p")
    first, second = mirror1.hits("/f")
    assert first.range is None
    offset = int(second.range.removeprefix("bytes=").removesuffix("-"))
    assert 0 < offset <= len(BODY) // 2
    assert transfer.resumed_from == offset and transfer.sha256 == sha(BODY)
    assert (tmp_path / "p").read_bytes() == BODY
    assert sleeps == [0.25]


def test_server_error_is_retried_with_growing_backoff(mirror1: MirrorServer, downloader: Downloader,
                                                      tmp_path: Path, sleeps: list[float]) -> None:
    url = mirror1.add("/f", BODY, faults=["500", "500"])
    transfer, _ = _fetch(downloader, url, tmp_path / "p")
    assert transfer.sha256 == sha(BODY)
    assert [r.mode for r in mirror1.hits("/f")] == ["500", "500", "ok"]
    assert sleeps == [0.25, 0.5]


def test_persistent_server_error_gives_up(mirror1: MirrorServer, downloader: Downloader, tmp_path: Path) -> None:
    with pytest.raises(DownloadFailed, match=r"HTTP 500 \(gave up after 3 attempts\)"):
        _fetch(downloader, mirror1.add("/f", BODY, mode="500"), tmp_path / "p")


def test_not_found_is_not_retried(mirror1: MirrorServer, downloader: Downloader, tmp_path: Path,
                                  sleeps: list[float]) -> None:
    with pytest.raises(DownloadFailed, match="HTTP 404"):
        _fetch(downloader, mirror1.url("/missing"), tmp_path / "p")
    assert len(mirror1.hits("/missing")) == 1 and sleeps == []


def test_server_slower_than_the_read_timeout(mirror1: MirrorServer, downloader: Downloader, tmp_path: Path) -> None:
    url = mirror1.add("/f", BODY, mode="slow", delay=1.0)
    with pytest.raises(DownloadFailed, match="timed out.*ReadTimeout.*3 attempts"):
        _fetch(downloader, url, tmp_path / "p")


def test_redirects_followed_and_loops_refused(mirror1: MirrorServer, downloader: Downloader, tmp_path: Path) -> None:
    mirror1.add("/real", BODY)
    transfer, _ = _fetch(downloader, mirror1.add("/moved", b"", redirect="/real"), tmp_path / "a")
    assert transfer.sha256 == sha(BODY)
    with pytest.raises(DownloadFailed, match="too many redirects"):
        _fetch(downloader, mirror1.add("/loop", b"", mode="loop"), tmp_path / "b")
    assert len(mirror1.hits("/loop")) == Limits().redirects + 1


def test_server_ignoring_range_restarts_from_zero(mirror1: MirrorServer, downloader: Downloader,
                                                  tmp_path: Path) -> None:
    (tmp_path / "p").write_bytes(BODY[:1000])
    transfer, _ = _fetch(downloader, mirror1.add("/f", BODY, mode="no-range"), tmp_path / "p")
    assert mirror1.hits("/f")[0].range == "bytes=1000-"
    assert transfer.resumed_from == 1000  # Range was asked; the caller learns a resume was tried
    assert (tmp_path / "p").read_bytes() == BODY and transfer.sha256 == sha(BODY)


def test_complete_partial_answered_416_is_hashed_not_trusted(mirror1: MirrorServer, downloader: Downloader,
                                                            tmp_path: Path) -> None:
    (tmp_path / "p").write_bytes(b"x" * len(BODY))
    transfer, _ = _fetch(downloader, mirror1.add("/f", BODY), tmp_path / "p")
    assert mirror1.hits("/f")[0].range == f"bytes={len(BODY)}-"
    assert transfer.sha256 == sha(b"x" * len(BODY)) != sha(BODY)


def test_a_host_refusing_connections_is_not_retried_for_every_file(downloader: Downloader, tmp_path: Path,
                                                                   sleeps: list[float]) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(DownloadFailed, match="gave up after 3 attempts"):
        _fetch(downloader, f"{dead}/a", tmp_path / "a")
    waited = list(sleeps)
    with pytest.raises(DownloadFailed, match="not tried: 127.0.0.1:.* was unreachable earlier in this run"):
        _fetch(downloader, f"{dead}/b", tmp_path / "b")
    assert sleeps == waited  # no retries, no backoff for the second file
