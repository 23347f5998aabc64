"""The parsed-TOML cache is used only while a file is unchanged, and never breaks a read."""

from __future__ import annotations

import os

from rebuildx.stagex.tree import load_tree
from treegen import write_fixture_tree


def test_an_edited_package_toml_is_parsed_again(tmp_path, mirror):
    tree = write_fixture_tree(tmp_path / "stagex", mirror)
    first = load_tree(tree.root)
    cache = tree.root / ".rebuildx" / "cache" / "package-toml.json"
    assert cache.is_file()
    toml = tree.root / "packages/core/hello/package.toml"
    st = toml.stat()
    text = toml.read_text()
    edited = text.replace('version = "1.2.3"', 'version = "1.2.4"')
    assert edited != text and len(edited) == len(text)
    toml.write_text(edited)
    os.utime(toml, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size and mtime: only the ctime tells
    second = load_tree(tree.root)
    assert first.packages["core-hello"].version == "1.2.3"
    assert second.packages["core-hello"].version == "1.2.4"


def test_a_damaged_or_unwritable_cache_is_not_used(tmp_path, mirror):
    tree = write_fixture_tree(tmp_path / "stagex", mirror)
    expected = load_tree(tree.root).packages
    cache = tree.root / ".rebuildx" / "cache" / "package-toml.json"
    cache.write_text('{"format": 1, "files": {"packages/core/hello/package.toml": [[1], {"package": 5}]}}')
    assert load_tree(tree.root).packages == expected
    cache.write_bytes(b"\xff\x00 not json")
    assert load_tree(tree.root).packages == expected
    cache.unlink()
    cache.mkdir()  # neither readable nor replaceable as a file (root ignores permission bits)
    assert load_tree(tree.root).packages == expected
    assert cache.is_dir()
