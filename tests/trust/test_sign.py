"""`sign` -> `signatures` round trips on a StageX-shaped tree: only what was reproduced here is
signed, as sign.sh would sign it, and the quorum follows the maintainers who signed."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from rebuildx.cli import app
from rebuildx.errors import RebuildxError
from rebuildx.outcomes import Verdict
from rebuildx.state.ledger import Ledger
from rebuildx.trust.signatures.packets import read_message
from rebuildx.trust.signatures.payload import sign_payload
from rebuildx.trust.signatures.requests import SignaturesRequest, SignRequest
from rebuildx.trust.signatures.run import check_signatures, sign_signatures
from rebuildx.trust.signatures.sign import SignOutcome
from rebuildx.workspace import Workspace
from treegen import write_fixture_tree

RELEASE = "2026.01.0"
REPRODUCED = ["core-hello", "core-tool-a"]
DIFFERENT = "bootstrap-seed"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main",
                    "-C", str(root), *args], check=True, capture_output=True)


def write_entry(out: Path, name: str, tag: str) -> str:
    """A minimal out/ entry (index -> nested index -> manifest) as StageX's make writes; its digest."""
    blobs = out / name / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def blob(doc: dict) -> tuple[str, int]:
        data = json.dumps(doc).encode()
        h = hashlib.sha256(data).hexdigest()
        (blobs / h).write_bytes(data)
        return h, len(data)

    c, c_size = blob({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []},
                      "config": {"Labels": {"name": name}}})
    m, m_size = blob({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": [],
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": f"sha256:{c}",
                                 "size": c_size}})
    n, n_size = blob({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": f"sha256:{m}", "size": m_size}]})
    (out / name / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (out / name / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": f"sha256:{n}", "size": n_size,
         "annotations": {"org.opencontainers.image.ref.name": tag}}]}))
    return m


@pytest.fixture
def tree(tmp_path, keys) -> Path:
    """A fixture tree whose release branch publishes the digests of its out/ entries, with a
    MAINTAINERS naming Alice and Bob; the ledger holds MATCH for REPRODUCED only."""
    root = tmp_path / "stagex"
    write_fixture_tree(root)
    (root / ".gitignore").write_text("out\n.rebuildx\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "tree")
    digests = {name: write_entry(root / "out", name, "1.0") for name in [*REPRODUCED, DIFFERENT]}
    git(root, "checkout", "-q", "-b", f"release/{RELEASE}")
    (root / "digests").mkdir()
    for stage in ("bootstrap", "core"):
        (root / "digests" / f"{stage}.txt").write_text(
            "".join(f"{d} {n}\n" for n, d in sorted(digests.items()) if n.startswith(stage)))
    (root / "MAINTAINERS").write_text("".join(f'[keys.{p}.personal]\nid = "{keys.fpr[p]}"\n\n' for p in ("alice", "bob")))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "release")
    git(root, "checkout", "-q", "main")
    ledger = Ledger(Workspace(root))
    for name in REPRODUCED:
        ledger.record(RELEASE, name, Verdict.MATCH, digests[name], digests[name], "built")
    ledger.record(RELEASE, DIFFERENT, Verdict.MISMATCH, "0" * 64, digests[DIFFERENT], "built")
    return root


def sign_as(monkeypatch, keys, tree: Path, sigs: Path, who: str):
    monkeypatch.setenv("GNUPGHOME", str(keys.home))
    return sign_signatures(SignRequest(tree, RELEASE, keys.fpr[who], sigs))


def quorum(keys, tree: Path, sigs: Path) -> dict[str, str]:
    report = check_signatures(SignaturesRequest(tree, RELEASE, sigs=str(sigs), keyrings=(keys.keyring,)))
    return {p.package: p.verdict.value for p in report.packages}


def test_two_maintainers_make_a_quorum(monkeypatch, keys, tree, tmp_path):
    sigs = tmp_path / "signatures"
    sigs.mkdir()
    first = sign_as(monkeypatch, keys, tree, sigs, "alice")
    assert {r.package: r.outcome for r in first.results} == {
        "core-hello": SignOutcome.SIGNED, "core-tool-a": SignOutcome.SIGNED, DIFFERENT: SignOutcome.REFUSED}
    assert "MISMATCH" in next(r.detail for r in first.results if r.package == DIFFERENT)
    assert first.exit_code == 5
    assert quorum(keys, tree, sigs) == {"core-hello": "UNDER_QUORUM", "core-tool-a": "UNDER_QUORUM",
                                        DIFFERENT: "UNSIGNED"}
    sign_as(monkeypatch, keys, tree, sigs, "bob")
    again = sign_as(monkeypatch, keys, tree, sigs, "alice")
    assert {r.outcome for r in again.results if r.package in REPRODUCED} == {SignOutcome.ALREADY}
    assert quorum(keys, tree, sigs) == {"core-hello": "QUORUM", "core-tool-a": "QUORUM", DIFFERENT: "UNSIGNED"}


