"""`--platform` as BuildKit takes it: os/arch[/variant], several joined by commas; anything else
is a usage error naming the option and the value, before anything runs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rebuildx import api
from rebuildx.errors import UsageError


def rebuildx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True, timeout=120)


def files(root) -> set:
    return {p.relative_to(root) for p in root.rglob("*")}


@pytest.mark.parametrize("verb", [("plan",), ("build",), ("build", "--dry-run"), ("doctor",),
                                  ("verify", "--release", "2026.03.0")])
@pytest.mark.parametrize("value", ["foo", "linux", "linux/amd64/v3/x", "linux/amd64,", "Linux/amd64",
                                   "linux/amd64 ", "linux/amd64;rm", "linux/amd64,linux/amd64"])
def test_a_bad_platform_is_a_usage_error_before_anything_runs(fixture_tree, verb, value):
    before = files(fixture_tree.root)
    done = rebuildx(*verb, "--tree", str(fixture_tree.root), "--platform", value)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert "Invalid value for '--platform'" in done.stderr and repr(value) in done.stderr, done.stderr
    assert files(fixture_tree.root) == before  # nothing ran: no .rebuildx/, no fetch/, no out/


def test_verify_with_a_bad_platform_clones_nothing(tmp_path):
    done = rebuildx("verify", "--release", "2026.03.0", "--tree", str(tmp_path / "stagex"), "--platform", "amd64")
    assert done.returncode == 2 and "'amd64'" in done.stderr
    assert not (tmp_path / "stagex").exists()


@pytest.mark.parametrize("value", ["linux/amd64", "linux/386", "linux/arm/v7", "linux/arm64/v8",
                                   "linux/amd64,linux/arm64", "linux/riscv64,linux/ppc64le,linux/s390x"])
def test_what_a_build_can_use_is_taken(fixture_tree, value):
    done = rebuildx("plan", "core-hello", "--json", "--tree", str(fixture_tree.root), "--platform", value)
    assert done.returncode == 0, done.stderr
    hello = next(p for p in json.loads(done.stdout)["packages"] if p["name"] == "core-hello")
    assert hello["platform"] == value
    from rebuildx.stagex.model import check_platform

    assert check_platform(value) == value


def test_the_library_refuses_it_too(fixture_tree):
    tree = api.open_tree(fixture_tree.root)
    with pytest.raises(UsageError, match=r"platform 'linux/amd64,arm64': 'arm64' is not os/arch\[/variant\]"):
        api.plan(tree, ["core-hello"], platform="linux/amd64,arm64")
    with pytest.raises(UsageError, match=r"names a platform twice"):
        api.build_commands(tree, ["core-hello"], api_options(platform="linux/amd64,linux/amd64"))


def api_options(**kw):
    from rebuildx.build.run import BuildOptions

    return BuildOptions(**kw)


@pytest.mark.parametrize("value", ["linux/amd64,linux/arm64", "amd64", "Linux/amd64"])
def test_explain_takes_one_platform(fixture_tree, value):
    done = rebuildx("explain", "core-hello", "--tree", str(fixture_tree.root), "--platform", value)
    assert done.returncode == 2 and "Invalid value for '--platform'" in done.stderr and repr(value) in done.stderr
    from rebuildx.explain import ExplainOptions

    with pytest.raises(UsageError, match="platform"):
        api.explain(fixture_tree.root, "core-hello", options=ExplainOptions(platform=value))
