"""Issue 12 as a careless or hostile user tries it: every bad input is one RebuildxError (one
line from the CLI), and nothing is left half-written."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from rebuildx import api
from rebuildx.errors import RebuildxError


@pytest.mark.parametrize("name", ["", "k" * 253])  # no file name at all; a .pub name over NAME_MAX
def test_keygen_into_an_unusable_name_is_one_error_and_leaves_nothing(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RebuildxError):
        api.attest_keygen(Path(name))
    assert list(tmp_path.iterdir()) == []  # no private key left without its .pub


def rebuildx(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The CLI, its memory capped (a reader that never stops must not eat the shared machine)."""
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, preexec_fn=cap)


@pytest.mark.parametrize("option", ["--attest-key", "--trust"])
def test_a_key_file_that_never_ends_is_refused_before_anything(tmp_path, option):
    if option == "--attest-key":
        done = rebuildx("verify", "--release", "2099.01.0", "--tree", "none", option, "/dev/zero", cwd=tmp_path)
    else:
        done = rebuildx("attest", "check", "--release", "2099.01.0", "--published", ".", "--from", ".",
                        "--threshold", "1", option, "/dev/zero", cwd=tmp_path)
    assert done.returncode == 1 and "/dev/zero: " in done.stderr and "larger than" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "none").exists()


@pytest.mark.parametrize("threshold", [0, -1])
def test_a_threshold_below_one_is_refused_not_agreed_by_nobody(tmp_path, threshold):
    api.attest_keygen(tmp_path / "k")
    (tmp_path / "digests").mkdir()
    (tmp_path / "digests" / "core.txt").write_text(f"{'a' * 64} core-x\n")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RebuildxError, match=f"--threshold {threshold}"):
        api.attest_check(tmp_path, "2099.01.0", [], [str(tmp_path / "empty")], [tmp_path / "k.pub"], threshold,
                         [str(tmp_path / "digests")])


def test_a_trust_file_with_two_keys_is_refused_not_read_as_its_first(tmp_path):
    for name in ("alice", "bob"):
        api.attest_keygen(tmp_path / name)
    both = tmp_path / "both.pub"
    both.write_bytes((tmp_path / "alice.pub").read_bytes() + (tmp_path / "bob.pub").read_bytes())
    with pytest.raises(RebuildxError, match="both.pub: holds 2 PEM blocks; give one key per --trust file"):
        api.attest_check(tmp_path, "2099.01.0", [], [str(tmp_path)], [both], 2, [str(tmp_path)])


def test_publish_into_a_tree_whose_index_cannot_be_replaced_is_one_error(tmp_path):
    from attestkit import facts, key, matching, put, signed_lines

    signer, _ = key(tmp_path, "k")
    put(tmp_path / "local", signed_lines(matching(["core-x"]), facts(), signer))
    (tmp_path / "pub" / "index.json").mkdir(parents=True)  # a hand-made tree, or a hostile one
    with pytest.raises(RebuildxError, match="index.json: cannot write the index: Is a directory"):
        api.attest_publish(tmp_path / "local", tmp_path / "pub")


def test_a_private_key_others_can_read_is_refused_before_the_run(tmp_path):
    api.attest_keygen(tmp_path / "k")
    (tmp_path / "k").chmod(0o644)
    done = rebuildx("verify", "--release", "2099.01.0", "--tree", "none", "--attest-key", "k", cwd=tmp_path)
    assert done.returncode == 1 and "k: a private key others can read (mode 0644); chmod 600 k" in done.stderr, \
        done.stderr
    assert not (tmp_path / "none").exists()
    (tmp_path / "k").chmod(0o600)
    assert api.attest_signer(tmp_path / "k").public_key.keyid


def test_a_server_dribbling_bytes_is_not_waited_for_again_for_every_package(tmp_path):
    import time

    from rebuildx.trust.attest.sources import Source, SourceError
    from treegen import LoopbackServer, QuietHandler

    asked = []

    class Dribble(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.05)

    server = LoopbackServer()
    server.serve(Dribble)
    source = Source(server.url, max_seconds=0.5)
    try:
        errors = []
        for package in ("core-x", "core-y", "core-z"):
            with pytest.raises(SourceError) as e:
                source.read("2099.01.0", package, "a" * 64)
            errors.append(str(e.value))
    finally:
        source.close()
        server.close()
    assert "not sent whole within 0.5 s" in errors[0]
    assert all("not tried" in e for e in errors[1:]) and len(asked) == 1, errors


