"""One rule for bad option values: a usage error (exit 2), found before any work (issue 16)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def rebuildx(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


@pytest.mark.parametrize("value", ["garbage", "2026.13.0", "2026.00.1", "26.03.0", "2026.3.0"])
@pytest.mark.parametrize("verb", [["digests"], ["compare"], ["doctor"], ["status"], ["verify"], ["signatures"],
                                  ["sign"], ["attest", "check"]])
def test_bad_release_is_a_usage_error_before_any_work(fixture_tree, verb, value):
    digests = fixture_tree.root / "digests"
    digests.mkdir()
    (digests / "core.txt").write_text("kept\n")
    done = rebuildx(*verb, "--release", value, "--tree", str(fixture_tree.root))
    assert done.returncode == 2, done.stderr
    assert f"Invalid value for '--release': {value!r} is not a release name" in done.stderr
    assert (digests / "core.txt").read_text() == "kept\n"  # nothing was done
    assert not (fixture_tree.root / ".rebuildx").exists()


def test_explain_negative_max_layer_bytes_is_a_usage_error(fixture_tree):
    done = rebuildx("explain", "core-hello", "--max-layer-bytes", "-1", "--tree", str(fixture_tree.root))
    assert done.returncode == 2 and "Invalid value for '--max-layer-bytes'" in done.stderr


def test_doctor_json_outside_a_tree_prints_json(tmp_path):
    done = rebuildx("doctor", "--json", cwd=tmp_path)
    assert done.returncode == 1
    doc = json.loads(done.stdout)
    assert doc["findings"] == [] and "not a StageX tree" in doc["error"]


def test_an_os_error_anywhere_is_one_line(fixture_tree):
    with open("/dev/full", "w") as full:  # stdout on a full disk
        done = subprocess.run([sys.executable, "-m", "rebuildx", "plan", "--json", "--tree", str(fixture_tree.root)],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip() == "rebuildx: error: No space left on device"
