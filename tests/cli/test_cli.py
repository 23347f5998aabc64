"""The `rebuildx` command as a user runs it: a real process, its output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

from treegen import write_package


def rebuildx(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True, cwd=cwd)


def test_help_lists_verbs():
    done = rebuildx("--help")
    assert done.returncode == 0 and "plan" in done.stdout


def test_usage_errors_exit_2(fixture_tree):
    assert rebuildx("frobnicate").returncode == 2
    assert rebuildx("plan", "--no-such-option").returncode == 2


def test_plan_json_in_build_order(fixture_tree):
    done = rebuildx("plan", "pallet-hello-kit", "--json", "--tree", str(fixture_tree.root))
    assert done.returncode == 0, done.stderr
    packages = json.loads(done.stdout)["packages"]
    names = [p["name"] for p in packages]
    assert names[0] == "bootstrap-seed" and names[-1] == "pallet-hello-kit"
    assert set(names) == {"bootstrap-seed", "core-hello", "core-tool-a", "core-pair", "pallet-hello-kit"}
    kit = packages[-1]
    assert kit["version"] == "1.2.3" and kit["stage"] == "pallet" and kit["origin"] == "hello-kit"
    assert kit["platform"] == "linux/amd64" and kit["deps"][0] == "bootstrap-seed"
    hello = next(p for p in packages if p["name"] == "core-hello")
    assert hello["sources"][0]["file"] == "hello-1.2.3.tar.gz"
    assert hello["sources"][0]["urls"][0].endswith("/hello/hello-1.2.3.tar.gz")


def test_plan_table_counts_and_longest_path(fixture_tree):
    done = rebuildx("plan", "--tree", str(fixture_tree.root))
    assert done.returncode == 0, done.stderr
    assert "6 packages (bootstrap 1, core 4, pallet 1)" in done.stdout
    assert "longest path: 4 packages" in done.stdout


def test_tree_defaults_to_current_directory(fixture_tree):
    done = rebuildx("plan", "hello", "--json", cwd=fixture_tree.root)
    assert done.returncode == 0, done.stderr
    assert [p["name"] for p in json.loads(done.stdout)["packages"]] == ["bootstrap-seed", "core-hello"]


def test_bad_input_is_one_line_exit_1(tmp_path):
    write_package(tmp_path, "core", "x", '[package]\nname = "x\n', "FROM scratch\n")
    done = rebuildx("plan", "--tree", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.startswith("rebuildx: error: packages/core/x/package.toml: package core/x: malformed TOML")
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_unknown_selection_suggests(fixture_tree):
    done = rebuildx("plan", "helo", "--tree", str(fixture_tree.root))
    assert done.returncode == 1 and "did you mean hello" in done.stderr


def test_plan_all_json_on_the_real_release_graph(graph_tree, graph_data):
    """The acceptance, as a user runs it: `rebuildx plan all --json` on the 513-package tree."""
    done = rebuildx("plan", "all", "--json", "--tree", str(graph_tree))
    assert done.returncode == 0, done.stderr
    packages = json.loads(done.stdout)["packages"]
    expected = {f"{p['stage']}-{p['name']}": p["deps"] for p in graph_data["packages"]}
    assert len(packages) == 513 and {p["name"]: p["deps"] for p in packages} == expected
    position = {p["name"]: i for i, p in enumerate(packages)}
    assert all(position[d] < position[p["name"]] for p in packages for d in p["deps"])
    bash = json.loads(rebuildx("plan", "core-bash", "--json", "--tree", str(graph_tree)).stdout)["packages"]
    assert len(bash) == 26 and bash[-1]["name"] == "core-bash"


def test_a_malformed_release_is_a_usage_error_on_every_verb(fixture_tree):
    """README: 2 is a usage error. A --release that is not YYYY.MM.N is one, caught before any
    work, as click's own checks of option values are: one line, exit 2, on every verb taking it."""
    tree = str(fixture_tree.root)
    for args in (["status", "--release", "2026.3"], ["digests", "--release", "latest"],
                 ["doctor", "--release", "x"], ["verify", "--release", "x", "--tree", tree + "/nope"],
                 ["signatures", "--release", "x"], ["sign", "--release", "x", "--key", "K", "--sigs", tree]):
        if "--tree" not in args:
            args += ["--tree", tree]
        done = rebuildx(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert repr(args[2]) in done.stderr and "YYYY.MM.N" in done.stderr and "Traceback" not in done.stderr