@pytest.mark.parametrize("url", ["http://[::1", "http://", "https:///x", "http://127.0.0.1:1/\n"])
def test_a_from_url_that_is_no_url_is_one_error(tmp_path, url):
    api.attest_keygen(tmp_path / "k")
    (tmp_path / "digests").mkdir()
    (tmp_path / "digests" / "core.txt").write_text(f"{'a' * 64} core-x\n")
    with pytest.raises(RebuildxError, match="--from .*: not a usable URL"):
        api.attest_check(tmp_path, "2099.01.0", [], [url], [tmp_path / "k.pub"], 1, [str(tmp_path / "digests")])


def test_a_host_name_no_resolver_takes_is_unreadable_as_any_unreachable_server(tmp_path):
    from rebuildx.trust.attest.sources import Source, SourceError

    source = Source(f"http://{'a' * 300}/")
    with pytest.raises(SourceError, match="unreachable|UnicodeError"):
        source.read("2099.01.0", "core-x", "a" * 64)
    with pytest.raises(SourceError, match="not tried"):
        source.read("2099.01.0", "core-y", "a" * 64)


def test_a_fifo_in_a_from_tree_is_unreadable_not_waited_on(tmp_path):
    import os
    import threading

    from rebuildx.trust.attest.sources import Source, SourceError
    from rebuildx.trust.attest.store import relative_path

    path = tmp_path / relative_path("2099.01.0", "core-x", "a" * 64)
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    outcome: list[object] = []

    def read() -> None:
        try:
            outcome.append(Source(str(tmp_path)).read("2099.01.0", "core-x", "a" * 64))
        except SourceError as e:
            outcome.append(e)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():  # let the blocked reader go
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    assert outcome and isinstance(outcome[0], SourceError) and "not a regular file" in str(outcome[0]), outcome


def test_a_publish_cut_short_by_the_disk_leaves_no_torn_line(tmp_path):
    """A write that stops part way (a full disk; here a file size limit) takes its partial line
    back, so the next publish is not refused for a cut last line."""
    from attestkit import facts, key, matching, put, signed_lines

    signer, _ = key(tmp_path, "k")
    put(tmp_path / "local", signed_lines(matching(["core-x"]), facts(), signer))
    line = next((tmp_path / "local").glob("*/*.intoto.jsonl")).read_bytes()
    code = ("import resource, sys; from pathlib import Path; from rebuildx import api; from rebuildx.errors import "
            f"RebuildxError; resource.setrlimit(resource.RLIMIT_FSIZE, ({len(line) // 2}, {len(line) // 2}))\n"
            "try:\n api.attest_publish(Path(sys.argv[1]), Path(sys.argv[2]))\n"
            "except RebuildxError as e:\n print(e); sys.exit(1)")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "local"), str(tmp_path / "pub")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "cannot append: File too large" in done.stdout, done.stdout + done.stderr
    published = next((tmp_path / "pub").glob("*/*.intoto.jsonl"))
    assert published.read_bytes() == b""
    assert api.attest_publish(tmp_path / "local", tmp_path / "pub").appended == 1
    assert published.read_bytes() == line


def test_what_a_stranger_writes_in_an_envelope_cannot_forge_lines_of_the_report(tmp_path):
    """Key ids come from the envelope: a newline in one must not print a line of its own
    (`AGREED core-…`), nor an escape sequence reach the terminal."""
    import base64
    import json

    from attestkit import NOW
    from rebuildx.trust.attest.check import check_release
    from rebuildx.trust.attest.keys import load_trusted
    from rebuildx.trust.attest.sources import Source
    from rebuildx.trust.attest.store import relative_path

    api.attest_keygen(tmp_path / "k")
    hostile = {"payload": base64.b64encode(b"{}").decode(), "payloadType": "application/vnd.in-toto+json",
               "signatures": [{"keyid": "x\nAGREED    core-fake", "sig": "0000"},
                              {"keyid": "\x1b[2J\x1b[32m", "sig": "0000"}, *[{"keyid": f"{i:064x}", "sig": "0000"}
                                                                          for i in range(5000)]]}
    path = tmp_path / "tree" / relative_path("2099.01.0", "core-x", "a" * 64)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(hostile) + "\n")
    result = check_release("2099.01.0", {"core-x": "a" * 64}, ["core-x"], [Source(str(tmp_path / "tree"))],
                           load_trusted([tmp_path / "k.pub"]), 1, NOW)
    [why] = result.packages[0].rejected
    assert "signed by no trusted key" in why and why.isprintable() and len(why) < 1000, why


