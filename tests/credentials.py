"""What the credential tests share: a secret put in URLs, and where it must never appear
(tests/hardening/test_credentials.py, tests/verify/test_verify_credentials.py); the failing
server they put it in is conftest's `failing`."""

from __future__ import annotations

from pathlib import Path

from treegen import FailingServer

SECRET = "s3cr3t-Pa55"


def url(server: FailingServer, user: str, path: str = "") -> str:
    return server.url_with(user, SECRET, path)


def nowhere(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text, text


def files_under(root: Path) -> dict[Path, str]:
    return {p: p.read_text(errors="replace") for p in root.rglob("*") if p.is_file()}  # the state DB too
