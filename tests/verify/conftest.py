from __future__ import annotations

import pytest

from rebuildx.engine.check import require_engine
from releasegen import init_repo, publish, release_branch
from treegen import write_fixture_tree


@pytest.fixture(scope="module")
def identity(engine) -> str:
    return require_engine().identity


@pytest.fixture
def upstream(tmp_path, mirror, identity):
    """An upstream repo with release/2099.01.0 whose published digests are the fixture's own."""
    tree = write_fixture_tree(tmp_path / "upstream", mirror)
    init_repo(tree)
    published = publish(tree, tmp_path / "published", identity)
    release_branch(tree, "2099.01.0", published / "digests")
    tree.published_out = published / "out"  # type: ignore[attr-defined]
    return tree