def test_an_armored_block_gpg_cannot_import_is_one_line(tmp_path):
    from rebuildx.trust.attest.keys import load_public

    bad = tmp_path / "bad.asc"
    bad.write_bytes(b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----\n")
    with pytest.raises(RebuildxError, match="bad.asc: gpg cannot import it") as e:
        load_public(bad)
    assert "\n" not in str(e.value), str(e.value)


def test_a_path_with_a_nul_byte_is_one_error_from_every_attest_function(tmp_path, monkeypatch):
    """The CLI cannot pass one (argv has no NUL), a program calling the api can."""
    from attestkit import facts, key, matching, put, signed_lines

    monkeypatch.chdir(tmp_path)
    signer, pub = key(tmp_path, "k")
    put(tmp_path / "local", signed_lines(matching(["core-x"]), facts(), signer))
    (tmp_path / "digests").mkdir()
    (tmp_path / "digests" / "core.txt").write_text(f"{'a' * 64} core-x\n")
    nul = Path("a\0b")
    calls = [lambda: api.attest_keygen(nul), lambda: api.attest_signer(nul),
             lambda: api.attest_publish(tmp_path / "local", nul),
             lambda: api.attest_check(tmp_path, "2099.01.0", [], [str(tmp_path)], [nul], 1, ["digests"])]
    for call in calls:
        with pytest.raises(RebuildxError, match="null byte"):
            call()


def test_check_without_a_source_or_with_a_threshold_not_a_number_is_one_error(tmp_path):
    api.attest_keygen(tmp_path / "k")
    (tmp_path / "digests").mkdir()
    (tmp_path / "digests" / "core.txt").write_text(f"{'a' * 64} core-x\n")
    for sources, threshold, message in (([], 1, "at least one --from"), ([str(tmp_path)], "1", "--threshold '1'"),
                                        ([str(tmp_path)], 1.5, "--threshold 1.5")):
        with pytest.raises(RebuildxError, match=message):
            api.attest_check(tmp_path, "2099.01.0", [], sources, [tmp_path / "k.pub"], threshold,  # type: ignore[arg-type]
                             [str(tmp_path / "digests")])


@pytest.mark.parametrize("to", ["http://example.org/att", "https://example.org/att", "s3://bucket/att"])
def test_publish_to_a_url_is_refused_not_made_a_local_folder(tmp_path, monkeypatch, to):
    from attestkit import facts, key, matching, put, signed_lines

    monkeypatch.chdir(tmp_path)
    signer, _ = key(tmp_path, "k")
    put(tmp_path / "local", signed_lines(matching(["core-x"]), facts(), signer))
    with pytest.raises(RebuildxError, match="--to .*: a URL; publish into a directory"):
        api.attest_publish(tmp_path / "local", Path(to))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k", "k.pub", "local"]


def test_publish_into_a_tree_with_a_cut_file_writes_nothing_at_all(tmp_path):
    """One cut file refuses the publish before any other file is appended to: not half a publish
    with a stale index."""
    from attestkit import facts, key, matching, put, signed_lines

    signer, _ = key(tmp_path, "k")
    put(tmp_path / "local", signed_lines(matching(["core-x", "core-y"]), facts(), signer))
    cut = tmp_path / "pub" / next((tmp_path / "local").glob("*/core-y@*")).relative_to(tmp_path / "local")
    cut.parent.mkdir(parents=True)
    cut.write_bytes(b'{"payload": "abc')  # a crash, or a hand edit
    with pytest.raises(RebuildxError, match="core-y@.*last line is cut"):
        api.attest_publish(tmp_path / "local", tmp_path / "pub")
    assert sorted(p.name for p in cut.parent.iterdir()) == [cut.name]
    assert not (tmp_path / "pub" / "index.json").exists()


def test_a_file_of_junk_lines_is_judged_in_bounded_time_and_memory(tmp_path):
    """32 MiB of one-byte lines was millions of listed reasons (gigabytes, many minutes)."""
    import time

    from attestkit import NOW
    from rebuildx.trust.attest.check import MAX_REASONS, check_release
    from rebuildx.trust.attest.keys import load_trusted
    from rebuildx.trust.attest.sources import Source
    from rebuildx.trust.attest.store import relative_path

    api.attest_keygen(tmp_path / "k")
    path = tmp_path / "tree" / relative_path("2099.01.0", "core-x", "a" * 64)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x\n" * 1_000_000 + b"y" * 300 + b"\n" * 1 + (b"z" * 300 + b"\n") * 100)
    started = time.monotonic()
    result = check_release("2099.01.0", {"core-x": "a" * 64}, ["core-x"], [Source(str(tmp_path / "tree"))],
                           load_trusted([tmp_path / "k.pub"]), 1, NOW)
    rejected = result.packages[0].rejected
    assert len(rejected) == MAX_REASONS + 2, rejected[-3:]
    assert "1000000 lines too short to be an envelope" in rejected[-2] and "and 81 more lines rejected" in rejected[-1]
    assert time.monotonic() - started < 60
