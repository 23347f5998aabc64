"""digests/<stage>.txt byte for byte, against a reader written here from the documented format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rebuildx.compare.digestfiles import parse_digest_file, write_digests
from rebuildx.errors import DigestError
from rebuildx.stagex.releases import digest_semantics
from rebuildx.workspace import Workspace


def reference_digests(out: Path, semantics: str) -> dict[str, str]:
    """StageX's documented format: per stage, '<hex> <stage>-<name>' sorted by name; the digest is
    index.json's first entry (before 2025.06.1) or the manifest that nested index names (after)."""
    files: dict[str, list[tuple[str, str]]] = {}
    for entry in out.iterdir():
        index = json.loads((entry / "index.json").read_text())
        digest = index["manifests"][0]["digest"].split(":")[1]
        if semantics == "manifest":
            nested = json.loads((entry / "blobs/sha256" / digest).read_text())
            digest = nested["manifests"][0]["digest"].split(":")[1]
        stage, name = entry.name.split("-", 1)
        files.setdefault(stage, []).append((name, digest))
    return {f"{stage}.txt": "".join(f"{d} {stage}-{n}\n" for n, d in sorted(rows)) for stage, rows in files.items()}


@pytest.mark.parametrize("release, semantics", [("2026.03.0", "manifest"), ("2025.06.1", "manifest"),
                                                ("2025.05.0", "index")])
@pytest.mark.engine
def test_digest_files_byte_for_byte(upstream, release, semantics):
    out_root = upstream.published_out.parent
    written = write_digests(Workspace(out_root), digest_semantics(release))
    expected = reference_digests(upstream.published_out, semantics)
    assert {p.name: p.read_text() for p in written.values()} == expected
    assert sorted(p.name for p in (out_root / "digests").iterdir()) == sorted(expected)


def test_unreadable_entry_is_named(tmp_path):
    (tmp_path / "out/core-broken").mkdir(parents=True)
    (tmp_path / "out/core-broken/index.json").write_text('{"manifests": []}')
    with pytest.raises(DigestError, match=r"out/core-broken: cannot read its digest"):
        write_digests(Workspace(tmp_path))


def test_bad_digest_line_names_its_line():
    with pytest.raises(DigestError, match=r"core.txt:2: not a digest line"):
        parse_digest_file("a" * 64 + " core-a\nnonsense\n", "core.txt")


def test_a_name_with_a_space_reads_back():
    line = "a" * 64 + " core-with space\n"
    assert parse_digest_file(line, "core.txt") == {"core-with space": "a" * 64}
