"""`rebuildx build --dry-run`: the commands a build would run, as `make -n` prints them; no engine,
nothing written, exit 0."""

from __future__ import annotations

import shlex
import subprocess
import sys

from rebuildx.engine.buildx import buildx_argv
from rebuildx.stagex.releases import profile_for
from rebuildx.stagex.tree import load_tree


def rebuildx(*args: str) -> subprocess.CompletedProcess[str]:
    # no docker on PATH: a dry run must not need the engine
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True,
                          env={"PATH": "/nonexistent", "HOME": "/nonexistent"})


def test_dry_run_prints_each_packages_commands_in_build_order(fixture_tree):
    root = fixture_tree.root
    done = rebuildx("build", "core-hello", "--dry-run", "--tree", str(root), "--release", "2025.06.1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "# bootstrap-seed" and "# core-hello" in lines
    hello = lines[lines.index("# core-hello") + 1:]
    assert hello[:2] == ["mkdir -p packages/core/hello/fetch",
                         "(cp -lR fetch/core/hello/* packages/core/hello/fetch || true)"]
    command, tar = hello[2].split(" | ")
    expected = buildx_argv(load_tree(root).packages["core-hello"], "linux/amd64", profile=profile_for("2025.06.1"))
    assert shlex.split(command) == expected and tar == "tar -C out/core-hello -mx"
    assert "name=hello," in command  # 2025.06.1 names the image by its short name
    assert not (root / "out").exists() and not (root / "packages" / "core" / "hello" / "fetch").exists()


def test_dry_run_warns_for_a_release_newer_than_any_checked(fixture_tree):
    done = rebuildx("build", "core-hello", "-n", "--tree", str(fixture_tree.root), "--release", "2031.01.0")
    assert done.returncode == 0
    assert "newer than 2026.03.0" in done.stderr and "name=core-hello," in done.stdout


def test_dry_run_refuses_a_release_before_the_staged_layout(fixture_tree):
    done = rebuildx("build", "-n", "--tree", str(fixture_tree.root), "--release", "2024.08.1")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines()[-1].startswith("rebuildx: error: release 2024.08.1 predates 2024.12.0")


def test_dry_run_without_git_or_release_uses_the_newest_recipe(fixture_tree):
    done = rebuildx("build", "core-hello", "-n", "--tree", str(fixture_tree.root))  # PATH has no git either
    assert done.returncode == 0, done.stderr
    assert "name=core-hello," in done.stdout and "rm -rf packages/core/hello/fetch" in done.stdout
