"""Credentials a user puts in a URL (`https://user:secret@host/…`) are used, and never echoed: not
on stdout or stderr, not in a JSON report, the HTML page or the support bundle. Each test makes a
real loopback server fail so that the URL lands in a message, and checks the server did receive
the credentials (redaction must not break the request)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from attestkit import RELEASE, A, B
from credentials import SECRET, files_under, nowhere, url
from treegen import write_fixture_tree

from rebuildx.errors import RegistryError


def rebuildx(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


@pytest.mark.parametrize("given, shown", [
    ("https://user:secret@host/x", "https://user:***@host/x"),
    ("https://user:p@ss@host:80/a@b?x=1", "https://user:***@host:80/a@b?x=1"),  # an unescaped @ in it
    ("--from http://u:pw@h/a, then https://v:qq@k/", "--from http://u:***@h/a, then https://v:***@k/"),
    ("git+https://u:pw@forge/r.git", "git+https://u:***@forge/r.git"),
    ("https://ghp_token123@github.com/x", "https://***@github.com/x"),  # a user name alone: a token
    ("user:pw@127.0.0.1:5000/stagex/core-x@sha256:00", "user:***@127.0.0.1:5000/stagex/core-x@sha256:00"),
    ("image reference 'user:pw@reg.io/stagex': bad", "image reference 'user:***@reg.io/stagex': bad"),
    ('{"source": "https://u:pw@h/x", "n": "a:b@c"}', '{"source": "https://u:***@h/x", "n": "a:b@c"}'),
    # nothing to hide: left as it is
    ("ssh://builder@farm", "ssh://builder@farm"), ("core-x:1.0@sha256:0123", "core-x:1.0@sha256:0123"),
    ("stagex/core-x:1@sha256:ab", "stagex/core-x:1@sha256:ab"), ("https://host/a@b", "https://host/a@b"),
    ("maintainer@example.org", "maintainer@example.org"), ("https://user:***@host", "https://user:***@host"),
])
def test_redact(given, shown):
    from rebuildx.net import redact

    assert redact(given) == shown
    assert redact(shown) == shown  # idempotent: a message redacted twice is the same


def test_attest_check_from_and_published(tmp_path, failing):
    """--from's tree fails (HTTP 500) and the reason is printed and in --json; --published's
    digests are read with their credentials."""
    failing.files["/digests/core.txt"] = f"{A} core-x\n{B} core-y\n".encode()
    failing.absent = ("/digests/",)  # the other stages' files
    assert rebuildx("attest", "keygen", "k", cwd=tmp_path).returncode == 0
    args = ("attest", "check", "--release", RELEASE, "--from", url(failing, "rebuilder", "/att"),
            "--published", url(failing, "reader", "/digests"), "--trust", "k.pub", "--threshold", "1")
    for extra in ((), ("--json",)):
        done = rebuildx(*args, *extra, cwd=tmp_path)
        assert done.returncode == 6, (done.returncode, done.stderr)  # NONE everywhere: nothing attested
        nowhere(done.stdout, done.stderr)
        assert f"http://rebuilder:***@{failing.host}/att/{RELEASE}/core-x@sha256=" in done.stdout, done.stdout
    doc = json.loads(done.stdout)
    assert "HTTP 500" in doc["verdicts"][0]["unreadable"][0]
    assert f"rebuilder:{SECRET}" in failing.users and f"reader:{SECRET}" in failing.users


def test_attest_check_published_that_fails(tmp_path, failing):
    assert rebuildx("attest", "keygen", "k", cwd=tmp_path).returncode == 0
    done = rebuildx("attest", "check", "--release", RELEASE, "--from", ".", "--published",
                    url(failing, "reader", "/digests"), "--trust", "k.pub", "--threshold", "1", cwd=tmp_path)
    assert done.returncode == 1
    nowhere(done.stdout, done.stderr)
    assert f"http://reader:***@{failing.host}/digests/bootstrap.txt: HTTP 500" in done.stderr, done.stderr


def test_compare_published_that_fails(fixture_tree, failing):
    done = rebuildx("compare", "--tree", str(fixture_tree.root), "--published", url(failing, "u", "/d/"))
    assert done.returncode == 1
    nowhere(done.stdout, done.stderr)
    assert f"http://u:***@{failing.host}/d/bootstrap.txt: HTTP 500" in done.stderr, done.stderr
    assert f"u:{SECRET}" in failing.users


def test_fetch_mirror_that_fails(tmp_path, failing):
    tree = write_fixture_tree(tmp_path / "stagex")  # its own mirror is a closed port
    done = rebuildx("fetch", "core-hello", "--tree", str(tree.root), "--mirror", url(failing, "m", "/flat"))
    assert done.returncode == 1
    nowhere(done.stdout, done.stderr, *files_under(tree.root / ".rebuildx").values())
    assert f"http://m:***@{failing.host}/flat/hello-1.2.3.tar.gz: HTTP 500" in done.stderr, done.stderr
    assert f"m:{SECRET}" in failing.users


@pytest.mark.parametrize("prefix", [f"user:{SECRET}@127.0.0.1:9/stagex", f"https://user:{SECRET}@127.0.0.1:9/stagex"])
def test_a_registry_prefix_with_credentials(tmp_path, prefix):
    """`--deps-from` / `--explain-from`: an image reference holds no credentials; one written with
    them is refused without echoing them."""
    from rebuildx.verify.deps import from_registry

    with pytest.raises(RegistryError) as caught:
        from_registry(prefix)("core-x", "0" * 64, tmp_path / "x")
    nowhere(str(caught.value))
    assert "user:***@127.0.0.1:9/stagex/core-x" in str(caught.value)


@pytest.mark.engine
def test_verify_repo_that_fails(engine, tmp_path, failing):
    """`verify --repo URL`: the clone fails (HTTP 500) and git's words reach the error line."""
    failing.challenge = True
    done = rebuildx("verify", "--release", "2026.03.0", "--tree", str(tmp_path / "stagex"),
                    "--repo", url(failing, "g", "/stagex.git"))
    assert done.returncode == 1 and "git clone" in done.stderr, done.stderr
    nowhere(done.stdout, done.stderr)
    assert f"g:{SECRET}" in failing.users  # git sent them
