"""A real HTTP mirror on 127.0.0.1 with fault modes, and small StageX-shaped trees.

The server speaks HTTP/1.1 with keep-alive and honours `Range` like a real mirror. Each route
serves one body; faults are either queued (`faults=["500", "reset"]`: one per request, then
normal service) or permanent (`mode="404"`). Every request is recorded with its Range header.
"""

from __future__ import annotations

import hashlib
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

FAULTS = {"ok", "404", "500", "wrong", "reset", "truncate", "slow", "loop", "no-range"}


@dataclass
class Route:
    body: bytes
    mode: str = "ok"
    faults: list[str] = field(default_factory=list)
    chunk: int = 64 * 1024  # bytes per write
    pause: float = 0.0  # seconds between writes of the body
    delay: float = 0.0  # for "slow": seconds before answering
    redirect: str | None = None  # answer 302 to this path


@dataclass
class Request:
    path: str
    range: str | None
    mode: str


class MirrorServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.sent: dict[str, int] = {}  # body bytes written per path
        self.lock = threading.Lock()
        server = self
        handler = type("Handler", (_Handler,), {"mirror": server})
        self.httpd = _Server(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes, mode: str = "ok", faults: list[str] | None = None,
            **kw: object) -> str:
        assert mode in FAULTS and all(f in FAULTS for f in faults or [])
        self.routes[path] = Route(body, mode, list(faults or []), **kw)  # type: ignore[arg-type]
        return self.url(path)

    def hits(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # resets and cut connections are the point of this server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mirror: MirrorServer

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        route = self.mirror.routes.get(self.path)
        with self.mirror.lock:
            mode = (route.faults.pop(0) if route and route.faults else route.mode) if route else "404"
            self.mirror.requests.append(Request(self.path, self.headers.get("Range"), mode))
        if route and route.redirect and mode == "ok":
            return self._status(302, Location=route.redirect)
        getattr(self, "_" + mode.replace("-", "_"))(route)

    def _status(self, code: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(code)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _404(self, route: Route | None) -> None:
        self._status(404, b"not found\n")

    def _500(self, route: Route) -> None:
        self._status(500, b"oops\n")

    def _loop(self, route: Route) -> None:
        self._status(302, Location=self.path)

    def _slow(self, route: Route) -> None:
        time.sleep(route.delay)
        self._ok(route)

    def _wrong(self, route: Route) -> None:
        self._send(b"<html>not the file you want</html>" + bytes(len(route.body)), 200)

    def _no_range(self, route: Route) -> None:
        self._send(route.body, 200)

    def _ok(self, route: Route) -> None:
        start = self._range_start()
        if start is not None and start >= len(route.body):
            return self._status(416, **{"Content-Range": f"bytes */{len(route.body)}"})
        if start is None:
            return self._send(route.body, 200)
        rng = f"bytes {start}-{len(route.body) - 1}/{len(route.body)}"
        self._send(route.body[start:], 206, **{"Content-Range": rng})

    def _cut(self, route: Route) -> None:
        """Half of what was asked for (Range honoured), announced as all of it."""
        start = self._range_start() or 0
        rest = route.body[start:]
        headers = {"Content-Range": f"bytes {start}-{len(route.body) - 1}/{len(route.body)}"} if start else {}
        self._send(rest, 206 if start else 200, cut=len(rest) // 2, **headers)

    def _reset(self, route: Route) -> None:
        """Half the body, a moment for the client to read it, then a TCP RST."""
        self._cut(route)
        time.sleep(0.2)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _truncate(self, route: Route) -> None:
        """Content-Length of the whole body, half of it sent, then a clean close."""
        self._cut(route)
        time.sleep(0.1)
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def _range_start(self) -> int | None:
        value = self.headers.get("Range")
        if not value:
            return None
        assert value.startswith("bytes=") and value.endswith("-"), value
        return int(value[6:-1])

    def _send(self, body: bytes, code: int, cut: int | None = None, **headers: str) -> None:
        self.send_response(code)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        route = self.mirror.routes.get(self.path)
        chunk = route.chunk if route else len(body)
        end = len(body) if cut is None else cut
        try:
            for i in range(0, end, chunk):
                self.wfile.write(body[i:min(i + chunk, end)])
                with self.mirror.lock:
                    self.mirror.sent[self.path] = self.mirror.sent.get(self.path, 0) + min(chunk, end - i)
                if route and route.pause:
                    time.sleep(route.pause)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


@pytest.fixture
def mirror1() -> Iterator[MirrorServer]:
    server = MirrorServer()
    yield server
    server.close()


@pytest.fixture
def mirror2() -> Iterator[MirrorServer]:
    server = MirrorServer()
    yield server
    server.close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob(n: int, seed: int = 0) -> bytes:
    """n reproducible, incompressible-looking bytes."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest() * 64
        counter += 1
    return bytes(out[:n])


def write_package(root: Path, stage: str, name: str, sources: dict[str, dict[str, object]],
                  version: str = "1.0", deps: tuple[str, ...] = (), subpackages: tuple[str, ...] = ()) -> Path:
    """packages/<stage>/<name>/{package.toml,Containerfile}, as StageX lays them out."""
    directory = root / "packages" / stage / name
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["[package]", f'name = "{name}"', f'version = "{version}"']
    if subpackages:
        lines.append("subpackages = [" + ", ".join(f'"{s}"' for s in subpackages) + "]")
    for key, spec in sources.items():
        lines.append(f"\n[sources.{key}]")
        for field_name, value in spec.items():
            if isinstance(value, (list, tuple)):
                lines.append(f"{field_name} = [" + ", ".join(_toml_str(v) for v in value) + "]")
            else:
                lines.append(f"{field_name} = {_toml_str(str(value))}")
    (directory / "package.toml").write_text("\n".join(lines) + "\n")
    froms = "".join(f"COPY --from=stagex/{d} . /\n" for d in deps)
    (directory / "Containerfile").write_text(f"FROM scratch AS build\n{froms}FROM scratch AS package\n")
    return directory


def _toml_str(value: object) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\0", "\\u0000")
    return f'"{text}"'


def files_under(path: Path) -> dict[str, bytes]:
    """Every regular file below `path`, by relative name, with its bytes."""
    if not path.exists():
        return {}
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
