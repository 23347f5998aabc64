"""Fetch bench: parallel downloads vs one at a time, and a warm re-run vs re-hashing everything.

N generated files (default 40, 500 MB in all) are served by two threaded HTTP servers on
127.0.0.1, each in its own process (two ports: two "hosts" for the per-host limit), at full
loopback speed and then throttled per host link (all connections to one server share `--rate`, plus
50 ms before each answer's first byte) to look like real upstream mirrors. A StageX-shaped tree with one package per file is fetched
through `fetch_sources`:

- cold, `--jobs 1` vs the default jobs (each into an empty workspace), per scenario:
  loopback at full speed, and throttled to `--rate` MB/s per server, shared by its connections
  (so parallelism gains from using both hosts and hiding latency, not from the throttle);
- warm: the same run again with everything in place (verifications on record) vs the same run
  with `rehash=True`, which hashes every file (page cache warm: the baseline's best case).

Prints seconds and the ratios. Targets: warm re-run >= 50x faster than re-hashing.

Usage: .venv/bin/python bench/fetch.py [--files N] [--total-mb MB] [--rate MB/s] [--dir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from rebuildx.fetch import FetchOptions, Limits, fetch_sources
from rebuildx.stagex.model import Package
from rebuildx.stagex.tree import load_tree
from rebuildx.workspace import Workspace

WARM_TARGET = 50.0
LATENCY = 0.05  # per answer, when throttled


class Link:
    """One host's uplink: every connection to the server shares `rate` bytes/s, as on a real
    mirror whose bandwidth, not its connection count, is the limit. Throttling each connection
    on its own would make N parallel downloads N times faster by construction."""

    def __init__(self, rate: float) -> None:
        self.rate, self.free_at, self.lock = rate, 0.0, threading.Lock()

    def send(self, size: int) -> None:
        """Wait until `size` more bytes have had their turn on the link."""
        with self.lock:
            start = max(time.monotonic(), self.free_at)
            self.free_at = start + size / self.rate
            done = self.free_at
        if (wait := done - time.monotonic()) > 0:
            time.sleep(wait)


class _Handler(SimpleHTTPRequestHandler):
    link: Link | None = None  # None: as fast as loopback goes
    latency = 0.0  # seconds before the first byte of each answer (a mirror's round trips)

    def log_message(self, *args: object) -> None:
        pass

    def copyfile(self, source, outputfile) -> None:  # type: ignore[no-untyped-def]
        if self.latency:
            time.sleep(self.latency)
        if self.link is None:
            return super().copyfile(source, outputfile)
        while data := source.read(64 * 1024):
            self.link.send(len(data))
            outputfile.write(data)


class Server:
    """A file server in its own process, so that it does not share the client's GIL."""

    def __init__(self, directory: Path, rate: float) -> None:
        ports: multiprocessing.Queue[int] = multiprocessing.Queue()
        self.process = multiprocessing.Process(target=_serve, args=(directory, rate, ports), daemon=True)
        self.process.start()
        self.port = ports.get(timeout=30)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join()


def _serve(directory: Path, rate: float, ports: multiprocessing.Queue[int]) -> None:
    handler = type("Handler", (_Handler,), {"link": Link(rate) if rate else None,
                                            "latency": LATENCY if rate else 0.0})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(directory)))
    httpd.daemon_threads = True
    ports.put(httpd.server_address[1])
    httpd.serve_forever()


def make_files(served: Path, count: int, total: int) -> list[tuple[str, str]]:
    """`count` random files of `total` bytes in all; returns (name, sha256) pairs."""
    served.mkdir(parents=True)
    size, found = total // count + 1, []
    for i in range(count):
        data = os.urandom(size)
        name = f"src-{i:03}.tar.gz"
        (served / name).write_bytes(data)
        found.append((name, hashlib.sha256(data).hexdigest()))
    return found


def make_tree(root: Path, files: list[tuple[str, str]], servers: list[Server]) -> list[Package]:
    for i, (name, digest) in enumerate(files):
        directory = root / "packages" / "bench" / f"pkg{i:03}"
        directory.mkdir(parents=True)
        port = servers[i % len(servers)].port
        (directory / "package.toml").write_text(
            f'[package]\nname = "pkg{i:03}"\nversion = "1.0"\n\n[sources.main]\nhash = "{digest}"\n'
            f'mirrors = ["http://127.0.0.1:{port}/{name}"]\n')
        (directory / "Containerfile").write_text("FROM scratch\n")
    return list(load_tree(root).packages.values())


def timed(root: Path, packages: list[Package], options: FetchOptions, *, fresh: bool) -> float:
    if fresh:
        shutil.rmtree(root / "fetch", ignore_errors=True)
        shutil.rmtree(root / ".rebuildx", ignore_errors=True)
    start = time.perf_counter()
    report = fetch_sources(Workspace(root), packages, options)
    elapsed = time.perf_counter() - start
    if not report.ok:
        sys.exit(f"bench: fetch failed:\n{report.error()}")
    return elapsed


def cold(root: Path, packages: list[Package], label: str) -> float:
    one = timed(root, packages, FetchOptions(limits=Limits(jobs=1, per_host=1)), fresh=True)
    many = timed(root, packages, FetchOptions(), fresh=True)
    default = Limits()
    print(f"cold, {label}: --jobs 1 {one:.2f} s, default (--jobs {default.jobs}, {default.per_host}/host) "
          f"{many:.2f} s: {one / many:.1f}x faster")
    return one / many


def warm(root: Path, packages: list[Package], total: int) -> float:
    def best(options: FetchOptions) -> float:
        return min(timed(root, packages, options, fresh=False) for _ in range(5))

    cached, rehash = best(FetchOptions()), best(FetchOptions(rehash=True))
    ratio = rehash / cached
    verdict = "meets" if ratio >= WARM_TARGET else "MISSES"
    print(f"warm re-run {cached * 1000:.1f} ms vs re-hashing {total / 1e6:.0f} MB {rehash * 1000:.0f} ms: "
          f"{ratio:.0f}x faster ({verdict} the {WARM_TARGET:.0f}x target)")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--total-mb", type=int, default=500)
    parser.add_argument("--rate", type=float, default=20.0, help="MB/s per server (host link) when throttled")
    parser.add_argument("--dir", type=Path, help="scratch directory (default: a temporary one)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="rebuildx-bench-fetch-", dir=args.dir))
    try:
        total = args.total_mb * 1_000_000
        files = make_files(scratch / "served", args.files, total)
        print(f"{args.files} files, {total / 1e6:.0f} MB, {os.cpu_count()} CPUs")
        for rate, label in ((0.0, "loopback full speed"), (args.rate * 1e6, f"{args.rate:g} MB/s per host link")):
            servers = [Server(scratch / "served", rate) for _ in range(2)]
            root = scratch / f"tree-{int(rate)}"
            packages = make_tree(root, files, servers)
            cold(root, packages, label)
            for server in servers:
                server.stop()
        warm(root, packages, total)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
