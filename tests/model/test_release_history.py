"""Hints across releases: which releases published the files of a mismatching rebuild."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from rebuildx.compare.hints import with_release_hints
from rebuildx.compare.verdicts import Comparison, PackageVerdict
from rebuildx.oci.digest import Semantics
from rebuildx.outcomes import Verdict
from rebuildx.stagex.history import cross_release_hint, read_release_digests, releases_publishing, spans
from rebuildx.workspace import Workspace
from shareddata import shared_data

STAGE0_MANIFEST = "5cda98227cbff1e2904698fa52ebb1ec9758b9a908ec52ade7b079710d48e51b"  # 2025.06.1 – 2025.10.0
STAGE0_INDEX = "4688802728e148d25de4d0783d84e717b589ec6117d0782220e2f8852a94e1cc"  # 2025.04.0 – 2025.06.0


def _shared_history() -> dict[str, dict[str, str]]:
    history: dict[str, dict[str, str]] = {}
    releases = sorted(shared_data().glob("stagex-*"))
    assert len(releases) >= 9, f"{shared_data()}: the release data is missing"
    for data in releases:
        found = history.setdefault(data.name.removeprefix("stagex-"), {})
        for stage_file in (data / "digests").glob("*.txt"):
            for line in stage_file.read_text().splitlines():
                digest, name = line.split()
                found[name] = digest
    return history


def test_spans_join_consecutive_releases():
    known = ["2025.04.0", "2025.06.0", "2025.06.1", "2025.08.0", "2026.01.0"]
    assert spans(["2025.06.0", "2025.06.1", "2025.08.0"], known) == "2025.06.0–2025.08.0"
    assert spans(["2025.04.0", "2025.08.0", "2026.01.0"], known) == "2025.04.0, 2025.08.0–2026.01.0"
    assert spans([], known) == ""


def test_each_release_is_matched_with_the_digest_it_published():
    history = _shared_history()
    ours = {Semantics.MANIFEST: f"sha256:{STAGE0_MANIFEST}", Semantics.INDEX: f"sha256:{STAGE0_INDEX}"}
    assert releases_publishing("bootstrap-stage0", ours, history) == [
        "2025.04.0", "2025.06.0", "2025.06.1", "2025.08.0", "2025.10.0"]
    hint = cross_release_hint("bootstrap-stage0", ours, history)
    assert hint is not None and hint.startswith("these files are the ones published in 2025.04.0–2025.10.0")
    assert cross_release_hint("bootstrap-stage0", {Semantics.MANIFEST: "sha256:" + "0" * 64}, history) is None


def _layout(entry: Path, manifest_hex: str) -> None:
    """An out/ entry: index.json -> nested index -> manifest (the manifest blob is not read)."""
    blobs = entry / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    nested = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                         "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                        "digest": f"sha256:{manifest_hex}", "size": 1}]}).encode()
    nested_hex = hashlib.sha256(nested).hexdigest()
    (blobs / nested_hex).write_bytes(nested)
    (entry / "index.json").write_text(json.dumps({
        "schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
                                           "digest": f"sha256:{nested_hex}", "size": len(nested)}]}))
    (entry / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')


def _whole_layout(entry: Path) -> str:
    """An out/ entry whose every blob is there (compare --any-out checks them); its manifest hex."""
    blobs = entry / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def blob(doc: dict) -> dict:
        data = json.dumps(doc).encode()
        hexd = hashlib.sha256(data).hexdigest()
        (blobs / hexd).write_bytes(data)
        return {"mediaType": doc.get("mediaType", "application/vnd.oci.image.config.v1+json"),
                "digest": f"sha256:{hexd}", "size": len(data)}

    config = blob({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}})
    manifest = blob({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                     "config": config, "layers": []})
    nested = blob({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": [manifest]})
    (entry / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [nested]}))
    (entry / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    return manifest["digest"].split(":")[1]


def test_a_mismatch_whose_files_another_release_published_says_so(tmp_path):
    ws = Workspace(tmp_path)
    _layout(ws.out_entry("bootstrap-stage0"), STAGE0_MANIFEST)
    _layout(ws.out_entry("core-bash"), "1" * 64)
    comparison = Comparison([
        PackageVerdict("bootstrap-stage0", Verdict.MISMATCH, STAGE0_MANIFEST, "cee5701e9d52" + "0" * 52),
        PackageVerdict("core-bash", Verdict.MISMATCH, "1" * 64, "2" * 64),
        PackageVerdict("core-zlib", Verdict.MISMATCH, "3" * 64, "4" * 64),  # no out/ entry: no hint, no error
    ])
    hinted = with_release_hints(comparison, ws, _shared_history())
    notes = {v.package: v.note for v in hinted.verdicts}
    assert notes["bootstrap-stage0"] is not None and "published in 2025.06.1–2025.10.0" in notes["bootstrap-stage0"]
    assert notes["core-bash"] is None and notes["core-zlib"] is None


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   check=True, capture_output=True)


def test_release_digests_are_read_from_the_checkouts_branches_and_tags(tmp_path):
    root = tmp_path / "stagex"
    (root / "digests").mkdir(parents=True)
    _git(root, "init", "-q")
    for release, digest in (("2025.06.0", "a" * 64), ("2025.06.1", "b" * 64), ("2026.01.0", "c" * 64)):
        (root / "digests" / "bootstrap.txt").write_text(f"{digest} bootstrap-stage0\n")
        (root / "digests" / "core.txt").write_text(f"{'d' * 64} core-bash\nnot a digest line\n")
        _git(root, "add", "-A")
        _git(root, "commit", "-qm", release)
        if release == "2025.06.1":
            _git(root, "branch", f"release/{release}")
        else:
            _git(root, "tag", release)
    _git(root, "tag", "v1")  # not a release
    history = read_release_digests(root)
    assert sorted(history) == ["2025.06.0", "2025.06.1", "2026.01.0"]
    assert history["2025.06.1"] == {"bootstrap-stage0": "b" * 64, "core-bash": "d" * 64}
    assert read_release_digests(tmp_path / "not-git") == {}


def test_compare_names_the_releases_that_published_a_mismatchs_files(tmp_path):
    import sys

    from treegen import write_fixture_tree

    root = write_fixture_tree(tmp_path / "stagex").root
    ours = _whole_layout(Workspace(root).out_entry("bootstrap-seed"))  # what 2025.06.1 and 2025.08.0 published
    (root / "digests").mkdir()
    _git(root, "init", "-q")
    for release, digest in (("2025.06.1", ours), ("2025.08.0", ours), ("2026.01.0", "b" * 64)):
        (root / "digests" / "bootstrap.txt").write_text(f"{digest} bootstrap-seed\n")
        _git(root, "add", "-A")
        _git(root, "commit", "--allow-empty", "-qm", release)
        _git(root, "tag", release)
    done = subprocess.run([sys.executable, "-m", "rebuildx", "compare", "bootstrap-seed", "--any-out",
                           "--tree", str(root)], capture_output=True, text=True)
    assert done.returncode == 3, done.stdout + done.stderr  # MISMATCH against HEAD's (2026.01.0's) digests
    assert "bootstrap-seed: these files are the ones published in 2025.06.1–2025.08.0" in done.stdout
