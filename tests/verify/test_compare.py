"""`rebuildx compare`: verdicts, exit codes, and where published digests come from."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from rebuildx.compare.verdicts import EXIT_FAILED, EXIT_INCOMPLETE, EXIT_MISMATCH, EXIT_NOTHING, Verdict, compare
from treegen import Mirror

A, B, C = "a" * 64, "b" * 64, "c" * 64


def test_verdicts_are_kept_apart():
    result = compare(["core-x", "core-y", "core-z", "core-w", "core-v"],
                     local={"core-x": A, "core-y": B, "core-w": C},
                     published={"core-x": A, "core-y": C, "core-z": A, "core-v": B},
                     failed={"core-v": "exit 1"})
    assert [v.verdict for v in result.verdicts] == [Verdict.MATCH, Verdict.MISMATCH, Verdict.NOT_BUILT,
                                                    Verdict.UNPUBLISHED, Verdict.FAILED]
    assert result.exit_code == EXIT_MISMATCH
    assert result.summary()["reproduced_percent"] == 50.0


@pytest.mark.parametrize("local, published, failed, code", [
    ({"core-x": A}, {"core-x": A}, {}, 0),
    ({"core-x": A}, {"core-x": B}, {}, EXIT_MISMATCH),
    ({}, {"core-x": A}, {"core-x": "boom"}, EXIT_FAILED),
    ({"core-x": A, "core-y": A}, {"core-x": A}, {}, EXIT_INCOMPLETE),
    ({}, {"core-x": A}, {}, EXIT_NOTHING),
])
def test_exit_codes_are_distinct(local, published, failed, code):
    assert compare(sorted(local.keys() | published.keys()), local, published, failed).exit_code == code


def rebuildx(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def built(upstream, tmp_path):
    """A workspace whose out/ is the published build copied in (rebuildx did not build it here),
    inside a clone at the release; compare is asked with --any-out to count it."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "-b", "release/2099.01.0", str(upstream.root), str(clone)], check=True)
    shutil.copytree(upstream.published_out, clone / "out")
    return clone


@pytest.mark.engine
def test_entries_not_built_here_prove_nothing(built):
    done = rebuildx("compare", "--tree", str(built), "--json")
    assert done.returncode == EXIT_NOTHING
    verdicts = json.loads(done.stdout)["verdicts"]
    assert {v["verdict"] for v in verdicts} == {"NOT_BUILT"}
    assert all("not built by rebuildx here" in v["note"] for v in verdicts)


@pytest.mark.engine
def test_compare_against_the_checkout_url_and_directory(built, upstream, tmp_path):
    done = rebuildx("compare", "--tree", str(built), "--json", "--any-out")
    assert done.returncode == 0, done.stderr
    assert {v["verdict"] for v in json.loads(done.stdout)["verdicts"]} == {"MATCH"}
    # a real HTTP server on loopback serving the digests folder, cross-checked with git
    mirror = Mirror()
    try:
        for f in (upstream.published_out.parent / "digests").iterdir():
            mirror.files[f"/digests/{f.name}"] = f.read_bytes()
        done = rebuildx("compare", "--tree", str(built), "--published", "git:HEAD",
                        "--published", f"{mirror.url}/digests", "--any-out")
        assert done.returncode == 0, done.stderr
        mirror.files["/digests/core.txt"] = mirror.files["/digests/core.txt"].replace(b"core-hello", b"core-hellx")
        done = rebuildx("compare", "--tree", str(built), "--published", "git:HEAD",
                        "--published", f"{mirror.url}/digests")
        assert done.returncode == 1 and "disagree on 2 packages: core-hello:" in done.stderr
    finally:
        mirror.close()


@pytest.mark.engine
def test_compare_diff_and_junit_on_a_mismatch(built, tmp_path):
    shutil.rmtree(built / "out/core-tool-b")
    shutil.copytree(built / "out/core-tool-a", built / "out/core-tool-b")
    junit = tmp_path / "j.xml"
    done = rebuildx("compare", "--tree", str(built), "--diff", "--junit", str(junit), "--any-out")
    assert done.returncode == EXIT_MISMATCH
    minus = [ln for ln in done.stdout.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln for ln in done.stdout.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    assert len(minus) == len(plus) == 1 and minus[0].endswith(" core-tool-b") and plus[0].endswith(" core-tool-b")
    assert "--- published/core.txt" in done.stdout
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "1"
    assert [c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None] == ["core-tool-b"]


@pytest.mark.engine
def test_nothing_to_compare(built):
    shutil.rmtree(built / "out")
    done = rebuildx("compare", "--tree", str(built))
    assert done.returncode == EXIT_NOTHING and "6 not built" in done.stdout


def test_published_digests_of_a_stage_beyond_the_usual_four(tmp_path):
    from rebuildx.compare.published import load_published
    from treegen import write_package

    write_package(tmp_path / "tree", "extra", "foo", '[package]\nname = "foo"\n', "FROM scratch\n")
    (tmp_path / "pub").mkdir()
    (tmp_path / "pub/extra.txt").write_text(A + " extra-foo\n")
    (tmp_path / "pub/core.txt").write_text(B + " core-bar\n")
    assert load_published(tmp_path / "tree", (str(tmp_path / "pub"),)) == {"extra-foo": A, "core-bar": B}


@pytest.mark.engine
def test_an_entry_damaged_after_its_build_proves_nothing(engine, upstream, tmp_path):
    """An out/ entry rebuildx built, whose layer was then truncated or removed, still has the
    manifest digest it was built with: it must not be counted as a MATCH."""
    from rebuildx import api

    scratch = upstream.published_out.parent  # built by rebuildx there: its history owns every entry
    tree = api.open_tree(scratch)
    whole = api.compare(tree, ("core-hello", "core-tool-a"), (str(scratch / "digests"),))
    assert {v.verdict for v in whole.comparison.verdicts} == {Verdict.MATCH}
    layouts = {}
    for name in ("core-hello", "core-tool-a"):
        index = json.loads((scratch / "out" / name / "index.json").read_text())
        blobs = scratch / "out" / name / "blobs" / "sha256"
        nested = json.loads((blobs / index["manifests"][0]["digest"][7:]).read_text())
        manifest = json.loads((blobs / nested["manifests"][0]["digest"][7:]).read_text())
        layouts[name] = blobs / manifest["layers"][0]["digest"][7:]
    layouts["core-hello"].chmod(0o644)
    with open(layouts["core-hello"], "r+b") as f:
        f.truncate(10)
    layouts["core-tool-a"].unlink()
    damaged = api.compare(tree, ("core-hello", "core-tool-a"), (str(scratch / "digests"),))
    verdicts = {v.package: v for v in damaged.comparison.verdicts}
    for name in ("core-hello", "core-tool-a"):
        assert verdicts[name].verdict is Verdict.NOT_BUILT, verdicts[name]
        assert "damaged" in verdicts[name].note
    assert verdicts["bootstrap-seed"].verdict is Verdict.MATCH
