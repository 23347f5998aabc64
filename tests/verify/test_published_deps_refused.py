"""--deps published refuses, before any build, what it cannot stand on: a release of index
digests, a dep the release does not publish, an image that is not the published one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from regserver import file_info, layer_tar, write_layout
from rebuildx.errors import RebuildxError
from rebuildx.stagex.checkout import Checkout
from rebuildx.verify.deps import from_layout_dir
from rebuildx.verify.run import VerifyOptions, verify_published_deps
from treegen import write_package


@pytest.fixture
def tree(tmp_path) -> Path:
    write_package(tmp_path / "t", "core", "b", '[package]\nname = "b"\n', "FROM scratch\n")
    write_package(tmp_path / "t", "core", "a", '[package]\nname = "a"\n', "FROM stagex/core-b AS build\n")
    return tmp_path / "t"


def refuse(tree: Path, release: str, published: dict[str, str], obtain=None) -> str:
    def no_obtain(name: str, digest: str, dest: Path) -> None:
        raise AssertionError("nothing may be fetched")

    with pytest.raises(RebuildxError) as info:
        verify_published_deps(Checkout(tree, release, "refs/heads/x", "0" * 40), published,
                              VerifyOptions(selection=("core-a",)), None, "id", obtain or no_obtain)  # type: ignore[arg-type]
    assert not (tree / "out").exists() or not any((tree / "out").iterdir())
    return str(info.value)


def test_a_release_of_index_digests(tree):
    assert refuse(tree, "2025.06.0", {"core-b": "b" * 64}) == (
        "--deps published needs manifest digests (releases from 2025.06.1 on); 2025.06.0 publishes index digests")


def test_a_dep_the_release_does_not_publish(tree):
    assert refuse(tree, "2026.03.0", {"core-a": "a" * 64}) == (
        "--deps published: no published digest for core-b in release 2026.03.0; verify them in closure mode instead")


def test_an_image_that_is_not_the_published_one(tree, tmp_path):
    digests = write_layout(tmp_path / "images/core-b", [layer_tar([file_info("etc/b", b"b\n")])])
    other = "c" * 64

    def obtain(name: str, digest: str, dest: Path) -> None:  # a mirror handing out another image
        shutil.copytree(tmp_path / "images/core-b", dest)

    message = refuse(tree, "2026.03.0", {"core-b": other}, obtain)
    assert message == f"the published image of core-b has manifest {digests['manifest']}, not the published sha256:{other}"


def test_a_layout_directory_without_the_blob(tree, tmp_path):
    (tmp_path / "empty").mkdir()
    message = refuse(tree, "2026.03.0", {"core-b": "d" * 64}, from_layout_dir(tmp_path / "empty"))
    assert message == f"{tmp_path / 'empty'}: no blob sha256:{'d' * 64} for core-b (looked in core-b/ and the top layout)"


def test_a_report_path_that_cannot_be_written(tmp_path):
    from rebuildx.compare.verdicts import compare
    from rebuildx.verify.report import write_report
    from rebuildx.verify.run import VerifyResult

    (tmp_path / "file").write_text("")
    result = VerifyResult(Checkout(tmp_path, "2026.03.0", "refs/heads/x", "0" * 40), compare([], {}, {}))
    with pytest.raises(RebuildxError, match=r"file/r.json: cannot write the report: "):
        write_report(result, tmp_path / "file" / "r.json")
    assert write_report(result, tmp_path / "ok" / "r.json") == tmp_path / "ok/r.json"
