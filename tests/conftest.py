"""Shared fixtures: StageX-shaped trees of our own, a loopback mirror, the real engine."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from shareddata import release_dir
from browser import browser, open_page  # noqa: F401  (one session-wide browser: a second sync Playwright in one process fails)
from treegen import FailingServer, Mirror, write_fixture_tree, write_graph_tree

SHARED_DATA = release_dir("2026.03.0")


@pytest.fixture
def mirror():
    m = Mirror()
    yield m
    m.close()


@pytest.fixture
def fixture_tree(tmp_path, mirror):
    """The standard fixture tree, its sources on the loopback mirror."""
    return write_fixture_tree(tmp_path / "stagex", mirror)


@pytest.fixture(scope="session")
def graph_data() -> dict:
    """Real StageX 2026.03.0 graph metadata (513 packages), from the project's shared data."""
    path = SHARED_DATA / "graph.json"
    assert path.is_file(), f"{path} is missing: the tests need the shared release data"
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def graph_tree(tmp_path_factory, graph_data) -> Path:
    root = tmp_path_factory.mktemp("graph") / "stagex"
    write_graph_tree(root, graph_data)
    return root


@pytest.fixture(scope="session")
def engine() -> None:
    """The real engine must be there: a missing one fails the test, never skips it."""
    info = subprocess.run(["docker", "info", "-f", "{{ .DriverStatus }}"], capture_output=True, text=True)
    assert info.returncode == 0, f"no Docker engine answers (run scripts/setup): {info.stderr.strip()}"
    assert "io.containerd.snapshotter.v1" in info.stdout, "Docker runs without the containerd image store"
    bx = subprocess.run(["docker", "buildx", "version"], capture_output=True, text=True)
    assert bx.returncode == 0, "docker buildx is missing (run scripts/setup)"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test reaching the `engine` fixture (itself or through another fixture) must carry
    @pytest.mark.engine, and one carrying the marker must reach the fixture: so that
    `-m "not engine"` runs the pure suite alone, and an engine test fails, never skips, without
    Docker. Checked before `-m` deselects anything."""
    wrong = []
    for item in items:
        uses, marked = "engine" in getattr(item, "fixturenames", ()), item.get_closest_marker("engine") is not None
        if uses != marked:
            wrong.append(f"{item.nodeid}: " + ("uses the engine fixture without @pytest.mark.engine" if uses
                                               else "@pytest.mark.engine without the engine fixture"))
    if wrong:
        raise pytest.UsageError("engine marker and fixture disagree:\n  " + "\n  ".join(wrong))


@pytest.fixture
def failing():
    """A loopback HTTP server that fails where asked and records the credentials it was sent
    (the credential tests: tests/credentials.py)."""
    server = FailingServer()
    yield server
    server.close()
