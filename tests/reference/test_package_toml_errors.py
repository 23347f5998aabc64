"""Each way a package.toml or Containerfile can be wrong: one TreeError naming the file, the
package and the field, as a user would need to fix it."""

from __future__ import annotations

import re

import pytest

from rebuildx.errors import TreeError
from rebuildx.stagex.tree import containerfile_deps, load_tree
from treegen import write_package

HASH = "0" * 64
GOOD_SOURCE = f'[sources.main]\nhash = "{HASH}"\nmirrors = ["https://m/x-{{version}}.tgz"]\n'
WHERE = "packages/core/x/package.toml: package core-x: "


@pytest.mark.parametrize("toml, message", [
    ('name = "x"\n', "[package]: missing table"),
    ('[package]\nversion = "1"\n', "[package]: no 'name'"),
    ('[package]\nname = 3\n', "[package] name: expected a string, got int"),
    ('[package]\nname = "y"\n', "[package] name: 'y' differs from its directory 'x'"),
    ('[package]\nname = "x"\nversion = 1.5\n', "[package] version: expected a string, got float"),
    ('[package]\nname = "x"\nplatforms = "linux/386"\n', "[package] platforms: expected a list of strings"),
    ('[package]\nname = "x"\nplatforms = ["linux/386", 1]\n', "[package] platforms: expected a list of strings"),
    ('[package]\nname = "x"\nsubpackages = ["a", ""]\n', "[package] subpackages: ['a', ''] holds an empty or malformed name"),
    ('[package]\nname = "x"\nsubpackages = ["a b"]\n', "holds an empty or malformed name"),
    ('[package]\nname = "x"\nsubpackages = ["a/b"]\n', "holds an empty or malformed name"),
    ('sources = 3\n[package]\nname = "x"\n', "[sources]: expected a table of sources"),
    ('[package]\nname = "x"\n[sources]\nmain = 3\n', "[sources.main]: expected a table"),
    ('[package]\nname = "x"\n[sources.main]\nmirrors = ["https://m/a"]\n', "[sources.main]: no 'hash'"),
    (f'[package]\nname = "x"\n[sources.main]\nhash = "{"A" * 64}"\nmirrors = ["https://m/a"]\n',
     f"[sources.main] hash: '{'A' * 64}' is not 64 lowercase hex characters (a sha256)"),
    (f'[package]\nname = "x"\n[sources.main]\nhash = "{"0" * 63}"\nmirrors = ["https://m/a"]\n',
     "is not 64 lowercase hex characters"),
    (f'[package]\nname = "x"\n[sources.main]\nhash = "{HASH}"\nmirrors = []\n', "[sources.main] mirrors: no mirrors"),
    (f'[package]\nname = "x"\n[sources.main]\nhash = "{HASH}"\n', "[sources.main] mirrors: no mirrors"),
    (f'[package]\nname = "x"\n[sources.main]\nhash = "{HASH}"\nmirrors = "https://m/a"\n',
     "[sources.main] mirrors: expected a list of strings"),
    (f'[package]\nname = "x"\n[sources.main]\nhash = "{HASH}"\nmirrors = ["https://m/a"]\nfile = 2\n',
     "[sources.main] file: expected a string, got int"),
    (f'[package]\nname = "x"\nversion = "1"\n[sources.main]\nhash = "{HASH}"\nmirrors = ["https://m/{{file}}"]\n'
     'file = "x-{nope}.tgz"\n', "[sources.main] file: 'x-{nope}.tgz' does not expand (KeyError: 'nope')"),
    (f'[package]\nname = "x"\nversion = "1"\n[sources.main]\nhash = "{HASH}"\nmirrors = ["https://m/{{oops}}/{{file}}"]\n'
     'file = "x.tgz"\n', "[sources.main] mirrors: 'https://m/{oops}/{file}' does not expand (KeyError: 'oops')"),
    (f'[package]\nname = "x"\nversion = "1"\n[sources.main]\nhash = "{HASH}"\nmirrors = ["https://m/x-{{bad}}.tgz"]\n',
     "[sources.main] file (taken from the mirror URL): 'https://m/x-{bad}.tgz' does not expand"),
    (f'[package]\nname = "x"\nversion = "1"\n[sources.main]\nhash = "{HASH}"\nversion = "2"\n'
     'mirrors = ["https://m/{file}"]\nfile = "x-{version_major}.tgz"\n',
     "[sources.main] file: 'x-{version_major}.tgz' does not expand as StageX's targets.py expands a versioned "
     "source's file (only version, version_dash, version_under, format): KeyError"),
    ('[package]\nname = "x"\nversion_from = "core-ghost"\n', "[package] version_from: no package 'core-ghost' in the tree"),
    ('[package]\nname = "x"\nversion_from = 3\n', "[package] version_from: expected a string, got int"),
    ('[package]\nname = "x"\nsubpackages = "a"\n', "[package] subpackages: expected a list of strings"),
    *[(f'[package]\nname = "x"\n{GOOD_SOURCE}{field} = 2\n', f"[sources.main] {field}: expected a string, got int")
      for field in ("version", "format", "git_sha")],
    *[(f'[package]\nname = "x"\n{GOOD_SOURCE}size = {value}\n',
       f"[sources.main] size: expected a number of bytes, got {shown}")
      for value, shown in (("-1", "-1"), ("true", "True"), ('"10"', "'10'"), ("1.5", "1.5"))],
])
def test_package_toml_errors(tmp_path, toml, message):
    write_package(tmp_path, "core", "x", toml, "FROM scratch\n")
    with pytest.raises(TreeError) as info:
        load_tree(tmp_path)
    assert str(info.value).startswith(WHERE) and message in str(info.value), str(info.value)