def test_signed_file_is_what_sign_sh_writes_and_never_overwrites(monkeypatch, keys, tree, tmp_path):
    sigs = tmp_path / "signatures"
    digest = (tree / "out" / "core-hello" / "index.json").read_text()  # noqa: F841 (entry exists)
    published = {n: d for n, d in (line.split()[::-1] for line in subprocess.run(
        ["git", "-C", str(tree), "show", f"release/{RELEASE}:digests/core.txt"], capture_output=True,
        text=True, check=True).stdout.splitlines())}
    folder = sigs / "stagex" / f"core-hello@sha256={published['core-hello']}"
    folder.mkdir(parents=True)
    (folder / "signature-1").write_bytes(keys.sign(b"someone else's", "mallory"))
    result = sign_as(monkeypatch, keys, tree, sigs, "alice")
    written = Path(next(r.detail for r in result.results if r.package == "core-hello"))
    assert written == folder / "signature-2"
    assert (folder / "signature-1").read_bytes() and sorted(p.name for p in folder.iterdir()) == [
        "signature-1", "signature-2"]
    assert read_message(written.read_bytes()).payload == sign_payload("stagex", "core-hello", "1.0",
                                                                      published["core-hello"])


def test_changed_out_entry_is_refused(monkeypatch, keys, tree, tmp_path):
    (tree / "out" / "core-hello" / "index.json").write_text('{"schemaVersion":2,"manifests":[]}')
    result = sign_as(monkeypatch, keys, tree, tmp_path, "alice")
    detail = next(r.detail for r in result.results if r.package == "core-hello")
    assert "out/core-hello" in detail


def test_cli_signatures_and_sign(monkeypatch, keys, tree, tmp_path):
    sigs = tmp_path / "signatures"
    sigs.mkdir()
    monkeypatch.setenv("GNUPGHOME", str(keys.home))
    runner = CliRunner()
    for who in ("alice", "bob"):
        done = runner.invoke(app, ["sign", "--tree", str(tree), "--release", RELEASE, "--key", keys.fpr[who],
                                   "--sigs", str(sigs), "core-hello"])
        assert done.exit_code == 0, done.output
        assert "SIGNED   core-hello" in done.output
    junit = tmp_path / "sigs.xml"
    done = runner.invoke(app, ["signatures", "--tree", str(tree), "--release", RELEASE, "--sigs", str(sigs),
                               "--keyring", str(keys.keyring), "--json", "--junit", str(junit)])
    doc = json.loads(done.output)
    assert done.exit_code == 5  # bootstrap-seed and core-tool-a are unsigned
    assert {p["package"]: p["verdict"] for p in doc["packages"]}["core-hello"] == "QUORUM"
    assert 'name="core-hello"' in junit.read_text()
    done = runner.invoke(app, ["signatures", "core-hello", "--tree", str(tree), "--release", RELEASE,
                               "--sigs", str(sigs), "--keyring", str(keys.keyring)])
    assert done.exit_code == 5 and "QUORUM" in done.output  # its closure (the seed) is unsigned


@pytest.mark.parametrize("args, words, code", [
    (["--quorum", "0"], "Invalid value for '--quorum'", 2),
    (["--keyring", "/nonexistent.gpg"], "--keyring /nonexistent.gpg: no such file", 1),
    (["--keyring", "/etc/hostname"], "no OpenPGP public key", 1),
    (["--trust", "ABC"], "--trust 'ABC': not a 40-digit", 1),
    (["--sigs", "/nonexistent"], "/nonexistent: no such folder", 1),
    (["--release", "1999.01.0"], "release/1999.01.0", 1),
])
def test_cli_bad_input_is_one_line(keys, tree, tmp_path, args, words, code):
    (tmp_path / "stagex").mkdir(exist_ok=True)
    base = ["signatures", "--tree", str(tree), "--release", RELEASE, "--sigs", str(tmp_path),
            "--keyring", str(keys.keyring)]
    done = CliRunner().invoke(app, base + args)
    assert done.exit_code == code, done.output
    assert words in done.output
    assert "Traceback" not in done.output


