"""`rebuildx attest …` as a user runs it: exit codes, JSON, one clear line for each mistake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from datetime import UTC, datetime, timedelta

from attestkit import RELEASE, A, B, facts, matching, put, signed_lines
from rebuildx import api
from rebuildx.compare.verdicts import compare
from rebuildx.errors import RebuildxError
from rebuildx.stagex.checkout import Checkout
from rebuildx.trust.attest.keys import load_signer


def rebuildx(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


@pytest.fixture
def published(tmp_path) -> Path:
    """A folder of published digests (as `compare --published DIR` reads them)."""
    d = tmp_path / "digests"
    d.mkdir()
    (d / "core.txt").write_text(f"{A} core-x\n{B} core-y\n")
    return d


def test_keygen_publish_check(tmp_path, published):
    keys = []
    for name in ("alice", "bob"):
        done = rebuildx("attest", "keygen", str(tmp_path / name))
        assert done.returncode == 0 and "key id" in done.stdout, done.stderr
        keys.append(load_signer(tmp_path / name))
    local = tmp_path / "stagex/.rebuildx/attestations"
    run = facts(finished=datetime.now(UTC) - timedelta(hours=1))  # the CLI checks against the real clock
    put(local, signed_lines(matching(["core-x"]), run, keys[0]))
    put(local, signed_lines(compare(["core-y"], {"core-y": A}, {"core-y": B}), run, keys[0]))
    done = rebuildx("attest", "publish", "--tree", str(tmp_path / "stagex"), "--to", str(tmp_path / "pub"))
    assert done.returncode == 0 and "published 2 new envelopes from 2 files" in done.stdout, done.stderr
    check = ("attest", "check", "--release", RELEASE, "--published", str(published), "--from", str(tmp_path / "pub"),
             "--trust", str(tmp_path / "alice.pub"), "--trust", str(tmp_path / "bob.pub"))
    done = rebuildx(*check, "--threshold", "1", "--json")
    assert done.returncode == 3, done.stderr
    doc = json.loads(done.stdout)
    assert {v["package"]: v["verdict"] for v in doc["verdicts"]} == {"core-x": "AGREED", "core-y": "DISPUTED"}
    assert doc["summary"] == {"AGREED": 1, "SHORT": 0, "DISPUTED": 1, "NONE": 0, "total": 2}
    done = rebuildx(*check, "--threshold", "2")
    assert done.returncode == 3 and "SHORT" in done.stdout and "DISPUTED" in done.stdout
    assert "2 packages, threshold 2 of 2 trusted: 0 agreed, 1 short, 1 disputed, 0 none" in done.stdout


@pytest.mark.parametrize("args, message", [
    (("--from", "nowhere", "--trust", "k.pub", "--threshold", "1"), "--from nowhere: not a directory"),
    (("--from", ".", "--trust", "k", "--threshold", "1"), "k: not a public key in PEM"),
    (("--from", ".", "--trust", "k.pub", "--trust", "k.pub", "--threshold", "2"), "1 distinct trusted key"),
    (("--from", ".", "--trust", "missing.pub", "--threshold", "1"), "missing.pub: cannot read the public key"),
])
def test_check_mistakes_are_one_line(tmp_path, published, args, message):
    assert rebuildx("attest", "keygen", "k", cwd=tmp_path).returncode == 0
    done = rebuildx("attest", "check", "--release", RELEASE, "--published", str(published), *args, cwd=tmp_path)
    assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_verify_refuses_a_bad_key_before_building(tmp_path):
    assert rebuildx("attest", "keygen", "k", cwd=tmp_path).returncode == 0
    done = rebuildx("verify", "--release", RELEASE, "--tree", str(tmp_path / "none"), "--attest-key", "k.pub",
                    cwd=tmp_path)
    assert done.returncode == 1 and "k.pub: not an unencrypted PKCS#8 PEM private key" in done.stderr
    assert not (tmp_path / "none").exists()  # nothing cloned, nothing built


def test_a_run_built_from_other_files_is_not_attested(tmp_path):
    assert rebuildx("attest", "keygen", "k", cwd=tmp_path).returncode == 0
    signer = load_signer(tmp_path / "k")
    checkout = Checkout(tmp_path, RELEASE, "refs/heads/release/2099.01.0", "1" * 40, head="2" * 40)
    outcome = api.VerifyOutcome(checkout, matching(["core-x"]), None, tmp_path / "r.json")
    with pytest.raises(RebuildxError, match="not attested: the run built 222222222222, not release 2099.01.0"):
        api.attest_verify(outcome, signer, deps="built", started=facts().started)
    assert not api.attestations_dir(tmp_path).exists()


@pytest.mark.parametrize("extra, why", [
    (("--allow-dirty",), "--attest-key with --allow-dirty: a statement that the release reproduces, about a build "
                         "from other files than the release's, would be false"),
    (("--engine", "podman"), "--attest-key signs digest verdicts of buildx runs"),
])
def test_verify_refuses_a_false_attestation_before_anything_runs(tmp_path, extra, why):
    """The flag combination is a usage error at once, one line, not after the whole build."""
    assert rebuildx("attest", "keygen", "k", cwd=tmp_path).returncode == 0
    done = rebuildx("verify", "--release", RELEASE, "--tree", str(tmp_path / "none"), "--attest-key", "k", *extra,
                    cwd=tmp_path)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.splitlines() == [f"rebuildx: error: {why}" + done.stderr.split(why, 1)[1].rstrip("\n")]
    assert not (tmp_path / "none").exists()  # nothing cloned, nothing built
    assert not (tmp_path / ".rebuildx").exists()
    with pytest.raises(RebuildxError) as caught:
        api.check_attest_options(allow_dirty="--allow-dirty" in extra, engine=extra[-1])
    assert caught.value.exit_code == 2 and why in str(caught.value)
    api.check_attest_options(allow_dirty=False, engine="buildx")  # the honest run is let through
