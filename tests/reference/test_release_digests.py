"""The real digest files of nine StageX releases, and StageX's digest semantics stated here.

The references come from outside rebuildx: the published `digests/<stage>.txt` of each release
(the project's shared data, read at test time) and StageX's own rule, written out below without
the code under test: `index.json`'s first descriptor names a nested index, whose first descriptor
names the image manifest; releases before 2025.06.1 publish the nested index's digest, releases
from 2025.06.1 on the manifest's (StageX commit 31f3d2b2).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from rebuildx.compare.digestfiles import local_digests, parse_digest_file, render_stage_files
from rebuildx.errors import DigestError
from rebuildx.oci.digest import Semantics, entry_digest
from rebuildx.stagex.releases import digest_semantics
from rebuildx.workspace import Workspace
from shareddata import RELEASES, release_dir

INDEX_RELEASES = ["2024.12.0", "2025.02.0", "2025.04.0", "2025.06.0"]
MANIFEST_RELEASES = ["2025.06.1", "2025.08.0", "2025.10.0", "2026.01.0", "2026.03.0"]


def test_the_nine_releases_are_there():
    assert sorted(INDEX_RELEASES + MANIFEST_RELEASES) == sorted(RELEASES)


@pytest.mark.parametrize("release", RELEASES)
def test_real_digest_files_round_trip_byte_for_byte(release):
    files = sorted((release_dir(release) / "digests").glob("*.txt"))
    assert files, f"{release}: no digest files"
    digests: dict[str, str] = {}
    for f in files:
        read = parse_digest_file(f.read_text(), f.name)
        assert read and all(name.startswith(f.stem + "-") for name in read)
        digests.update(read)
    rendered = render_stage_files(digests)
    assert {f"{stage}.txt": text for stage, text in rendered.items()} == {f.name: f.read_text() for f in files}


@pytest.mark.parametrize("release", RELEASES)
def test_real_digest_lines_are_sorted_by_name_within_a_stage(release):
    """Stated independently: a line is '<64 hex> <stage>-<name>' and the names ascend."""
    for f in (release_dir(release) / "digests").glob("*.txt"):
        lines = f.read_text().splitlines()
        names = [ln.split(" ", 1)[1] for ln in lines]
        assert names == sorted(names), f.name
        assert all(len(ln.split(" ", 1)[0]) == 64 for ln in lines)


@pytest.mark.parametrize("release", INDEX_RELEASES)
def test_releases_before_2025_06_1_publish_the_index_digest(release):
    assert digest_semantics(release) is Semantics.INDEX


@pytest.mark.parametrize("release", MANIFEST_RELEASES + ["2099.01.0", "2025.07.0", "2025.06.2"])
def test_releases_from_2025_06_1_on_publish_the_manifest_digest(release):
    assert digest_semantics(release) is Semantics.MANIFEST


def test_the_boundary_on_both_sides():
    assert digest_semantics("2025.06.0") is Semantics.INDEX
    assert digest_semantics("2025.06.1") is Semantics.MANIFEST
    assert digest_semantics("2025.05.9") is Semantics.INDEX
    assert digest_semantics("2024.12.5") is Semantics.INDEX


def _blob(layout: Path, doc: dict) -> str:
    data = json.dumps(doc).encode()
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs/sha256").mkdir(parents=True, exist_ok=True)
    (layout / "blobs/sha256" / digest).write_bytes(data)
    return digest


def stagex_entry(layout: Path, extra: str = "") -> tuple[str, str]:
    """An out/ entry shaped as `docker buildx build --output type=oci` writes it; returns
    (nested index digest, manifest digest), computed here from the bytes."""
    manifest = _blob(layout, {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                              "note": "manifest" + extra})
    nested = _blob(layout, {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                            "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                           "digest": f"sha256:{manifest}", "size": 1}]})
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": f"sha256:{nested}", "size": 1}]}))
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return nested, manifest


@pytest.mark.parametrize("release, which", [("2025.06.0", 0), ("2025.06.1", 1), ("2024.12.0", 0), ("2026.03.0", 1)])
def test_entry_digest_follows_the_release(tmp_path, release, which):
    expected = stagex_entry(tmp_path / "core-x")[which]
    assert entry_digest(tmp_path / "core-x", digest_semantics(release)) == f"sha256:{expected}"


def test_out_entries_starting_with_a_dot_are_ignored(tmp_path):
    nested, manifest = stagex_entry(tmp_path / "out/core-a")
    stagex_entry(tmp_path / "out/.core-b-partial", "b")
    stagex_entry(tmp_path / "out/.tmp", "c")
    assert local_digests(Workspace(tmp_path)) == {"core-a": manifest}
    assert local_digests(Workspace(tmp_path), Semantics.INDEX) == {"core-a": nested}


def test_no_out_folder_is_no_digests(tmp_path):
    assert local_digests(Workspace(tmp_path)) == {}


def test_lines_are_sorted_by_name_not_by_digest():
    digests = {"core-b": "0" * 64, "core-a": "f" * 64, "core-a-b": "1" * 64, "user-z": "2" * 64, "user-y": "e" * 64}
    files = render_stage_files(digests)
    assert files["core"] == f"{'f' * 64} core-a\n{'1' * 64} core-a-b\n{'0' * 64} core-b\n"
    assert files["user"] == f"{'e' * 64} user-y\n{'2' * 64} user-z\n"


@pytest.mark.parametrize("line", ["a" * 63 + " core-x", "a" * 65 + " core-x", "A" * 64 + " core-x",
                                  "g" * 64 + " core-x", "a" * 64 + " corex", "a" * 64, "a" * 64 + "\tcore-x",
                                  "sha256:" + "a" * 64 + " core-x"])
def test_malformed_digest_lines_are_refused(line):
    with pytest.raises(DigestError, match=r"core\.txt:2: not a digest line"):
        parse_digest_file("b" * 64 + " core-ok\n" + line + "\n", "core.txt")


def test_a_package_listed_twice_with_different_digests_is_refused():
    with pytest.raises(DigestError, match=r"core\.txt:3: core-x listed twice with different digests"):
        parse_digest_file(f"{'a' * 64} core-x\n{'b' * 64} core-y\n{'c' * 64} core-x\n", "core.txt")


def test_a_package_listed_twice_with_the_same_digest_is_one_entry():
    assert parse_digest_file(f"{'a' * 64} core-x\n\n{'a' * 64} core-x\n", "core.txt") == {"core-x": "a" * 64}


@pytest.mark.parametrize("semantics, which", [(Semantics.MANIFEST, 1), (Semantics.INDEX, 0)])
def test_write_digests_replaces_the_folder_whole(tmp_path, semantics, which):
    from rebuildx.compare.digestfiles import write_digests

    entries = {name: stagex_entry(tmp_path / "out" / name, name) for name in ("core-b", "core-a", "user-c")}
    stagex_entry(tmp_path / "out/.core-partial", "p")
    (tmp_path / "digests").mkdir()
    (tmp_path / "digests/stale.txt").write_text("old\n")
    written = write_digests(Workspace(tmp_path), semantics)
    assert written == {"core": tmp_path / "digests/core.txt", "user": tmp_path / "digests/user.txt"}
    assert {"core.txt", "user.txt"} <= {p.name for p in (tmp_path / "digests").iterdir()}
    assert (tmp_path / "digests/core.txt").read_text() == (
        f"{entries['core-a'][which]} core-a\n{entries['core-b'][which]} core-b\n")
    assert (tmp_path / "digests/user.txt").read_text() == f"{entries['user-c'][which]} user-c\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digests", "out"]  # nothing left aside
    again = write_digests(Workspace(tmp_path), semantics)
    assert again == written and sorted(p.name for p in tmp_path.iterdir()) == ["digests", "out"]


def test_write_digests_of_no_entries_is_an_empty_folder(tmp_path):
    from rebuildx.compare.digestfiles import write_digests

    assert write_digests(Workspace(tmp_path / "ws")) == {}
    assert not list((tmp_path / "ws").glob(".digests-*"))


def test_an_unreadable_entry_names_itself_and_the_semantics(tmp_path):
    (tmp_path / "out/core-bad").mkdir(parents=True)
    (tmp_path / "out/core-bad/index.json").write_text('{"manifests": []}')
    with pytest.raises(DigestError, match=r"^out/core-bad: cannot read its digest \(index\): .*no manifests$"):
        local_digests(Workspace(tmp_path), Semantics.INDEX)


def test_hex_of_and_malformed_digests():
    from rebuildx.errors import LayoutError
    from rebuildx.oci.digest import _checked, hex_of

    assert hex_of("sha256:" + "ab" * 32) == "ab" * 32
    assert hex_of("sha256:x:y") == "x:y"
    assert _checked("sha256:" + "0f" * 32, Path("w")) == "sha256:" + "0f" * 32
    for bad in ["sha256:" + "0F" * 32, "sha256:" + "0" * 63, "sha256:" + "0" * 65, "sha512:" + "0" * 64,
                "sha256" + "0" * 64, "sha256:" + "g" * 64, "0" * 64]:
        with pytest.raises(LayoutError, match=r"^w: malformed digest"):
            _checked(bad, Path("w"))


def test_blank_lines_anywhere_are_skipped_not_an_end():
    text = f"\n{'a' * 64} core-x\n\n   \n{'b' * 64} core-y\n"
    assert parse_digest_file(text, "core.txt") == {"core-x": "a" * 64, "core-y": "b" * 64}


def test_a_long_bad_line_is_quoted_to_80_characters():
    line = "z" * 200
    with pytest.raises(DigestError) as info:
        parse_digest_file(line, "core.txt")
    assert str(info.value).endswith(f": {'z' * 80!r}")


def test_digests_that_is_a_file_is_one_error_naming_it(tmp_path):
    """A checkout whose digests/ is a file (or otherwise cannot be written) gets one line naming
    the folder and the system's reason, not a traceback; the file is left as it was."""
    from rebuildx.compare.digestfiles import write_digests

    stagex_entry(tmp_path / "out" / "core-a", "core-a")
    (tmp_path / "digests").write_text("not a folder\n")
    with pytest.raises(DigestError) as e:
        write_digests(Workspace(tmp_path))
    assert str(e.value) == f"{tmp_path / 'digests'}: cannot write the digest files (File exists)"
    assert (tmp_path / "digests").read_text() == "not a folder\n"


