"""Where published digests come from, and every way a source can fail: one line naming it."""

from __future__ import annotations

import pytest

from rebuildx.compare.present import write_junit
from rebuildx.compare.published import PublishedSource, load_published
from rebuildx.compare.verdicts import compare
from rebuildx.errors import DigestError, RebuildxError
from treegen import Mirror, write_package

A, B = "a" * 64, "b" * 64


@pytest.fixture
def tree(tmp_path):
    write_package(tmp_path / "tree", "core", "x", '[package]\nname = "x"\n', "FROM scratch\n")
    return tmp_path / "tree"


@pytest.fixture
def mirror():
    m = Mirror()
    yield m
    m.close()


def test_a_directory_and_a_url(tree, tmp_path, mirror):
    (tmp_path / "pub").mkdir()
    (tmp_path / "pub/core.txt").write_text(f"{A} core-x\n")
    mirror.files["/d/core.txt"] = f"{A} core-x\n".encode()
    assert load_published(tree, [str(tmp_path / "pub"), f"{mirror.url}/d"]) == {"core-x": A}


def test_sources_that_disagree(tree, tmp_path, mirror):
    (tmp_path / "pub").mkdir()
    (tmp_path / "pub/core.txt").write_text(f"{A} core-x\n")
    mirror.files["/d/core.txt"] = f"{B} core-x\n".encode()
    with pytest.raises(DigestError, match=r"disagree on 1 packages: core-x"):
        load_published(tree, [str(tmp_path / "pub"), f"{mirror.url}/d"])


def test_an_empty_source(tree, tmp_path, mirror):
    (tmp_path / "pub").mkdir()
    with pytest.raises(DigestError, match=r"pub: no published digests found \(looked for digests/<stage>.txt for "
                                          r"bootstrap, core, pallet, user\)"):
        load_published(tree, [str(tmp_path / "pub")])
    with pytest.raises(DigestError, match=r"/d: no published digests found"):
        load_published(tree, [f"{mirror.url}/d"])  # 404 for every stage


def test_a_server_error_and_no_server(tree, mirror):
    mirror.close()
    with pytest.raises(DigestError, match=rf"{mirror.url}/d/bootstrap.txt: .*[Cc]onnect"):
        PublishedSource(f"{mirror.url}/d").load(tree)


def test_a_server_answering_500(tree):
    from treegen import LoopbackServer, QuietHandler

    class Broken(LoopbackServer):
        def __init__(self) -> None:
            class Handler(QuietHandler):
                def do_GET(self) -> None:  # noqa: N802
                    self.reply(500, b"oops")

            self.serve(Handler)

    server = Broken()
    try:
        with pytest.raises(DigestError, match=rf"{server.url}/d/bootstrap.txt: HTTP 500$"):
            PublishedSource(f"{server.url}/d").load(tree)
    finally:
        server.close()


def test_spec_errors(tree):
    with pytest.raises(DigestError, match=r"--published: give one or two sources"):
        load_published(tree, ["a", "b", "c"])
    with pytest.raises(DigestError, match=r"--published forge needs --release YYYY.MM.N"):
        load_published(tree, ["forge"])
    with pytest.raises(DigestError, match=r"--published release/9999.01.0: no such directory, URL or git ref of "):
        load_published(tree, ["release/9999.01.0"])


def test_a_junit_report_that_cannot_be_written(tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(RebuildxError, match=r"taken: cannot write the JUnit report: Is a directory"):
        write_junit(compare(["core-x"], {"core-x": A}, {"core-x": A}), tmp_path / "taken")
