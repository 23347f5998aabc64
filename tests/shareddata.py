"""The project's shared release data (../shared/data next to the repository), found at test time.

The tests read it where it is and fail, never skip, when it is missing. A copy of the repository
elsewhere (mutation testing runs the tests from `mutants/`) finds it by walking up, or through
REBUILDX_SHARED_DATA."""

from __future__ import annotations

import os
from pathlib import Path

RELEASES = ["2024.12.0", "2025.02.0", "2025.04.0", "2025.06.0", "2025.06.1",
            "2025.08.0", "2025.10.0", "2026.01.0", "2026.03.0"]


def shared_data() -> Path:
    if os.environ.get("REBUILDX_SHARED_DATA"):
        return Path(os.environ["REBUILDX_SHARED_DATA"])
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "data").is_dir():
            return parent / "shared" / "data"
    raise AssertionError("the shared release data (../shared/data) is missing: the tests need it")


def release_dir(release: str) -> Path:
    path = shared_data() / f"stagex-{release}"
    assert path.is_dir(), f"{path} is missing: the tests need the shared release data"
    return path
