"""`rebuildx build --dry-run`: the commands a build would run, as `make -n` prints them; no engine,
nothing written, exit 0."""

from __future__ import annotations

import shlex
import subprocess
import sys

import pytest

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


def test_dry_run_before_any_build_lists_every_command(fixture_tree):
    """No state DB yet: everything would build (and the DB is not created)."""
    done = rebuildx("build", "core-hello", "-n", "--tree", str(fixture_tree.root))
    assert done.returncode == 0 and "up to date" not in done.stdout
    assert done.stdout.count("docker buildx build") == 2
    assert not (fixture_tree.root / ".rebuildx/state.sqlite").exists()


def dry(root, *args: str) -> dict[str, str]:
    """`build core-hello -n`, as {package: "up to date", "builds", or "builds only if <deps> change"}."""
    done = subprocess.run([sys.executable, "-m", "rebuildx", "build", "core-hello", "-n", "--tree", str(root),
                           *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    steps: dict[str, str] = {}
    lines = done.stdout.splitlines()
    for n, line in enumerate(lines):
        if line.startswith("# up to date: out/"):
            steps[line.removeprefix("# up to date: out/")] = "up to date"
        elif line.startswith("# "):
            name, _, condition = line[2:].partition(" ")
            commands = next((rest for rest in lines[n + 1:] if rest.startswith("# ") or "docker buildx" in rest), "")
            assert "docker buildx build" in commands, lines  # its commands follow
            steps[name] = f"builds {condition}".strip()
    return steps


def fingerprint(root) -> dict:
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in (root / ".rebuildx").rglob("*") if p.is_file()
            } | {p: p.stat().st_mtime_ns for p in (root / "out").rglob("*")}


def build(root) -> str:
    done = subprocess.run([sys.executable, "-m", "rebuildx", "build", "core-hello", "--tree", str(root)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


@pytest.mark.engine
def test_dry_run_marks_what_a_build_would_not_run(engine, fixture_tree):
    """As `make -n`: commands only for what `build` would run (forced, changed, or, only if its
    digest changes, a dep that builds), the rest marked `# up to date: out/<name>`; the real
    build then does what the dry run said."""
    root = fixture_tree.root
    build(root)
    before = fingerprint(root)
    assert dry(root) == {"bootstrap-seed": "up to date", "core-hello": "up to date"}
    assert dry(root, "--force") == {"bootstrap-seed": "up to date", "core-hello": "builds"}  # the selection
    assert dry(root, "--cold") == {"bootstrap-seed": "builds", "core-hello": "builds"}
    assert fingerprint(root) == before  # nothing written: no stamp renewed, no entry touched
    seed = root / "packages/bootstrap/seed/Containerfile"
    seed.write_text(seed.read_text() + "# a comment: the same image\n")
    waits = "builds (only if out/bootstrap-seed comes out changed)"
    assert dry(root) == {"bootstrap-seed": "builds", "core-hello": waits}
    assert build(root) == "2 packages: 1 built, 1 up-to-date"  # the seed came out the same
    seed.write_text(seed.read_text().replace("FROM scratch AS package", 'RUN ["/bin/busybox", "mkdir", "/new"]\n'
                                                                        "FROM scratch AS package"))
    assert dry(root) == {"bootstrap-seed": "builds", "core-hello": waits}
    assert build(root) == "2 packages: 2 built"  # it did not
