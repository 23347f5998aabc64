"""A tree that cannot be read names the package that is broken, in one line, before any work
(issue 16: unreadable, FIFO, directory and looping package files; source files leaving fetch/)."""

from __future__ import annotations

import subprocess
import sys

import breakfiles
import pytest

DROP_DAC = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
            "--inh-caps", "-dac_override,-dac_read_search"]  # root that file modes apply to


def rebuildx(*args: str, prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*(prefix or []), sys.executable, "-m", "rebuildx", *args], capture_output=True,
                          text=True, timeout=120)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize("file", ["package.toml", "Containerfile"])
@pytest.mark.parametrize("breaker, problem", [(breakfiles.fifo, "is a FIFO, not a file"),
                                              (breakfiles.loop, "cannot read it (Too many levels of symbolic links)"),
                                              (breakfiles.folder, "is a directory, not a file"),
                                              (breakfiles.unreadable, "cannot read it (Permission denied); fix its permissions")])
def test_broken_package_file_is_reported_itself(fixture_tree, file, breaker, problem):
    breaker(fixture_tree.root / "packages/core/hello" / file)
    line = one_error_line(rebuildx("plan", "--tree", str(fixture_tree.root), prefix=DROP_DAC))
    assert line.startswith(f"rebuildx: error: packages/core/hello/{file}: package core-hello: {problem}"), line
    assert "hello-kit" not in line


def test_unreadable_package_directory_is_reported_itself(fixture_tree):
    (fixture_tree.root / "packages/core/hello").chmod(0)
    line = one_error_line(rebuildx("plan", "--tree", str(fixture_tree.root), prefix=DROP_DAC))
    assert "packages/core/hello" in line and "Permission denied" in line and "hello-kit" not in line


@pytest.mark.parametrize("field, value", [("file", "../../x/hello-{version}.{format}"), ("file", "/etc/passwd"),
                                          ("file", "a/b.tar.gz"), ("format", "../../tar.gz")])
@pytest.mark.parametrize("verb", [["plan"], ["doctor", "--air-gapped"], ["fetch"]])
def test_source_file_leaving_fetch_is_refused_where_the_tree_is_read(fixture_tree, field, value, verb):
    toml = fixture_tree.root / "packages/core/hello/package.toml"
    text = toml.read_text()
    old = 'file = "hello-{version}.{format}"' if field == "file" else 'format = "tar.gz"'
    toml.write_text(text.replace(old, f'{field} = "{value}"'))
    line = one_error_line(rebuildx(*verb, "hello", "--tree", str(fixture_tree.root)))
    assert line.startswith("rebuildx: error: packages/core/hello/package.toml: package core-hello: "
                           "[sources.hello] file"), line
    assert "it would not stay in the fetch directory" in line


def test_a_package_file_that_is_a_symlink_to_nothing_names_its_target(fixture_tree):
    path = fixture_tree.root / "packages/core/hello/Containerfile"
    path.unlink()
    path.symlink_to("Containerfile.moved")
    line = one_error_line(rebuildx("plan", "--tree", str(fixture_tree.root)))
    assert line == ("rebuildx: error: packages/core/hello/Containerfile: package core-hello: a symlink to nothing "
                    "(Containerfile.moved); fix it or remove the package directory")


def test_a_package_directory_that_is_a_symlink_loop_is_named(fixture_tree):
    stage = fixture_tree.root / "packages/core"
    (stage / "loop").symlink_to("loop2")
    (stage / "loop2").symlink_to("loop")
    line = one_error_line(rebuildx("plan", "--tree", str(fixture_tree.root)))
    assert line.startswith("rebuildx: error: packages/core/loop") and "cannot read it (Too many levels of symbolic links)" in line
