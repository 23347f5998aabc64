"""The test helpers that guard other tests must themselves fail when they should."""

from __future__ import annotations

import pytest

from watching import watching


def test_a_watcher_that_dies_fails_the_test():
    def look() -> None:
        raise OSError("gone")

    with pytest.raises(AssertionError, match=r"the watcher died: OSError\('gone'\)"):
        with watching(look):
            pass


def test_a_watcher_looks_until_the_block_ends():
    seen: list[int] = []
    with watching(lambda: seen.append(1)) as watch:
        while len(seen) < 3:
            pass
    assert watch.rounds >= 3
