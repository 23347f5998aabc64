from __future__ import annotations

import os

import breakfiles
import pytest
from treegen import write_package

from rebuildx.errors import TreeError
from rebuildx.stagex.tree import containerfile_deps, load_tree

TOML = '[package]\nname = "{name}"\nversion = "1.0"\n'


def test_fixture_tree_packages(fixture_tree):
    tree = load_tree(fixture_tree.root)
    assert sorted(tree.packages) == ["bootstrap-seed", "core-hello", "core-pair", "core-tool-a",
                                     "core-tool-b", "pallet-hello-kit"]
    a = tree.packages["core-tool-a"]
    assert (a.origin, a.subpackage, a.version, a.deps) == ("tools", True, "0.9", ("bootstrap-seed",))
    kit = tree.packages["pallet-hello-kit"]
    assert kit.version == "1.2.3" and kit.version_from == "core-hello" and kit.toml_version is None
    assert kit.deps == ("bootstrap-seed", "core-hello", "core-tool-a", "core-pair")
    assert tree.packages["bootstrap-seed"].platforms == ("linux/amd64",)
    pair = tree.packages["core-pair"]
    assert [s.name for s in pair.sources] == ["alpha", "beta"]
    assert pair.sources[1].git_sha.startswith("0123")


def test_containerfile_dep_forms_as_targets_py_reads_them():
    lines = [
        "FROM stagex/core-a AS build\n",
        "FROM --platform=linux/386 stagex/bootstrap-b AS x\n",
        "COPY --from=stagex/core-c . /\n",
        "COPY --from=build /rootfs/ /\n",          # a stage, not a package
        "COPY --from=stagex/core-a . /\n",         # repeat: kept once
        "  FROM stagex/core-indented\n",           # targets.py only matches at line start
        "FROM --platform=linux/amd64 stagex/core-d\n",  # not one of targets.py's forms
        "RUN echo FROM stagex/core-e\n",
    ]
    assert containerfile_deps(lines) == [("core-a", 1), ("bootstrap-b", 2), ("core-c", 3)]


def test_skips_containerfile_without_toml(tmp_path, caplog):
    write_package(tmp_path, "core", "ok", TOML.format(name="ok"), "FROM scratch\n")
    (tmp_path / "packages/user/mesa").mkdir(parents=True)
    (tmp_path / "packages/user/mesa/Containerfile").write_text("FROM scratch\n")
    tree = load_tree(tmp_path)
    assert list(tree.packages) == ["core-ok"]
    assert tree.warnings == ["packages/user/mesa: Containerfile without package.toml, skipped"]


@pytest.mark.parametrize("toml, expected", [
    ('[package]\nname = "x\nversion = 1\n', r"packages/core/x/package.toml: package core/x: malformed TOML: .*line 2"),
    ('[package]\nversion = "1"\n', r"packages/core/x/package.toml: package core-x: \[package\]: no 'name'"),
    ('[package]\nname = "y"\n', r"package core-x: \[package\] name: 'y' differs from its directory 'x'"),
    ('[package]\nname = "x"\nversion = 3\n', r"package core-x: \[package\] version: expected a string"),
    ('[package]\nname = "x"\n[sources.s]\nhash = "abc"\nmirrors = ["http://m/f"]\n',
     r"package core-x: \[sources.s\] hash: 'abc' is not 64 lowercase hex"),
    ('[package]\nname = "x"\n[sources.s]\nhash = "' + "a" * 64 + '"\n',
     r"package core-x: \[sources.s\] mirrors: no mirrors"),
    ('[package]\nname = "x"\nversion_from = "core-nope"\n',
     r"package core-x: \[package\] version_from: no package 'core-nope' in the tree"),
])
def test_bad_package_toml_names_file_package_and_field(tmp_path, toml, expected):
    write_package(tmp_path, "core", "x", toml, "FROM scratch\n")
    with pytest.raises(TreeError, match=expected):
        load_tree(tmp_path)


def test_two_packages_with_one_full_name(tmp_path):
    write_package(tmp_path, "core", "a", '[package]\nname = "a"\nsubpackages = ["b"]\n', "FROM scratch\n")
    write_package(tmp_path, "core", "b", TOML.format(name="b"), "FROM scratch\n")
    with pytest.raises(TreeError, match=r"packages/core/b/package.toml: package core-b is also defined by "
                                        r"packages/core/a/package.toml"):
        load_tree(tmp_path)


def test_version_from_chain_and_cycle(tmp_path):
    write_package(tmp_path, "core", "a", TOML.format(name="a").replace("1.0", "7.1"), "FROM scratch\n")
    write_package(tmp_path, "core", "b", '[package]\nname = "b"\nversion_from = "core-a"\n', "FROM scratch\n")
    write_package(tmp_path, "pallet", "c", '[package]\nname = "c"\nversion_from = "core-b"\n', "FROM scratch\n")
    assert load_tree(tmp_path).packages["pallet-c"].version == "7.1"
    write_package(tmp_path, "core", "a", '[package]\nname = "a"\nversion_from = "pallet-c"\n', "FROM scratch\n")
    with pytest.raises(TreeError, match="version_from: cycle"):
        load_tree(tmp_path)


