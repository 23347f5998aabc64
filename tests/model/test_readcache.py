"""The memories of a read tree (stagex/readcache.py) are used only while every file they came
from is unchanged, give exactly what a fresh read gives, and never break a read."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rebuildx.stagex import readcache, tree as tree_module
from rebuildx.stagex.model import Package, Source
from rebuildx.stagex.tree import load_tree
from treegen import write_fixture_tree, write_package

MEMO = Path(".rebuildx", "cache", "tree.json")


def _fresh(root: Path):
    """The tree as read with no memory at all."""
    for name in ("tree.json", "package-toml.json"):
        (root / ".rebuildx" / "cache" / name).unlink(missing_ok=True)
    return load_tree(root)


def _same(a, b) -> None:
    assert a.packages == b.packages and list(a.packages) == list(b.packages) and a.warnings == b.warnings
    assert {n: p.dep_lines for n, p in a.packages.items()} == {n: p.dep_lines for n, p in b.packages.items()}


def _no_reading(monkeypatch) -> None:
    """Fault injection: reading the tree's files now fails, so only the memo can answer."""
    def refuse(*args, **kwargs):
        raise AssertionError("the tree was read again")
    monkeypatch.setattr(tree_module, "_read_tree", refuse)


def _settled(root: Path) -> None:
    """Wait until the filesystem's clock is past every file of `root`, as it is by the time a
    user runs rebuildx again: only then is a tree remembered (readcache.fs_now; on a kernel
    before 6.13 a file written in the current clock tick is not)."""
    newest = max(p.stat().st_ctime_ns for p in root.rglob("*"))
    while (readcache.fs_now(root / ".rebuildx" / "cache") or 0) <= newest:
        time.sleep(0.005)


def test_an_unchanged_tree_is_not_read_again(tmp_path, mirror, monkeypatch):
    tree = write_fixture_tree(tmp_path / "stagex", mirror)
    _settled(tree.root)
    first = load_tree(tree.root)
    assert (tree.root / MEMO).is_file()
    _no_reading(monkeypatch)
    _same(load_tree(tree.root), first)


def test_an_edited_package_toml_is_parsed_again(tmp_path, mirror):
    tree = write_fixture_tree(tmp_path / "stagex", mirror)
    first = load_tree(tree.root)
    toml = tree.root / "packages/core/hello/package.toml"
    st_ = toml.stat()
    text = toml.read_text()
    edited = text.replace('version = "1.2.3"', 'version = "1.2.4"')
    assert edited != text and len(edited) == len(text)
    toml.write_text(edited)
    os.utime(toml, ns=(st_.st_atime_ns, st_.st_mtime_ns))  # same size and mtime: only the ctime tells
    second = load_tree(tree.root)
    assert first.packages["core-hello"].version == "1.2.3"
    assert second.packages["core-hello"].version == "1.2.4"
    _same(second, _fresh(tree.root))


@pytest.fixture
def coarse_fs(tmp_path):
    """A real filesystem whose timestamps are whole seconds (ext4 with 128-byte inodes; ext3 and
    HFS+ are so too, and a kernel before 6.13 stamps a clock tick): two writes in one second leave
    a file's size, mtime, ctime, inode and device as they were."""
    image, mount = tmp_path / "coarse.img", tmp_path / "coarse"
    mount.mkdir()
    with open(image, "wb") as f:
        f.truncate(64 * 2**20)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-I", "128", str(image)], check=True, capture_output=True)
    subprocess.run(["mount", "-o", "loop", str(image), str(mount)], check=True)
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


_WRITES = {  # file -> (its two same-size contents, what the tree says of each)
    "package.toml": (("1.2.3", "1.2.4"), ("1.2.3", "1.2.5"), lambda p: p.version),
    "Containerfile": (("FROM stagex/", "FROM stagey/"), ("FROM stagex/", "FROM stagex/"), lambda p: p.deps),
}


