"""One session-wide set of test maintainers' keys (gpg key generation is the slow part)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gpgkeys import Keys, make_keys
from sigtree import EARLY


@pytest.fixture(scope="session")
def keys(tmp_path_factory) -> Iterator[Keys]:
    made = make_keys(tmp_path_factory.mktemp("gpg") / "home", EARLY)
    yield made
    made.close()
