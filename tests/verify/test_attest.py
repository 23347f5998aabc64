"""Three rebuilders sign their verify runs of one fixture release; one was given a tampered
tree. `attest check --threshold 2` over a loopback HTTP server: AGREED for the packages the
tampered tree left alone, DISPUTED for the tampered one and its dependents. Real engine, real git,
real HTTP; the three runs build the same fixture (BuildKit's cache is not used: verify builds cold)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest
from google.protobuf import json_format
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement

from releasegen import git
from treegen import LoopbackServer, QuietHandler, sha256, tarball

RELEASE = "2099.01.0"
TAMPERED = {"core-hello", "core-pair", "pallet-hello-kit"}  # hello, and what is built from it


def rebuildx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True, timeout=900)


class TreeServer(LoopbackServer):
    """A static HTTP server for a published attestation tree."""

    def __init__(self, root):
        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = root / self.path.lstrip("/")
                self.reply(200, path.read_bytes()) if path.is_file() else self.reply(404, b"")

        self.serve(Handler)


def tampered_upstream(upstream, tmp_path):
    """A clone of the upstream whose release branch builds another hello source (its published
    digests unchanged), and the directory holding that source."""
    evil = tmp_path / "evil"
    subprocess.run(["git", "clone", "-q", str(upstream.root), str(evil)], check=True)
    data = tarball("hello-1.2.3", {"hello.sh": "#!/bin/sh\necho tampered\n"})
    old = sha256(upstream.fetch_files["fetch/core/hello/hello-1.2.3.tar.gz"])
    git(evil, "checkout", "-q", "-b", f"release/{RELEASE}", f"origin/release/{RELEASE}")
    toml = evil / "packages/core/hello/package.toml"
    toml.write_text(toml.read_text().replace(old, sha256(data)))
    git(evil, "commit", "-qam", "tamper with hello")
    git(evil, "checkout", "-q", "main")
    sources = tmp_path / "evil-sources"
    sources.mkdir()
    (sources / "hello-1.2.3.tar.gz").write_bytes(data)
    return evil, sources


@pytest.mark.engine
def test_three_rebuilders_two_honest_one_tampered(engine, upstream, tmp_path):
    keys = []
    for i in range(3):
        done = rebuildx("attest", "keygen", str(tmp_path / f"key{i}"))
        assert done.returncode == 0, done.stderr
        keys.append(tmp_path / f"key{i}")
    published = tmp_path / "published"
    evil, evil_sources = tampered_upstream(upstream, tmp_path)
    runs = [(upstream.root, ()), (upstream.root, ()), (evil, ("--sources", str(evil_sources), "--no-explain"))]
    for i, (repo, extra) in enumerate(runs):
        tree = tmp_path / f"rebuilder{i}"
        done = rebuildx("verify", "--release", RELEASE, "--repo", str(repo), "--tree", str(tree), "-j", "2",
                        "--attest-key", str(keys[i]), *extra)
        assert done.returncode == (3 if i == 2 else 0), done.stderr[-3000:]
        assert "attested 6 verdicts" in done.stdout
        done = rebuildx("attest", "publish", "--tree", str(tree), "--to", str(published))
        assert done.returncode == 0, done.stderr
    statements = [json.loads(base64.b64decode(json.loads(line)["payload"]))
                  for f in (tmp_path / "rebuilder2/.rebuildx/attestations").rglob("*.intoto.jsonl")
                  for line in f.read_bytes().splitlines()]
    assert len(statements) == 6
    for statement in statements:  # what verify signed is valid by in-toto's own library
        Statement.copy_from_pb(json_format.ParseDict(statement, statement_pb2.Statement())).validate()
        rebuild = statement["predicate"]["rebuild"]
        assert rebuild["verdict"] == ("MISMATCH" if rebuild["package"] in TAMPERED else "MATCH")
        assert rebuild["release"] == RELEASE and rebuild["deps"] == "built" and rebuild["engine"]["version"]
    server = TreeServer(published)
    try:
        trust = [a for k in keys for a in ("--trust", f"{k}.pub")]
        check = ("attest", "check", "--release", RELEASE, "--tree", str(tmp_path / "rebuilder0"),
                 "--from", server.url, *trust, "--threshold", "2")
        done = rebuildx(*check, "--json")
        assert done.returncode == 3, done.stderr
        doc = json.loads(done.stdout)
        verdicts = {v["package"]: v["verdict"] for v in doc["verdicts"]}
        assert verdicts == {n: "DISPUTED" if n in TAMPERED else "AGREED" for n in verdicts} and len(verdicts) == 6
        for v in doc["verdicts"]:
            assert not v["rejected"] and not v["unreadable"]
            if v["package"] in TAMPERED:
                assert len(v["mismatched_by"]) == 1 and len(v["matched_by"]) == 2
            else:
                assert len(v["matched_by"]) == 3
        # a selection: core-hello and its closure
        done = rebuildx(*check, "core-hello", "--json")
        assert {v["package"]: v["verdict"] for v in json.loads(done.stdout)["verdicts"]} == {
            "bootstrap-seed": "AGREED", "core-hello": "DISPUTED"}
        # without the tampered rebuilder's key, the two honest ones agree on everything
        done = rebuildx("attest", "check", "--release", RELEASE, "--tree", str(tmp_path / "rebuilder0"),
                        "--from", server.url, "--trust", f"{keys[0]}.pub", "--trust", f"{keys[1]}.pub",
                        "--threshold", "2")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "6 agreed" in done.stdout
        # a threshold of 3 with the same two keys given twice cannot be met: one clear line
        done = rebuildx("attest", "check", "--release", RELEASE, "--tree", str(tmp_path / "rebuilder0"),
                        "--from", server.url, "--trust", f"{keys[0]}.pub", "--trust", f"{keys[0]}.pub",
                        "--threshold", "2")
        assert done.returncode == 1 and "1 distinct trusted key" in done.stderr and "Traceback" not in done.stderr
    finally:
        server.close()
    # publishing again appends nothing; the published files are untouched
    before = {p: p.read_bytes() for p in published.rglob("*.jsonl")}
    done = rebuildx("attest", "publish", "--tree", str(tmp_path / "rebuilder0"), "--to", str(published))
    assert done.returncode == 0 and "published 0 new envelopes" in done.stdout
    assert {p: p.read_bytes() for p in published.rglob("*.jsonl")} == before