def test_malformed_toml(tmp_path):
    write_package(tmp_path, "core", "x", '[package\nname = "x"\n', "FROM scratch\n")
    with pytest.raises(TreeError, match=r"^packages/core/x/package.toml: package core/x: malformed TOML: .*line 1"):
        load_tree(tmp_path)


def test_not_utf8(tmp_path):
    write_package(tmp_path, "core", "x", '[package]\nname = "x"\n', "FROM scratch\n")
    (tmp_path / "packages/core/x/package.toml").write_bytes(b'[package]\nname = "\xff"\n')
    with pytest.raises(TreeError, match=r"^packages/core/x/package.toml: package core/x: not UTF-8 text: "):
        load_tree(tmp_path)


def test_version_from_cycle_and_chain(tmp_path):
    write_package(tmp_path, "core", "a", '[package]\nname = "a"\nversion_from = "core-b"\n', "FROM scratch\n")
    write_package(tmp_path, "core", "b", '[package]\nname = "b"\nversion_from = "core-c"\n', "FROM scratch\n")
    write_package(tmp_path, "core", "c", '[package]\nname = "c"\nversion = "4.5"\n', "FROM scratch\n")
    tree = load_tree(tmp_path)
    assert [tree.packages[n].version for n in ("core-a", "core-b", "core-c")] == ["4.5", "4.5", "4.5"]
    assert tree.packages["core-a"].toml_version is None
    write_package(tmp_path, "core", "c", '[package]\nname = "c"\nversion_from = "core-a"\n', "FROM scratch\n")
    with pytest.raises(TreeError) as info:
        load_tree(tmp_path)
    m = re.fullmatch(r"packages/core/(\w)/package.toml: package core-(\w): \[package\] version_from: cycle (.*)", str(info.value))
    assert m and m[1] == m[2], str(info.value)
    chain = m[3].split(" -> ")
    assert chain[0] == chain[-1] and set(chain) == {"core-a", "core-b", "core-c"} and f"core-{m[1]}" in chain


def test_two_packages_with_one_full_name(tmp_path):
    write_package(tmp_path, "core", "a", '[package]\nname = "a"\nsubpackages = ["b"]\n', "FROM scratch\n")
    write_package(tmp_path, "core", "b", '[package]\nname = "b"\n', "FROM scratch\n")
    with pytest.raises(TreeError, match=r"packages/core/b/package.toml: package core-b is also defined by "
                                        r"packages/core/a/package.toml: two packages with one full name"):
        load_tree(tmp_path)