@pytest.mark.parametrize("name", sorted(_WRITES))
def test_a_second_write_within_one_timestamp_is_seen(coarse_fs, mirror, monkeypatch, name):
    tree = write_fixture_tree(coarse_fs / "stagex", mirror)
    path = tree.root / "packages/core/hello" / name
    one, two, told = _WRITES[name]
    first, second = path.read_text().replace(*one), path.read_text().replace(*two)
    expected = told(_fresh_copy(tree.root, name, second))
    assert len(first) == len(second) and told(_fresh_copy(tree.root, name, first)) != expected
    for _ in range(5):  # write, read, write again, all within one second of the filesystem's clock
        while time.time() % 1 > 0.5:
            time.sleep(0.05)
        path.write_text(first)  # in place, as an editor saving may: same inode
        before = readcache.identity(path.stat())
        load_tree(tree.root)
        path.write_text(second)
        if readcache.identity(path.stat()) == before:
            break
    else:
        pytest.fail("no two writes within one second")
    assert told(load_tree(tree.root).packages["core-hello"]) == expected
    time.sleep(1.1)  # once settled, remembered again
    load_tree(tree.root)
    _no_reading(monkeypatch)
    assert told(load_tree(tree.root).packages["core-hello"]) == expected


def _fresh_copy(root: Path, name: str, text: str) -> Package:
    """core-hello as a fresh read gives it with `text` as its file `name`, from a copy of `root`."""
    import shutil

    copy = root.parent / "fresh"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".rebuildx"))
    (copy / "packages/core/hello" / name).write_text(text)
    return load_tree(copy).packages["core-hello"]


def test_a_changed_containerfile_gives_its_new_deps(tmp_path, mirror):
    tree = write_fixture_tree(tmp_path / "stagex", mirror)
    assert "core-tool-a" not in load_tree(tree.root).packages["core-hello"].deps
    containerfile = tree.root / "packages/core/hello/Containerfile"
    containerfile.write_text(containerfile.read_text() + "COPY --from=stagex/core-tool-a . /\n")
    assert "core-tool-a" in load_tree(tree.root).packages["core-hello"].deps


def test_packages_added_and_removed_are_seen(tmp_path, mirror):
    tree = write_fixture_tree(tmp_path / "stagex", mirror)
    load_tree(tree.root)
    write_package(tree.root, "user", "late", '[package]\nname = "late"\nversion = "1"\n',
                  "FROM stagex/core-hello AS build\n")
    assert "user-late" in load_tree(tree.root).packages
    (tree.root / "packages/user/late/package.toml").unlink()
    again = load_tree(tree.root)
    assert "user-late" not in again.packages
    assert again.warnings == ["packages/user/late: Containerfile without package.toml, skipped"]


def test_warnings_are_told_again_from_the_memo(tmp_path, mirror, monkeypatch, caplog):
    tree = write_fixture_tree(tmp_path / "stagex", mirror)
    (tree.root / "packages/user/orphan").mkdir(parents=True)
    (tree.root / "packages/user/orphan/Containerfile").write_text("FROM scratch\n")
    _settled(tree.root)
    load_tree(tree.root)
    _no_reading(monkeypatch)
    caplog.clear()
    with caplog.at_level("WARNING"):
        assert load_tree(tree.root).warnings == ["packages/user/orphan: Containerfile without package.toml, skipped"]
    assert "packages/user/orphan: Containerfile without package.toml, skipped" in caplog.text


def test_a_changed_reader_reads_the_tree_again(tmp_path, mirror, monkeypatch):
    tree = write_fixture_tree(tmp_path / "stagex", mirror)
    load_tree(tree.root)
    monkeypatch.setattr(readcache, "_reader_identity", lambda: ["a newer rebuildx"])
    with pytest.raises(AssertionError, match="read again"):
        _no_reading(monkeypatch)
        load_tree(tree.root)


def test_a_tree_that_fails_to_read_leaves_no_memo(tmp_path, mirror):
    tree = write_fixture_tree(tmp_path / "stagex", mirror)
    (tree.root / "packages/core/hello/package.toml").write_text("[package\n")
    with pytest.raises(Exception, match="malformed TOML"):
        load_tree(tree.root)
    assert not (tree.root / MEMO).exists()