def test_verify_sigs_adds_the_verdicts_to_its_report(monkeypatch, keys, tree, tmp_path):
    """The hook `verify --sigs` runs after its comparison (the build itself is tested elsewhere)."""
    from rebuildx import api
    from rebuildx.api.verifying import _verify_signatures

    sigs = tmp_path / "signatures"
    sigs.mkdir()
    sign_as(monkeypatch, keys, tree, sigs, "alice")
    extra: dict = {}
    request = api.VerifyRequest(release=RELEASE, selection=("core-hello",), sigs=str(sigs), keyrings=(keys.keyring,))
    report = _verify_signatures(request, tree, extra, api.QUIET)
    assert report is not None and extra["signatures"] == report.to_json()
    assert {p["package"]: p["verdict"] for p in extra["signatures"]["packages"]} == {
        "bootstrap-seed": "UNSIGNED", "core-hello": "UNDER_QUORUM"}
    warnings: list[str] = []
    monkeypatch.setattr(api.QUIET, "warning", warnings.append, raising=False)
    broken = api.VerifyRequest(release=RELEASE, sigs=str(tmp_path / "nope"))
    assert _verify_signatures(broken, tree, extra, api.QUIET) is None
    assert "no such folder" in extra["signatures"]["error"] and warnings


def test_entry_without_a_tag_is_refused_alone(monkeypatch, keys, tree, tmp_path):
    index = tree / "out" / "core-tool-a" / "index.json"
    doc = json.loads(index.read_text())
    del doc["manifests"][0]["annotations"]
    index.write_text(json.dumps(doc))
    result = sign_as(monkeypatch, keys, tree, tmp_path, "alice")
    outcome = {r.package: (r.outcome, r.detail) for r in result.results}
    assert outcome["core-tool-a"][0] is SignOutcome.REFUSED and "annotation" in outcome["core-tool-a"][1]
    assert outcome["core-hello"][0] is SignOutcome.SIGNED


def test_signing_with_a_subkey_counts_for_its_primary(monkeypatch, keys, tree, tmp_path):
    monkeypatch.setenv("GNUPGHOME", str(keys.home))
    first = sign_signatures(SignRequest(tree, RELEASE, keys.fpr["alice"], tmp_path, ("core-hello",)))
    again = sign_signatures(SignRequest(tree, RELEASE, keys.subkeys["alice"][1], tmp_path, ("core-hello",)))
    assert [r.outcome for r in first.results] == [SignOutcome.SIGNED]
    assert [(r.outcome, r.detail) for r in again.results] == [(SignOutcome.ALREADY, first.results[0].detail)]


def test_published_folder_and_trust_without_a_release_branch(monkeypatch, keys, tree, tmp_path):
    sigs = tmp_path / "signatures"
    sigs.mkdir()
    sign_as(monkeypatch, keys, tree, sigs, "alice")
    sign_as(monkeypatch, keys, tree, sigs, "carol")  # carol is in no MAINTAINERS: --trust names her
    digests = tmp_path / "published"
    digests.mkdir()
    for stage in ("bootstrap", "core"):
        (digests / f"{stage}.txt").write_text(subprocess.run(
            ["git", "-C", str(tree), "show", f"release/{RELEASE}:digests/{stage}.txt"], capture_output=True,
            text=True, check=True).stdout)
    subprocess.run(["git", "-C", str(tree), "branch", "-D", f"release/{RELEASE}"], check=True, capture_output=True)
    request = SignaturesRequest(tree, RELEASE, ("core-hello",), sigs=str(sigs), keyrings=(keys.keyring,),
                                published=(str(digests),))
    with pytest.raises(RebuildxError, match="no MAINTAINERS"):
        check_signatures(request)
    report = check_signatures(SignaturesRequest(**{**request.__dict__, "trust": (keys.fpr["alice"], keys.fpr["carol"])}))
    assert {p.package: p.verdict.value for p in report.packages} == {"core-hello": "QUORUM",
                                                                      "bootstrap-seed": "UNSIGNED"}


def published_digests(tree: Path) -> dict[str, str]:
    return {n: d for n, d in (line.split()[::-1] for line in subprocess.run(
        ["git", "-C", str(tree), "show", f"release/{RELEASE}:digests/core.txt"], capture_output=True,
        text=True, check=True).stdout.splitlines())}


