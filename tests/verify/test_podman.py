"""A second engine: the fixture release built entirely with Podman (Buildah), compared by content
with BuildKit's build and with the published images. Needs the real engines (scripts/setup)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rebuildx.engine.podman import probe_podman
from rebuildx.explain.content import judge_content
from rebuildx.explain.difference import CONTENT, TIMESTAMPS, Difference
from rebuildx.outcomes import ContentVerdict



@pytest.fixture(scope="module")
def podman(engine) -> str:
    """Podman must be there (scripts/setup installs it): a missing one fails, never skips."""
    return probe_podman()


def rebuildx(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=1200)


@pytest.mark.engine
def test_a_release_built_with_podman_matches_buildkit_by_content(upstream, podman, tmp_path):
    report = tmp_path / "podman.json"
    done = rebuildx("verify", "--release", "2099.01.0", "--repo", str(upstream.root), "--tree",
                    str(tmp_path / "stagex"), "-j", "2", "--engine", "podman", "--report", str(report),
                    "--explain-from", str(upstream.published_out))
    doc = json.loads(report.read_text())
    rows = {r["package"]: r for r in doc["rows"]}
    assert set(rows) == {"bootstrap-seed", "core-hello", "core-tool-a", "core-tool-b", "core-pair",
                         "pallet-hello-kit"}, done.stderr[-2000:]
    # every package built by Podman, from Podman's own deps, into its own out/ (never StageX's out/)
    podman_out = tmp_path / "stagex/.rebuildx/engines/podman/out"
    assert sorted(p.name for p in podman_out.iterdir()) == sorted(rows)
    assert all(rows[p]["podman"] and rows[p]["podman"] != rows[p]["buildkit"] for p in rows)
    # packages whose final stage copies only their own files: same content as BuildKit and as published
    for name in ("core-hello", "core-tool-a", "core-tool-b", "core-pair"):
        assert rows[name]["verdict"] == "CONTENT_MATCH", rows[name]
        assert rows[name]["vs_buildkit"]["verdict"] == rows[name]["vs_published"]["verdict"] == "CONTENT_MATCH"
    # a package that copies a whole RUN stage (`COPY --from=build / /`) keeps Buildah's /run mount point
    seed = rows["bootstrap-seed"]["vs_buildkit"]
    assert seed["verdict"] == "CONTENT_DIFF" and seed["files"] == [{"path": "run", "difference": "file set"}]
    assert done.returncode == 3, done.stderr[-2000:]
    assert "differ by construction" in done.stdout and "CONTENT_DIFF" in done.stdout
    # BuildKit's out/ entries are StageX's own, untouched by Podman
    assert sorted(p.name for p in (tmp_path / "stagex/out").iterdir()) == sorted(rows)


@pytest.mark.engine
def test_a_tampered_containerfile_differs_from_the_published_image(upstream, podman, tmp_path):
    clone = tmp_path / "stagex"
    subprocess.run(["git", "clone", "-q", "-b", "release/2099.01.0", str(upstream.root), str(clone)], check=True)
    cf = clone / "packages/core/tools/Containerfile"
    cf.write_text(cf.read_text().replace("cp /src/", "echo planted > /a/usr/bin/planted && cp /src/", 1))
    assert "planted" in cf.read_text()
    report = tmp_path / "podman.json"
    done = rebuildx("verify", "core-tool-a", "--release", "2099.01.0", "--tree", str(clone), "--allow-dirty",
                    "-j", "2", "--engine", "podman", "--report", str(report),
                    "--explain-from", str(upstream.published_out))
    assert done.returncode == 3, done.stderr[-2000:]
    row = {r["package"]: r for r in json.loads(report.read_text())["rows"]}["core-tool-a"]
    assert row["vs_published"]["verdict"] == "CONTENT_DIFF"
    assert {"path": "usr/bin/planted", "difference": "file set"} in row["vs_published"]["files"]
    assert row["vs_buildkit"]["verdict"] == "CONTENT_MATCH"  # both engines built the tampered file
    assert "usr/bin/planted" in done.stdout


def test_timestamps_alone_never_make_a_content_difference():
    files = Difference("files", "files", children=[Difference("file", "a", classification=TIMESTAMPS)])
    root = Difference("image", "image", children=[files])
    assert judge_content(root).verdict is ContentVerdict.CONTENT_MATCH
    assert judge_content(root).timestamps_only == 1
    files.children.append(Difference("file", "b", classification=CONTENT))
    assert judge_content(root).files == [("b", CONTENT)]


def test_a_runtime_config_field_is_content():
    config = Difference("config", "config", children=[Difference("field", "config.Entrypoint", '["/a"]', '["/b"]'),
                                                       Difference("field", "created", "1", "2")])
    verdict = judge_content(Difference("image", "image", children=[config]))
    assert verdict.verdict is ContentVerdict.CONTENT_DIFF and verdict.config == ["config.Entrypoint"]