def test_not_a_tree(tmp_path):
    with pytest.raises(TreeError, match="not a StageX tree"):
        load_tree(tmp_path)


@pytest.mark.parametrize("file, message", [
    ("hello-{nope}.tgz", r"\[sources.s\] file: 'hello-\{nope\}.tgz' does not expand \(KeyError"),
    ("hello-{version", r"\[sources.s\] file: 'hello-\{version' does not expand \(ValueError"),
    # a width that would make a gigabyte-long name, or one no file system takes (NAME_MAX 255)
    ("{version:>999999999}", r"\[sources.s\] file: '\{version:>999999999\}' does not expand \(ValueError: "
                             r"format width 999999999"),
    ("{version:{version}}", r"\[sources.s\] file: .* does not expand \(ValueError: .*nested"),
    ("x" * 300 + "-{version}.tgz", r"\[sources.s\] file: 'x+-\{version\}.tgz' expands to a name of 306 bytes, "
                                   r"more than a file system takes"),
])
def test_bad_templates_are_tree_errors_at_load_time(tmp_path, file, message):
    write_package(tmp_path, "core", "x", '[package]\nname = "x"\nversion = "1"\n[sources.s]\nhash = "'
                  + "a" * 64 + f'"\nfile = "{file}"\nmirrors = ["https://m/{{file}}"]\n', "FROM scratch\n")
    with pytest.raises(TreeError, match=r"packages/core/x/package.toml: package core-x: " + message):
        load_tree(tmp_path)


def test_versioned_source_file_must_expand_as_targets_py_does(tmp_path):
    write_package(tmp_path, "core", "x", '[package]\nname = "x"\nversion = "1.2"\n[sources.s]\nhash = "'
                  + "a" * 64 + '"\nversion = "3.4"\nfile = "x-{version_major}.tgz"\nmirrors = ["https://m/{file}"]\n',
                  "FROM scratch\n")
    with pytest.raises(TreeError, match=r"\[sources.s\] file: 'x-\{version_major\}.tgz' does not expand as "
                                        r"StageX's targets.py"):
        load_tree(tmp_path)


def test_empty_subpackage_and_empty_dep_are_named(tmp_path):
    write_package(tmp_path, "core", "x", '[package]\nname = "x"\nsubpackages = ["a", ""]\n', "FROM scratch\n")
    with pytest.raises(TreeError, match=r"\[package\] subpackages: .* empty or malformed name"):
        load_tree(tmp_path)
    assert containerfile_deps(["FROM stagex/\n"]) == [("", 1)]


@pytest.mark.parametrize("file", ["package.toml", "Containerfile"])
@pytest.mark.parametrize("breaker, problem", [
    (breakfiles.fifo, "is a FIFO, not a file; replace it with the file, or remove the package directory"),
    (breakfiles.folder, "is a directory, not a file; replace it with the file, or remove the package directory"),
    (breakfiles.unix_socket, "is not a regular file, not a file; replace it with the file, or remove the package directory"),
    (breakfiles.loop, "cannot read it (Too many levels of symbolic links); make it a file, or remove the package directory"),
])
def test_a_package_file_that_is_not_a_file_is_named_with_its_fix(tmp_path, file, breaker, problem):
    """In the reading process itself (tests/hardening/test_tree_reading.py runs the CLI)."""
    write_package(tmp_path, "core", "x", '[package]\nname = "x"\n', "FROM scratch\n")
    breaker(tmp_path / "packages/core/x" / file)
    with pytest.raises(TreeError) as e:
        load_tree(tmp_path)
    assert str(e.value) == f"packages/core/x/{file}: package core-x: {problem}"


def test_an_unreadable_package_file_is_named_with_its_fix(tmp_path, monkeypatch):
    """Permissions as the kernel would judge them (os.access), whatever the user running the test."""
    write_package(tmp_path, "core", "x", '[package]\nname = "x"\n', "FROM scratch\n")
    monkeypatch.setattr(os, "access", lambda path, mode: not str(path).endswith("Containerfile"))
    with pytest.raises(TreeError) as e:
        load_tree(tmp_path)
    assert str(e.value) == ("packages/core/x/Containerfile: package core-x: cannot read it (Permission denied); "
                            "fix its permissions, or remove the package directory")


def test_a_stage_entry_that_loops_or_a_stage_that_cannot_be_listed_is_named(tmp_path, monkeypatch):
    write_package(tmp_path, "core", "x", '[package]\nname = "x"\n', "FROM scratch\n")
    assert load_tree(tmp_path).root == tmp_path
    (tmp_path / "packages/core/a").symlink_to("b")
    (tmp_path / "packages/core/b").symlink_to("a")
    with pytest.raises(TreeError) as e:
        load_tree(tmp_path)
    assert str(e.value) == "packages/core/a: cannot read it (Too many levels of symbolic links)"
    (tmp_path / "packages/core/a").unlink()
    real = os.scandir

    def refuse(path):
        if str(path).endswith("packages/core"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)
    monkeypatch.setattr(os, "scandir", refuse)
    with pytest.raises(TreeError) as e:
        load_tree(tmp_path)
    assert str(e.value) == ("packages/core: cannot read this directory (Permission denied); fix its permissions, "
                            "or remove it")
