"""`rebuildx verify` end to end: a fixture release, the real engine, a loopback mirror."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from releasegen import git
from treegen import sha256, tarball


def rebuildx(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=900)


def status_of(tree, release: str = "2099.01.0") -> dict:
    """`rebuildx status --json`, which reports and always exits 0."""
    done = rebuildx("status", "--release", release, "--tree", str(tree), "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.engine
def test_matching_release_exits_0(upstream, tmp_path):
    report = tmp_path / "report.json"
    junit = tmp_path / "junit.xml"
    done = rebuildx("verify", "--release", "2099.01.0", "--repo", str(upstream.root),
                    "--tree", str(tmp_path / "stagex"), "-j", "2", "--report", str(report), "--junit", str(junit))
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads(report.read_text())
    assert {v["verdict"] for v in doc["verdicts"]} == {"MATCH"} and len(doc["verdicts"]) == 6
    assert doc["summary"]["reproduced_percent"] == 100.0 and doc["release"] == "2099.01.0"
    assert doc["ref"] == "refs/remotes/origin/release/2099.01.0"
    cases = ET.parse(junit).getroot().findall("testcase")
    assert len(cases) == 6 and not any(list(c) for c in cases)
    assert "6 packages: 6 match" in done.stdout
    # compare on its own agrees: entries rebuildx built here count
    again = rebuildx("compare", "--tree", str(tmp_path / "stagex"), "--json")
    assert again.returncode == 0 and {v["verdict"] for v in json.loads(again.stdout)["verdicts"]} == {"MATCH"}
    # the ledger: everything matched in closure mode is chain-verified
    assert status_of(tmp_path / "stagex")["counts"]["chain_verified"] == 6


@pytest.mark.engine
def test_changed_package_mismatches_with_its_dependents(upstream, tmp_path):
    root = upstream.root
    data = tarball("hello-1.2.3", {"hello.sh": "#!/bin/sh\necho tampered\n"})
    old = sha256(upstream.fetch_files["fetch/core/hello/hello-1.2.3.tar.gz"])
    git(root, "checkout", "-q", "release/2099.01.0")
    toml = root / "packages/core/hello/package.toml"
    toml.write_text(toml.read_text().replace(old, sha256(data)))
    git(root, "commit", "-qam", "change hello")
    git(root, "branch", "-q", "-m", "release/2099.01.0", "release/2099.01.1")
    git(root, "checkout", "-q", "main")
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "hello-1.2.3.tar.gz").write_bytes(data)
    report = tmp_path / "r.json"
    done = rebuildx("verify", "--release", "2099.01.1", "--repo", str(root), "--tree", str(tmp_path / "stagex"),
                    "-j", "2", "--sources", str(sources), "--report", str(report),
                    "--explain-from", str(upstream.published_out))
    assert done.returncode == 3, done.stderr[-3000:]
    doc = json.loads(report.read_text())
    verdicts = {v["package"]: v["verdict"] for v in doc["verdicts"]}
    assert verdicts == {"bootstrap-seed": "MATCH", "core-tool-a": "MATCH", "core-tool-b": "MATCH",
                        "core-hello": "MISMATCH", "core-pair": "MISMATCH", "pallet-hello-kit": "MISMATCH"}
    assert "MISMATCH" in done.stdout
    # every mismatch explained, naming the file that differs and how
    assert set(doc["explanations"]) == {"core-hello", "core-pair", "pallet-hello-kit"}
    hello = doc["explanations"]["core-hello"]
    assert hello["summary"].startswith("content") and "explain core-hello: content" in done.stdout
    assert "usr/bin/hello" in json.dumps(hello["difference"])
    assert "usr/share/pair/hello-copy" in json.dumps(doc["explanations"]["core-pair"]["difference"])


@pytest.mark.engine
def test_failing_build_is_failed_with_its_own_exit_code(upstream, tmp_path):
    root = upstream.root
    git(root, "checkout", "-q", "release/2099.01.0")
    (root / "packages/core/tools/Containerfile").write_text("FROM stagex/bootstrap-seed\nRUN --network=none false\n")
    git(root, "commit", "-qam", "break tools")
    git(root, "branch", "-q", "-m", "release/2099.01.0", "release/2099.01.2")
    git(root, "checkout", "-q", "main")
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"
    done = rebuildx("verify", "--release", "2099.01.2", "--repo", str(root), "--tree", str(tmp_path / "stagex"),
                    "-j", "2", "--report", str(report), "--junit", str(junit))
    assert done.returncode == 4, done.stderr[-3000:]
    doc = json.loads(report.read_text())
    verdicts = {v["package"]: v["verdict"] for v in doc["verdicts"]}
    assert verdicts["core-tool-a"] == verdicts["core-tool-b"] == "FAILED"
    assert verdicts["pallet-hello-kit"] == "FAILED"  # blocked by tool-a
    assert verdicts["core-hello"] == verdicts["core-pair"] == "MATCH"
    builds = {b["package"]: b for b in doc["builds"]}
    # the Containerfile lost the subpackages' stages: the tree's fault, named with its fix
    assert builds["core-tool-a"]["cause"] == "Containerfile syntax" and "Containerfile" in builds["core-tool-a"]["fix"]
    assert 'target stage "package-tool-a" could not be found' in builds["core-tool-a"]["evidence"]
    assert "failed core-tool-a: Containerfile syntax" in done.stdout
    assert builds["core-hello"]["cause"] is None and builds["core-hello"]["attempts"] == 1
    suite = ET.parse(junit).getroot()
    assert int(suite.get("errors")) == sum(1 for v in verdicts.values() if v == "FAILED")
    assert {c.get("name") for c in suite.findall("testcase") if c.find("error") is not None} == {
        n for n, v in verdicts.items() if v == "FAILED"}


@pytest.mark.engine
def test_reused_checkout_must_be_clean_and_at_the_release(upstream, tmp_path):
    clone = tmp_path / "stagex"
    subprocess.run(["git", "clone", "-q", str(upstream.root), str(clone)], check=True)
    done = rebuildx("verify", "--release", "2099.01.0", "--tree", str(clone))
    assert done.returncode == 1 and "not at release 2099.01.0" in done.stderr
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", "release/2099.01.0"], check=True)
    (clone / "packages/core/hello/Containerfile").write_text("FROM scratch\n")
    done = rebuildx("verify", "--release", "2099.01.0", "--tree", str(clone))
    assert done.returncode == 1 and "has local changes (packages/core/hello/Containerfile)" in done.stderr
    done = rebuildx("verify", "--release", "2099.09.0", "--tree", str(clone))  # a release the checkout has not
    assert done.returncode == 1
    assert "neither branch release/2099.09.0 nor tag 2099.09.0 exists" in done.stderr
    # allowed, the report says what was really built
    report = clone / "r.json"
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", "main"], check=True)
    done = rebuildx("verify", "core-hello", "--release", "2099.01.0", "--tree", str(clone), "--allow-dirty",
                    "--report", str(report))
    assert done.returncode == 4, done.stderr[-3000:]  # the dirty Containerfile has no `package` stage: FAILED
    doc = json.loads(report.read_text())
    main = subprocess.run(["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert doc["head"] == main != doc["commit"] and doc["dirty"] == ["packages/core/hello/Containerfile"]
    assert "this does not verify the release" in done.stdout


@pytest.mark.engine
def test_deps_published_then_chain_verified(upstream, tmp_path):
    clone = tmp_path / "stagex"
    args = ("--release", "2099.01.0", "--repo", str(upstream.root), "--tree", str(clone), "-j", "2")
    done = rebuildx("verify", "pallet-hello-kit", "--deps", "published", "--deps-from",
                    str(upstream.published_out), *args)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((clone / ".rebuildx/reports/verify-2099.01.0.json").read_text())
    assert [(v["package"], v["verdict"], v["deps_from"]) for v in report["verdicts"]] == [
        ("pallet-hello-kit", "MATCH", "published")]
    assert set(report["published_deps"]) == {"bootstrap-seed", "core-hello", "core-tool-a", "core-pair"}
    status = status_of(clone)
    assert status["counts"]["chain_verified"] == 0 and status["counts"]["matched"] == 1
    assert "core-hello" in status["gaps"]["pallet-hello-kit"]
    done = rebuildx("verify", "core-pair", *args)  # closure mode: seed, hello, pair
    assert done.returncode == 0, done.stderr[-3000:]
    status = status_of(clone)
    assert status["counts"]["chain_verified"] == 3  # seed, hello, pair
    assert status["gaps"]["pallet-hello-kit"] == ["core-tool-a"]
    done = rebuildx("verify", "core-tool-a", "--deps", "published", "--deps-from",
                    str(upstream.published_out), *args)
    assert done.returncode == 0, done.stderr[-3000:]
    status = status_of(clone)
    assert status["counts"]["chain_verified"] == 5 and status["gaps"] == {}


@pytest.mark.engine
def test_tampered_published_dep_is_refused(upstream, tmp_path):
    out = upstream.published_out
    layer_blobs = sorted((out / "core-hello/blobs/sha256").iterdir(), key=lambda p: -p.stat().st_size)
    layer_blobs[0].write_bytes(layer_blobs[0].read_bytes() + b"x")
    done = rebuildx("verify", "core-pair", "--deps", "published", "--deps-from", str(out),
                    "--release", "2099.01.0", "--repo", str(upstream.root), "--tree", str(tmp_path / "stagex"))
    assert done.returncode == 1
    assert "does not match its digest" in done.stderr
    assert not (tmp_path / "stagex/out/core-hello").exists()