def test_damaged_entries_names_each_entry_whose_blobs_do_not_hash_to_the_index(tmp_path):
    """An out/ entry rebuildx did not write counts only when every blob it reaches hashes to what
    its index claims: a blob altered in place is named with why, an intact entry is not."""
    from rebuildx.compare.digestfiles import damaged_entries
    from regserver import file_info, layer_tar, write_layout

    for name in ("core-ok", "core-bad"):
        digests = write_layout(tmp_path / "out" / name, [layer_tar([file_info("usr/bin/x", name.encode())])])
    layer = next(p for p in (tmp_path / "out/core-bad/blobs/sha256").iterdir()
                 if p.name not in {d.split(":")[1] for d in digests.values()})
    layer.write_bytes(layer.read_bytes()[:-1] + b"\x01")  # one byte of the layer altered in place
    found = damaged_entries(Workspace(tmp_path), ["core-ok", "core-bad"], Semantics.MANIFEST)
    assert list(found) == ["core-bad"]
    assert found["core-bad"].startswith("out/ entry is damaged, so it proves nothing (")
    assert found["core-bad"].endswith("); rebuild it") and layer.name[:12] in found["core-bad"]
    assert damaged_entries(Workspace(tmp_path), ["core-ok"], Semantics.INDEX) == {}
