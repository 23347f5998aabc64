"""A real headless browser, for the HTML report: Debian's chromium, driven by Playwright (the
system browser, never a downloaded one). A missing browser fails the tests, never skips them.
A test module uses the fixtures with `from browser import browser, open_page`."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass
class Opened:
    """A page in the browser and what it did: console errors, uncaught exceptions, requests."""
    page: object
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    path = shutil.which("chromium") or CHROMIUM
    assert Path(path).is_file(), "Debian's chromium is missing: apt-get install chromium (scripts/setup does)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=FLAGS)  # a fresh profile of its own
        yield b
        b.close()


@pytest.fixture
def open_page(browser) -> Iterator:
    pages: list = []

    def open_(html: Path, width: int = 1280) -> Opened:
        page = browser.new_page(viewport={"width": width, "height": 900})
        pages.append(page)
        opened = Opened(page)
        page.on("console", lambda m: m.type in ("error", "warning") and opened.errors.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: opened.errors.append(f"uncaught: {e}"))
        page.on("request", lambda r: r.url.startswith("file:") or opened.requests.append(r.url))
        page.goto(html.resolve().as_uri())
        return opened

    yield open_
    for page in pages:
        page.close()
