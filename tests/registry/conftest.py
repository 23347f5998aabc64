"""A real registry (docker-registry on 127.0.0.1) and, in front of it, a token-gated proxy that
speaks Docker Hub's anonymous bearer-token flow, with a fault mode serving wrong manifest bytes."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from regserver import LocalRegistry, file_info, layer_tar, write_layout
from treegen import LoopbackServer, QuietHandler

TOKEN = "anon-token-42"


class AuthProxy(LoopbackServer):
    """Answers 401 + `WWW-Authenticate: Bearer realm=…` without the token, hands the token out
    at /token, and forwards authorised requests to `upstream`. Records every request."""

    def __init__(self, upstream: str) -> None:
        self.upstream, self.requests, self.token_queries = upstream, [], []
        self.swap: dict[str, bytes] = {}  # URL path -> bytes served instead
        proxy = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802
                proxy.requests.append((self.path, self.headers.get("Authorization")))
                url = urlsplit(self.path)
                if url.path == "/token":
                    proxy.token_queries.append(parse_qs(url.query))
                    return self._send(200, json.dumps({"token": TOKEN}).encode(), {"Content-Type": "application/json"})
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    repo = url.path.split("/v2/", 1)[-1].rsplit("/", 2)[0]
                    challenge = (f'Bearer realm="{proxy.url}/token",service="test-registry",'
                                 f'scope="repository:{repo}:pull"')
                    return self._send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {"WWW-Authenticate": challenge})
                self._forward()

            def _forward(self) -> None:
                req = urllib.request.Request(proxy.upstream + self.path,
                                             headers={"Accept": self.headers.get("Accept", "*/*")})
                try:
                    with urllib.request.urlopen(req) as answer:
                        body, status, headers = answer.read(), answer.status, answer.headers
                except urllib.error.HTTPError as e:
                    body, status, headers = e.read(), e.code, e.headers
                body = proxy.swap.get(self.path, body)
                keep = {k: headers[k] for k in ("Content-Type", "Docker-Content-Digest") if headers.get(k)}
                self._send(status, body, keep)

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.reply(status, body, headers)

        self.serve(Handler)


@pytest.fixture
def registry():
    reg = LocalRegistry()
    yield reg
    reg.close()


@pytest.fixture
def auth_proxy(registry):
    proxy = AuthProxy(registry.url)
    yield proxy
    proxy.close()


@pytest.fixture
def small_image(tmp_path) -> tuple[Path, dict]:
    """A two-layer image in an OCI layout shaped like BuildKit's (index.json -> index -> manifest)."""
    layers = [layer_tar([file_info("etc/a", b"a\n"), file_info("etc/b", b"b" * 100_000)]),
              layer_tar([file_info("usr/bin/tool", b"#!/bin/sh\n", 0o755)])]
    layout = tmp_path / "image"
    return layout, write_layout(layout, layers)