@pytest.mark.parametrize("damage", ["flip", "truncate", "format", "not-json", "nested", "shape"])
def test_a_damaged_memo_is_not_used(tmp_path, mirror, damage):
    tree = write_fixture_tree(tmp_path / "stagex", mirror)
    _settled(tree.root)
    expected = load_tree(tree.root)
    memo = tree.root / MEMO
    data = memo.read_bytes()
    head, _, body = data.partition(b"\n")
    if damage == "flip":  # a package's version changed on disk: its CRC no longer matches
        memo.write_bytes(data.replace(b'"1.2.3"', b'"6.6.6"'))
        assert memo.read_bytes() != data
    elif damage == "truncate":
        memo.write_bytes(data[: len(data) // 2])
    elif damage == "format":
        memo.write_bytes(head.replace(b"cache 2", b"cache 1") + b"\n" + body)
    elif damage in ("not-json", "nested"):  # nested: JSON too deep for the decoder (RecursionError)
        body = b"\xff\x00 not json" if damage == "not-json" else b"[" * 100_000 + b"]" * 100_000
        memo.write_bytes(b"rebuildx-cache 2 %08x\n" % readcache.zlib.crc32(body) + body)
    else:  # valid JSON, a right CRC, the right key, packages of another shape
        import json

        content = json.loads(body)
        content["packages"] = [["too", "short"]]
        body = json.dumps(content).encode()
        memo.write_bytes(b"rebuildx-cache 2 %08x\n" % readcache.zlib.crc32(body) + body)
    _same(load_tree(tree.root), expected)


def test_a_damaged_or_unwritable_toml_cache_is_not_used(tmp_path, mirror):
    tree = write_fixture_tree(tmp_path / "stagex", mirror)
    expected = _fresh(tree.root).packages
    cache = tree.root / ".rebuildx" / "cache" / "package-toml.json"
    body = b'{"packages/core/hello/package.toml": [[1], {"package": 5}]}'
    cache.write_bytes(b"rebuildx-cache 2 %08x\n" % readcache.zlib.crc32(body) + body)
    assert _fresh_keep_toml(tree.root).packages == expected
    cache.write_bytes(b"\xff\x00 not json")
    assert _fresh_keep_toml(tree.root).packages == expected
    body = b'{"a": ' * 100_000 + b"1" + b"}" * 100_000  # too deep to decode, its CRC right
    cache.write_bytes(b"rebuildx-cache 2 %08x\n" % readcache.zlib.crc32(body) + body)
    assert _fresh_keep_toml(tree.root).packages == expected
    cache.unlink()
    cache.mkdir()  # neither readable nor replaceable as a file (root ignores permission bits)
    assert _fresh_keep_toml(tree.root).packages == expected
    assert cache.is_dir()


def _fresh_keep_toml(root: Path):
    (root / MEMO).unlink(missing_ok=True)
    return load_tree(root)


@pytest.mark.parametrize("kind", ["fifo", "endless"])
def test_a_memo_that_is_not_a_file_neither_hangs_nor_is_used(tmp_path, mirror, kind):
    """A FIFO would block a plain open; /dev/zero would never end."""
    tree = write_fixture_tree(tmp_path / "stagex", mirror)
    _settled(tree.root)
    expected = load_tree(tree.root)
    for name in ("tree.json", "package-toml.json"):
        path = tree.root / ".rebuildx" / "cache" / name
        path.unlink()
        os.mkfifo(path) if kind == "fifo" else path.symlink_to("/dev/zero")
    _same(load_tree(tree.root), expected)


def test_a_read_only_checkout_is_read_without_a_memo(tmp_path, mirror):
    tree = write_fixture_tree(tmp_path / "stagex", mirror)
    _settled(tree.root)
    expected = load_tree(tree.root)
    (tree.root / MEMO).unlink()
    (tree.root / MEMO).mkdir()  # the memo's place is taken: it cannot be written or read
    _same(load_tree(tree.root), expected)


def test_ctrl_c_just_after_the_memo_is_written_still_stops_the_run(tmp_path, mirror, monkeypatch):
    """Fault injection: the interrupt arrives as the rename returns (its temporary file is gone)."""
    tree = write_fixture_tree(tmp_path / "stagex", mirror)
    _settled(tree.root)
    replace = os.replace

    def replace_then_interrupt(src, dst):
        replace(src, dst)
        raise KeyboardInterrupt

    monkeypatch.setattr(readcache.os, "replace", replace_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        load_tree(tree.root)
    monkeypatch.undo()
    _same(load_tree(tree.root), _fresh(tree.root))
    assert sorted(p.name for p in (tree.root / MEMO).parent.iterdir()) == ["package-toml.json", "tree.json"]


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_sources = st.builds(Source, name=_text, hash=_text, mirrors=st.tuples(_text, _text), version=_text, file=_text,
                     format=_text, git_sha=_text, size=st.none() | st.integers(0, 2**62))
_packages = st.builds(Package, stage=_text, name=_text, origin=_text, version=st.none() | _text,
                      platforms=st.lists(_text, max_size=2).map(tuple), sources=st.lists(_sources, max_size=3).map(tuple),
                      deps=st.lists(_text, max_size=4).map(tuple), subpackage=st.booleans(),
                      version_from=st.none() | _text, toml_version=st.none() | _text,
                      dep_lines=st.lists(st.integers(1, 10**6), max_size=4).map(tuple))


@settings(max_examples=200, deadline=None)
@given(st.lists(_packages, max_size=4), st.lists(_text, max_size=2))
def test_the_memo_gives_back_every_field(tmp_path_factory, packages, warnings):
    path = tmp_path_factory.mktemp("memo") / "tree.json"
    readcache.TreeMemo(path, [["packages/x/y", [1, 2, 3, 4, 5], None]]).put(packages, warnings, readcache.fs_now(path.parent))
    back = readcache.TreeMemo(path, [["packages/x/y", [1, 2, 3, 4, 5], None]]).get()
    assert back is not None
    got, told = back
    assert got == packages and [p.dep_lines for p in got] == [p.dep_lines for p in packages] and told == warnings
    assert readcache.TreeMemo(path, [["packages/x/y", [2], None]]).get() is None


def _count_toml_parses(monkeypatch) -> list[str]:
    """Fault injection's gentler twin: record each package.toml parsed (not taken from the cache)."""
    import tomllib

    parsed: list[str] = []
    real = tomllib.load

    def load(f, **kw):
        parsed.append(Path(f.name).parent.name)
        return real(f, **kw)
    monkeypatch.setattr(tomllib, "load", load)
    return parsed


def test_only_the_package_toml_that_changed_is_parsed_again(tmp_path, mirror, monkeypatch):
    """A changed Containerfile reads the tree again, but each package.toml comes from the parsed-TOML
    cache while its file is unchanged; an edited one, and only it, is parsed again."""
    tree = write_fixture_tree(tmp_path / "stagex", mirror)
    load_tree(tree.root)
    parsed = _count_toml_parses(monkeypatch)
    containerfile = tree.root / "packages/core/hello/Containerfile"
    containerfile.write_text(containerfile.read_text() + "# a comment\n")
    again = load_tree(tree.root)
    assert parsed == []
    toml = tree.root / "packages/core/hello/package.toml"
    toml.write_text(toml.read_text().replace('version = "1.2.3"', 'version = "1.2.4"'))
    third = load_tree(tree.root)
    assert parsed == ["hello"] and third.packages["core-hello"].version == "1.2.4"
    assert again.packages["core-hello"].version == "1.2.3"


def test_a_package_toml_with_a_toml_date_is_read_and_not_cached(tmp_path, mirror):
    """TOML dates have no JSON form: such a file is parsed every time, never breaking the read."""
    tree = write_fixture_tree(tmp_path / "stagex", mirror)
    toml = tree.root / "packages/core/hello/package.toml"
    toml.write_text(toml.read_text().replace("[package]\n", "[package]\nreleased = 2026-03-01\n", 1))
    assert load_tree(tree.root).packages["core-hello"].version == "1.2.3"
    cached = (tree.root / ".rebuildx/cache/package-toml.json").read_bytes().partition(b"\n")[2]
    assert b"packages/core/hello/package.toml" not in cached and b"packages/core/tools/package.toml" in cached


def test_an_edited_reader_source_file_reads_the_tree_again(tmp_path, mirror, monkeypatch):
    """The memo's key holds the identity of the reader's own source files: editing one of them (an
    upgrade, a fix) reads the tree again. Here templating.py is a copy the test can edit."""
    import shutil

    from rebuildx.stagex import templating

    copy = tmp_path / "templating.py"
    shutil.copy(templating.__file__, copy)
    monkeypatch.setattr(templating, "__file__", str(copy))
    tree = write_fixture_tree(tmp_path / "stagex", mirror)
    load_tree(tree.root)
    copy.write_text(copy.read_text() + "\n# fixed\n")
    _no_reading(monkeypatch)
    with pytest.raises(AssertionError, match="read again"):
        load_tree(tree.root)
