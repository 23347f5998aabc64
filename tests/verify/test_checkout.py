"""The release ref: branch release/R, else the tag R even where a branch is named like the tag."""

from __future__ import annotations

import subprocess

import pytest

from rebuildx.stagex.checkout import prepare, resolve_release
from rebuildx.errors import RebuildxError
from releasegen import git
from treegen import write_fixture_tree


@pytest.fixture
def repo(tmp_path):
    tree = write_fixture_tree(tmp_path / "up")
    git(tree.root, "init", "-q")
    git(tree.root, "add", "-A")
    git(tree.root, "commit", "-qm", "one")
    first = git(tree.root, "rev-parse", "HEAD")
    (tree.root / "NOTE").write_text("two\n")
    git(tree.root, "add", "NOTE")
    git(tree.root, "commit", "-qm", "two")
    return tree.root, first, git(tree.root, "rev-parse", "HEAD")


def test_branch_first_then_tag_even_with_a_branch_of_the_tags_name(repo):
    root, first, second = repo
    git(root, "tag", "2099.05.0", first)
    git(root, "branch", "2099.05.0", second)  # a branch named like the tag, elsewhere
    assert resolve_release(root, "2099.05.0") == ("refs/tags/2099.05.0", first)
    git(root, "branch", "release/2099.05.0", second)
    assert resolve_release(root, "2099.05.0") == ("refs/heads/release/2099.05.0", second)


def test_a_fresh_clone_is_checked_out_at_the_tag(repo, tmp_path):
    root, first, _ = repo
    git(root, "tag", "2099.06.0", first)
    checkout = prepare(tmp_path / "clone", "2099.06.0", repo=str(root))
    assert checkout.ref == "refs/tags/2099.06.0" and checkout.commit == first
    head = subprocess.run(["git", "-C", str(tmp_path / "clone"), "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    assert head == first


def test_bad_release_names(repo):
    root, _, _ = repo
    with pytest.raises(RebuildxError, match="not of the form YYYY.MM.N"):
        resolve_release(root, "latest")


def test_a_tree_that_is_no_clone_is_named_not_cloned_over(repo, tmp_path):
    """`verify --tree DIR` on a StageX tree copied without .git (or any non-empty folder): the user
    is told what DIR is and what to give, not git's "destination path already exists"."""
    root, first, _ = repo
    git(root, "tag", "2099.07.0", first)
    copied = write_fixture_tree(tmp_path / "copied").root
    with pytest.raises(RebuildxError, match=r"copied: not a git checkout, and not empty: nothing is cloned "
                                            r"into it; give --tree a git clone of StageX, or a new folder"):
        prepare(copied, "2099.07.0", repo=str(root))
    assert not (copied / ".git").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert prepare(empty, "2099.07.0", repo=str(root)).commit == first  # an empty folder is cloned into
