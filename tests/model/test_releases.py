"""Release profiles: which era a release belongs to, what each era changes, how fetch/ is linked
into the package directory, and what is refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from rebuildx.engine.buildx import buildx_argv, link_steps, stage_fetch_dir
from rebuildx.errors import TreeError
from rebuildx.oci.digest import Semantics
from rebuildx.stagex.checkout import package_revision, tree_release
from rebuildx.stagex.releases import (NEWEST, PROFILES, FetchLink, digest_semantics, profile_for,
                                      profile_warning, release_minimum)
from rebuildx.stagex.tree import load_tree
from rebuildx.workspace import Workspace
from treegen import write_fixture_tree


@pytest.mark.parametrize(("release", "first"), [
    ("2024.12.0", "2024.12.0"), ("2025.02.2", "2025.02.0"), ("2025.03.0", "2025.03.0"),
    ("2025.06.0", "2025.03.0"), ("2025.06.1", "2025.06.1"), ("2025.07.0", "2025.07.0"),
    ("2025.10.0", "2025.07.0"), ("2026.01.0", "2026.01.0"), ("2026.03.0", "2026.01.0"),
    ("2027.01.0", "2026.01.0"), (None, "2026.01.0"),
])
def test_each_release_has_its_eras_profile(release, first):
    assert profile_for(release).first == first


def test_eras_are_ordered_and_the_newest_is_last():
    assert [p.key for p in PROFILES] == sorted(p.key for p in PROFILES)
    assert NEWEST is PROFILES[-1]


def test_a_release_before_the_staged_layout_is_refused_clearly():
    with pytest.raises(TreeError, match="2024.09.0 predates 2024.12.0: its packages/<name>/ layout"):
        profile_for("2024.09.0")
    # its digests and minimums are still known (compare, doctor)
    assert digest_semantics("2024.08.1") is Semantics.INDEX
    assert release_minimum("2024.08.1") == ((26, 0, 0), (0, 13, 0))


def test_only_releases_newer_than_the_checked_ones_warn():
    assert profile_warning("2026.03.0") is None and profile_warning(None) is None
    assert "newer than 2026.03.0" in (profile_warning("2026.04.0") or "")


def test_digest_semantics_and_minimums_follow_the_profiles():
    assert digest_semantics("2025.06.0") is Semantics.INDEX
    assert digest_semantics("2025.06.1") is Semantics.MANIFEST
    assert release_minimum("2025.10.0") == ((26, 0, 0), (0, 13, 0))
    assert release_minimum("2026.01.0") == ((29, 1, 5), (0, 30, 1))


def test_a_flat_packages_tree_is_refused(tmp_path):
    (tmp_path / "packages" / "bash").mkdir(parents=True)
    (tmp_path / "packages" / "bash" / "Containerfile").write_text("FROM scratch\n")
    with pytest.raises(TreeError, match=r"packages/bash/Containerfile: a packages/<name>/ tree"):
        load_tree(tmp_path)


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                          check=True, capture_output=True, text=True).stdout.strip()


def test_revision_and_release_come_from_the_trees_git(tmp_path):
    tree = write_fixture_tree(tmp_path / "stagex")
    root = tree.root
    assert package_revision(root, "packages/core/hello") == "" and tree_release(root) is None  # no git
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "one")
    first = _git(root, "rev-parse", "HEAD")
    (root / "packages" / "core" / "hello" / "Containerfile").write_text("FROM scratch\n# changed\n")
    _git(root, "commit", "-qam", "two")
    assert package_revision(root, "packages/core/hello") == _git(root, "rev-parse", "HEAD")
    assert package_revision(root, "packages/bootstrap/seed") == first
    _git(root, "tag", "2025.06.1")
    _git(root, "branch", "release/2025.06.0")  # both at HEAD: the newer wins
    assert tree_release(root) == "2025.06.1"
    _git(root, "tag", "not-a-release")
    assert tree_release(root) == "2025.06.1"
    hello = load_tree(root).packages["core-hello"]
    argv = buildx_argv(hello, "linux/amd64", profile=profile_for("2024.12.0"),
                       revision=package_revision(root, str(hello.directory)))
    output = argv[argv.index("--output") + 1]
    assert f"annotation.org.opencontainers.image.revision={_git(root, 'rev-parse', 'HEAD')}," in output
    assert output.startswith("name=hello,")


def _fetch_with(root: Path, files: dict[str, bytes]) -> None:
    src = root / "fetch" / "core" / "hello"
    src.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (src / name).write_bytes(data)


@pytest.mark.parametrize("release", ["2024.12.0", "2025.06.1", "2026.03.0"])
def test_fetch_is_linked_into_the_package_as_the_release_does(tmp_path, release):
    tree = write_fixture_tree(tmp_path / "stagex")
    hello = load_tree(tree.root).packages["core-hello"]
    profile = profile_for(release)
    dst = tree.root / "packages" / "core" / "hello" / "fetch"
    dst.mkdir()
    (dst / "stale.tar.gz").write_bytes(b"from another release")
    (dst / "hello.tar.gz").write_bytes(b"old bytes")
    _fetch_with(tree.root, {"hello.tar.gz": b"verified", ".partial": b"x"})
    stage_fetch_dir(Workspace(tree.root), hello, profile)
    there = {p.name: p.read_bytes() for p in dst.iterdir()}
    if profile.fetch_link is FetchLink.NONE:  # 2024.12.0: untouched
        assert there == {"stale.tar.gz": b"from another release", "hello.tar.gz": b"old bytes"}
        assert link_steps(hello, profile) == []
    elif profile.fetch_link is FetchLink.MERGE:  # cp -lR into what is there: extras stay
        assert there == {"stale.tar.gz": b"from another release", "hello.tar.gz": b"verified"}
        assert (dst / "hello.tar.gz").stat().st_ino == (tree.root / "fetch/core/hello/hello.tar.gz").stat().st_ino
        assert link_steps(hello, profile)[-1] == "(cp -lR fetch/core/hello/* packages/core/hello/fetch || true)"
    else:  # rm -rf, then exactly fetch/'s visible files
        assert there == {"hello.tar.gz": b"verified"}
        assert link_steps(hello, profile)[0] == "rm -rf packages/core/hello/fetch"


def test_an_entry_built_with_any_releases_recipe_is_current_and_another_tree_is_stale(tmp_path):
    from rebuildx.build.run import BuildOptions, Builder, stale_entries
    from rebuildx.engine.buildx import BuildxEngine
    from rebuildx.state.history import History

    tree = load_tree(write_fixture_tree(tmp_path / "stagex").root)
    ws = Workspace(tree.root)
    history = History(ws)
    seed = tree.packages["bootstrap-seed"]
    for profile in (profile_for("2024.12.0"), profile_for("2025.06.1")):  # e.g. build --release 2025.06.1
        key = Builder(ws, tree, BuildxEngine(ws, profile=profile), history, "engine-x", BuildOptions()).key(seed)
        history.claim_out("bootstrap-seed", key, "sha256:" + "0" * 64)
        history.record_build("bootstrap-seed", input_key=key, ok=True, digest="sha256:" + "0" * 64, seconds=1.0,
                             engine="engine-x", log="", error=None)
        ws.out_entry("bootstrap-seed").mkdir(parents=True, exist_ok=True)
        assert stale_entries(ws, tree, None, ["bootstrap-seed"]) == []
    (tree.root / "packages" / "bootstrap" / "seed" / "Containerfile").write_text("FROM scratch\n# changed\n")
    assert stale_entries(ws, load_tree(tree.root), None, ["bootstrap-seed"]) == ["bootstrap-seed"]
