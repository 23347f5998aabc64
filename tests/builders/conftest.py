"""Two extra Docker daemons of the tests' own (own containerd, data-root, exec-root, socket and
network namespace), started once for the session and stopped at its end."""

from __future__ import annotations

import pytest

from daemons import Daemons


@pytest.fixture(scope="session")
def daemons(engine):
    ds = Daemons(2)
    yield ds.daemons
    ds.close()