def test_a_hostile_signatures_checkout_neither_hangs_nor_takes_the_signature_outside(monkeypatch, keys, tree,
                                                                                      tmp_path):
    """A checkout is shared by maintainers: a FIFO named signature-1 (reading it would wait
    forever), an image folder that is a symlink out of the checkout (the signature would be
    written there), a `stagex` that is a file."""
    import os
    import threading

    sigs, outside, published = tmp_path / "signatures", tmp_path / "outside", published_digests(tree)
    outside.mkdir()
    hello = sigs / "stagex" / f"core-hello@sha256={published['core-hello']}"
    hello.mkdir(parents=True)
    os.mkfifo(hello / "signature-1")
    (hello / "signature-2").symlink_to(outside / "big")
    with open(outside / "big", "wb") as f:
        f.truncate(64 << 20)
    (sigs / "stagex" / f"core-tool-a@sha256={published['core-tool-a']}").symlink_to(outside)
    results: list = []
    worker = threading.Thread(target=lambda: results.append(sign_as(monkeypatch, keys, tree, sigs, "alice")),
                              daemon=True)
    worker.start()
    worker.join(60)
    if worker.is_alive():
        with open(hello / "signature-1", "wb"):  # let the stuck reader go
            pass
        worker.join(60)
        pytest.fail("sign waited on a FIFO in the signatures checkout")
    outcome = {r.package: (r.outcome, r.detail) for r in results[0].results}
    assert outcome["core-hello"] == (SignOutcome.SIGNED, str(hello / "signature-3"))
    assert outcome["core-tool-a"][0] is SignOutcome.REFUSED and "outside" in outcome["core-tool-a"][1]
    assert sorted(p.name for p in outside.iterdir()) == ["big"]
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "stagex").write_text("not a folder")
    with pytest.raises(RebuildxError, match=r"flat/stagex/core-hello@sha256=.*: cannot be written"):
        sign_as(monkeypatch, keys, tree, flat, "alice")


@pytest.mark.parametrize("args, words", [
    (["core-pair", "--key", "alice"], f"release {RELEASE} publishes none of core-pair (nor their deps)"),
    (["core-hello", "--key", "alice", "--sigs", "/nonexistent"],
     "--sigs /nonexistent: no such folder (a checkout of the signatures repository)"),
    (["core-hello", "--key", "0" * 40], f"--key {'0' * 40}: not in your keyring ("),
])
def test_sign_bad_input_is_one_line(monkeypatch, keys, tree, tmp_path, args, words):
    monkeypatch.setenv("GNUPGHOME", str(keys.home))
    args = [keys.fpr["alice"] if a == "alice" else a for a in args]
    sigs = [] if "--sigs" in args else ["--sigs", str(tmp_path)]
    done = CliRunner().invoke(app, ["sign", *args, "--tree", str(tree), "--release", RELEASE, *sigs])
    assert done.exit_code == 1, done.output
    assert words in done.output and "Traceback" not in done.output
    assert not list(tmp_path.glob("stagex*/**/signature-*"))  # nothing signed


def test_each_package_not_reproduced_here_is_refused_with_why(monkeypatch, keys, tree, tmp_path):
    """Never verified here, verified against a digest the release no longer publishes, or an out/
    entry replaced since by another image: refused by name, the reason said, nothing signed."""
    import shutil

    shutil.rmtree(tree / ".rebuildx")
    ledger = Ledger(Workspace(tree))
    ledger.record(RELEASE, "core-tool-a", Verdict.MATCH, "0" * 64, "0" * 64, "built")
    published = {n: d for n, d in (line.split()[::-1] for line in subprocess.run(
        ["git", "-C", str(tree), "show", f"release/{RELEASE}:digests/core.txt"], capture_output=True,
        text=True, check=True).stdout.splitlines())}
    ledger.record(RELEASE, "core-hello", Verdict.MATCH, published["core-hello"], published["core-hello"], "built")
    shutil.rmtree(tree / "out" / "core-hello")
    write_entry(tmp_path / "other", "core-other", "1.0")
    (tmp_path / "other" / "core-other").rename(tree / "out" / "core-hello")  # another image under its name
    result = sign_as(monkeypatch, keys, tree, tmp_path, "alice")
    assert {r.package: (r.outcome, r.detail) for r in result.results} == {
        "core-hello": (SignOutcome.REFUSED, "out/core-hello is no longer the image verified (rebuild and verify it again)"),
        "core-tool-a": (SignOutcome.REFUSED, f"verified against digest {'0' * 12}…, but the release publishes "
                                             f"{published['core-tool-a'][:12]}…"),
        DIFFERENT: (SignOutcome.REFUSED, "never verified on this machine (run `rebuildx verify` first)"),
    }
    assert not list(tmp_path.rglob("signature-*"))