def test_not_a_tree_and_a_containerfile_alone(tmp_path):
    with pytest.raises(TreeError, match=r": not a StageX tree \(no packages/ directory\)"):
        load_tree(tmp_path)
    write_package(tmp_path, "core", "a", '[package]\nname = "a"\n', "FROM scratch\n")
    (tmp_path / "packages/core/lone").mkdir()
    (tmp_path / "packages/core/lone/Containerfile").write_text("FROM scratch\n")
    tree = load_tree(tmp_path)
    assert list(tree.packages) == ["core-a"]
    assert tree.warnings == ["packages/core/lone: Containerfile without package.toml, skipped"]


def test_fields_read_as_written(tmp_path):
    write_package(tmp_path, "core", "x", '[package]\nname = "x"\nversion = "1.2"\nplatforms = ["linux/386"]\n'
                  'subpackages = ["x", "x-dev"]\n' + GOOD_SOURCE + 'format = "tgz"\ngit_sha = "abc"\nversion = "9"\n'
                  'file = "f-{version}"\n', "FROM stagex/core-x AS b\n")
    write_package(tmp_path, "core", "y", '[package]\nname = "y"\n', "COPY --from=stagex/core-x . /\n")
    tree = load_tree(tmp_path)
    x = tree.packages["core-x-dev"]
    assert (x.name, x.origin, x.subpackage, x.version, x.platforms) == ("x-dev", "x", True, "1.2", ("linux/386",))
    [s] = x.sources
    assert (s.name, s.hash, s.mirrors, s.version, s.file, s.format, s.git_sha) == (
        "main", HASH, ("https://m/x-{version}.tgz",), "9", "f-{version}", "tgz", "abc")
    assert tree.packages["core-y"].deps == ("core-x",) and tree.packages["core-y"].dep_lines == (1,)
    assert tree.packages["core-y"].sources == () and tree.packages["core-y"].version is None


@pytest.mark.parametrize("line, dep", [
    ("COPY --from=stagex/core-a . /", "core-a"),
    ("COPY --from=stagex/core-a /usr /usr", "core-a"),
    ("COPY --from=build /rootfs/ /", None),
    ("COPY --chown=0:0 --from=stagex/core-a . /", None),  # targets.py reads the second word only
    ("COPY . /", None),
    ("FROM stagex/core-b AS build", "core-b"),
    ("FROM stagex/core-b", "core-b"),
    ("FROM --platform=linux/386 stagex/bootstrap-c AS x", "bootstrap-c"),
    ("FROM --platform=linux/amd64 stagex/core-b", None),
    ("FROM scratch AS package", None),
    ("  FROM stagex/core-b", None),
    ("\tCOPY --from=stagex/core-a . /", None),
    ("from stagex/core-b", None),
    ("RUN echo FROM stagex/core-b", None),
    ("COPY", None),
    ("COPYstagex/core-a", None),  # one word naming stagex/: no second word to read
    ("COPY --from=stagex/core-a", "core-a"),
    ("COPY --from stagex/core-a . /", None),
    ("COPY\t--from=stagex/core-a . /", None),  # split on spaces only, as targets.py does
    ("FROM --platform=linux/386 stagex/bootstrap-c", "bootstrap-c"),
])
def test_dep_lines_as_targets_py_reads_them(line, dep):
    assert containerfile_deps([line + "\n"]) == ([(dep, 1)] if dep else [])


def test_repeats_are_dropped_first_kept():
    lines = ["FROM stagex/core-a AS b\n", "COPY --from=stagex/core-b . /\n", "COPY --from=stagex/core-a . /\n",
             "FROM stagex/core-c\n"]
    assert containerfile_deps(lines) == [("core-a", 1), ("core-b", 2), ("core-c", 4)]


@pytest.mark.parametrize("size", [0, 1234])
def test_a_source_size_is_read_as_written(tmp_path, size):
    """`size` bounds what fetch downloads (issue 16); 0 is a size, as is any whole number."""
    write_package(tmp_path, "core", "x", f'[package]\nname = "x"\nversion = "1"\n{GOOD_SOURCE}size = {size}\n',
                  "FROM scratch\n")
    (source,) = load_tree(tmp_path).packages["core-x"].sources
    assert source.size == size
