"""The same signatures read from a git ref, a git URL and a lookaside HTTP server, and hostile
sources: each gives the folder's verdicts or one clear error."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from rebuildx.trust.signatures.check import check_release
from rebuildx.trust.signatures.gpg import Keyring
from rebuildx.trust.signatures.packets import MAX_FILE
from rebuildx.trust.signatures.source import (LookasideSource, SignatureSourceError, FolderSource, GitSource,
                                              open_source)
from sigtree import RELEASE, SigTree, write_sigtree
from treegen import LoopbackServer, QuietHandler


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(root), *args], check=True,
                   capture_output=True)


@pytest.fixture(scope="module")
def sigtree(keys, tmp_path_factory) -> SigTree:
    base = tmp_path_factory.mktemp("sigsrc")
    t = write_sigtree(base / "repo", keys, base / "outside")
    git(t.root, "init", "-q", "-b", f"release/{RELEASE}")
    git(t.root, "add", "-A")
    git(t.root, "commit", "-qm", "signatures")
    return t


def verdicts(keys, sigtree: SigTree, source) -> dict[str, str]:
    trusted = {keys.fpr[p]: p for p in ("alice", "bob", "dave", "erin")}
    with Keyring([keys.keyring]) as keyring:
        report = check_release(source, sigtree.published, sorted(sigtree.published), keyring, trusted, 2, RELEASE)
    source.close()
    return {p.package: p.verdict.value for p in report.packages}


def test_git_ref_of_a_local_clone(keys, sigtree):
    source = open_source(f"git:{sigtree.root}", RELEASE)
    assert isinstance(source, GitSource)
    assert verdicts(keys, sigtree, source) == sigtree.expected


def test_git_url_cloned(keys, sigtree):
    source = open_source(f"git+file://{sigtree.root}", RELEASE)
    assert verdicts(keys, sigtree, source) == sigtree.expected


def test_git_symlink_is_refused_from_the_objects(keys, sigtree):
    source = open_source(f"git:{sigtree.root}", RELEASE)
    files = source.files("core-symlink", sigtree.published["core-symlink"])
    assert [f.problem for f in files] == [None, "a symlink"]


def test_git_without_the_release_branch(sigtree):
    with pytest.raises(SignatureSourceError, match="no ref release/1999.01.0"):
        open_source(f"git:{sigtree.root}", "1999.01.0")


def serve(files: dict[str, bytes], *, status: dict[str, int] | None = None) -> LoopbackServer:
    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802
            if status and self.path in status:
                self.reply(status[self.path], b"no")
            elif self.path in files:
                self.reply(200, files[self.path])
            else:
                self.reply(404, b"")

    server = LoopbackServer()
    server.serve(Handler)
    return server


def as_served(root: Path) -> dict[str, bytes]:
    return {"/" + str(p.relative_to(root)): p.read_bytes() for p in root.rglob("signature-*") if p.is_file()}


def test_lookaside_over_http(keys, sigtree):
    server = serve(as_served(sigtree.root))
    try:
        got = verdicts(keys, sigtree, open_source(server.url + "/", RELEASE))
    finally:
        server.close()
    # a server has no symlinks: it serves what the link pointed to (Bob's good signature)
    assert got == {**sigtree.expected, "core-symlink": "QUORUM"}


def test_lookaside_server_error_is_one_line(sigtree):
    name, digest = "core-quorum", sigtree.published["core-quorum"]
    path = f"/stagex/{name}@sha256={digest}/signature-2"
    server = serve(as_served(sigtree.root), status={path: 500})
    try:
        with pytest.raises(SignatureSourceError, match=r"signature-2: HTTP 500"):
            LookasideSource(server.url).files(name, digest)
    finally:
        server.close()


def test_lookaside_huge_answer_is_capped(sigtree):
    name, digest = "core-quorum", sigtree.published["core-quorum"]
    server = serve({f"/stagex/{name}@sha256={digest}/signature-1": b"\xa3" * (MAX_FILE + 10)})
    try:
        files = LookasideSource(server.url).files(name, digest)
    finally:
        server.close()
    assert len(files) == 1 and "cap" in (files[0].problem or "")


def test_lookaside_nobody_listening():
    with pytest.raises(SignatureSourceError, match="127.0.0.1:9/stagex/core-a@sha256="):
        LookasideSource("http://127.0.0.1:9").files("core-a", "0" * 64)


def test_folder_without_signatures(tmp_path):
    with pytest.raises(SignatureSourceError, match="holds no stagex/ folder"):
        FolderSource(tmp_path)
    with pytest.raises(SignatureSourceError, match="no such folder"):
        FolderSource(tmp_path / "nope")


@pytest.mark.parametrize("name", ["../etc", "core-a/../../x", "Core", ""])
def test_package_names_cannot_climb_out(sigtree, name):
    with pytest.raises(SignatureSourceError, match="not a package name"):
        FolderSource(sigtree.root).files(name, "0" * 64)


def test_failed_clone_leaves_nothing_behind(monkeypatch, tmp_path):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(SignatureSourceError, match="git clone failed"):
        open_source(f"git+file://{tmp_path}/nothing-here", RELEASE)
    assert list(tmp_path.iterdir()) == []


def test_lookaside_server_dribbling_bytes_is_cut(sigtree):
    import time

    class Dribble(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                self.wfile.write(b"\xa3")
                self.wfile.flush()
                time.sleep(0.05)

    server = LoopbackServer()
    server.serve(Dribble)
    try:
        with pytest.raises(SignatureSourceError, match="still sending after 1 s"):
            LookasideSource(server.url, deadline=1).files("core-a", "0" * 64)
    finally:
        server.close()


def test_signatures_folder_inside_a_stagex_tree(sigtree, tmp_path):
    """As on stagex's own release branches: the files under signatures/stagex/."""
    import shutil

    repo = tmp_path / "stagex"
    shutil.copytree(sigtree.root / "stagex", repo / "signatures" / "stagex", symlinks=True)
    git(repo, "init", "-q", "-b", f"release/{RELEASE}")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "tree")
    name, digest = "core-quorum", sigtree.published["core-quorum"]
    for source in (FolderSource(repo), open_source(f"git:{repo}", RELEASE)):
        files = source.files(name, digest)
        assert [f.label for f in files] == [f"stagex/{name}@sha256={digest}/signature-{n}" for n in (1, 2)]
        assert all(f.data for f in files)
