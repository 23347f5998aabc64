"""Package directory names StageX's generated Makefile and image names cannot carry are refused
by the tree reader, naming the directory and why; every real release's names pass."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from rebuildx.errors import TreeError
from rebuildx.stagex.tree import load_tree
from shareddata import release_dir
from treegen import write_package


@pytest.mark.parametrize("origin", ["my pkg", "Hello", "a:b", "a$b", "a%b", "a#b", "-a", "a-", "a..b", "a=b",
                                    "caf\u00e9", "a\tb", "a\nb"])
def test_a_package_directory_no_make_target_or_image_name_can_carry(tmp_path, origin):
    write_package(tmp_path, "core", "good", '[package]\nname = "good"\n', "FROM scratch\n")
    write_package(tmp_path, "core", origin, f'[package]\nname = {json.dumps(origin)}\n', "FROM scratch\n")
    with pytest.raises(TreeError) as caught:
        load_tree(tmp_path)
    message = str(caught.value)
    shown = f"packages/core/{origin}/" if origin.isprintable() else repr(f"packages/core/{origin}/")
    assert message.startswith(f"{shown}: package directory name {origin!r} cannot be a make target or an image "
                              f"name (stagex/<stage>-<name>)"), message
    assert "lowercase letters and digits" in message and "rename the directory" in message
    assert "\n" not in message and "\t" not in message  # one line, whatever the name holds


def test_a_stage_directory_with_a_space(tmp_path):
    write_package(tmp_path, "my stage", "x", '[package]\nname = "x"\n', "FROM scratch\n")
    with pytest.raises(TreeError, match=r"^packages/my stage/x/: stage directory name 'my stage' cannot be"):
        load_tree(tmp_path)


def test_a_directory_that_is_not_a_package_is_left_alone(tmp_path):
    write_package(tmp_path, "core", "x", '[package]\nname = "x"\n', "FROM scratch\n")
    (tmp_path / "packages" / "core" / "old notes").mkdir()
    assert list(load_tree(tmp_path).packages) == ["core-x"]


@pytest.mark.parametrize("sub", ["X", "a b", "a:b", ""])
def test_a_subpackage_name_no_image_name_can_carry(tmp_path, sub):
    write_package(tmp_path, "core", "x", f'[package]\nname = "x"\nsubpackages = ["x-dev", {json.dumps(sub)}]\n',
                  "FROM scratch\n")
    with pytest.raises(TreeError, match=rf"\[package\] subpackages: .* holds an empty or malformed name \({sub!r}: "
                                        r"a make target and image name stagex/core-<name> takes lowercase"):
        load_tree(tmp_path)


@pytest.mark.parametrize("pinned", ["linux", "linux/386,linux/amd64", "Linux/386", "linux/386 "])
def test_a_pinned_platform_a_build_cannot_use(tmp_path, pinned):
    write_package(tmp_path, "bootstrap", "x", f'[package]\nname = "x"\nplatforms = [{json.dumps(pinned)}]\n',
                  "FROM scratch\n")
    with pytest.raises(TreeError, match=r"package bootstrap-x: \[package\] platforms: .* is not os/arch"):
        load_tree(tmp_path)


def test_every_name_of_the_real_release_passes(graph_tree, graph_data):
    """2026.03.0: every stage, origin and (sub)package name of graph.json, every target of the
    generated Makefile; the tree written from it loads whole."""
    from rebuildx.oci.names import is_component

    names = {n for p in graph_data["packages"] for n in (p["stage"], p["origin"], p["name"])}
    assert names and all(is_component(n) for n in names), sorted(n for n in names if not is_component(n))
    with gzip.open(release_dir("2026.03.0") / "targets.mk.gz", "rt") as f:
        targets = re.findall(r"^out/([^/]+)/index\.json:", f.read(), re.MULTILINE)
    assert len(targets) == 513 and all(is_component(t) for t in targets)
    assert len(load_tree(graph_tree).packages) == 513
