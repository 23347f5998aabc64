"""`plan --json` of the real 2026.03.0 tree, field by field against graph.json, with the simple
file and URL templates expanded here by StageX's rule ({version}, {format}, {file})."""

from __future__ import annotations

import re

import pytest

from rebuildx.stagex.plan import make_plan
from rebuildx.stagex.releases import release_minimum
from rebuildx.stagex.tree import load_tree


def expand(template: str, values: dict[str, str]) -> str | None:
    """The template with `values` put in, or None when it uses a field not given here."""
    if set(re.findall(r"\{(\w+)\}", template)) - set(values):
        return None
    return re.sub(r"\{(\w+)\}", lambda m: values[m[1]], template)


def test_plan_json_of_the_real_tree(graph_tree, graph_data):
    doc = make_plan(load_tree(graph_tree), platform="linux/arm64").to_json()
    by_name = {p["name"]: p for p in doc["packages"]}
    origins: dict[tuple[str, str], int] = {}
    for p in graph_data["packages"]:
        origins[(p["stage"], p["origin"])] = origins.get((p["stage"], p["origin"]), 0) + 1
    assert len(by_name) == len(graph_data["packages"]) == 513
    expanded = 0
    for p in graph_data["packages"]:
        full = f"{p['stage']}-{p['name']}"
        got = by_name[full]
        assert (got["short_name"], got["stage"], got["origin"]) == (p["name"], p["stage"], p["origin"])
        assert got["version_from"] == p["version_from"]
        # version_from: the named package's version (one level, as in StageX's tree)
        named = next((q for q in graph_data["packages"] if f"{q['stage']}-{q['name']}" == p["version_from"]), None)
        assert got["version"] == (named["version"] if p["version_from"] else p["version"])
        assert got["deps"] == p["deps"]
        assert got["platform"] == (",".join(p["platforms"]) if p["platforms"] else "linux/arm64")
        assert got["subpackage"] == (origins[(p["stage"], p["origin"])] > 1 or p["name"] != p["origin"])
        assert [s["name"] for s in got["sources"]] == list(p["sources"])
        for s in got["sources"]:
            ref = p["sources"][s["name"]]
            # a field not given reads as "", as in StageX's reader
            assert (s["hash"], s["format"], s["git_sha"]) == (ref["hash"], ref.get("format", ""), ref.get("git_sha", ""))
            assert s["version"] == ref.get("version", "")
            assert len(s["urls"]) == len(ref["mirrors"]) and not any("{" in u for u in s["urls"] + [s["file"]])
            version = ref.get("version") or got["version"]
            if version is None:
                continue
            values = {"version": version, "format": ref.get("format") or ""}
            file = expand(ref["file"], values) if "file" in ref else None
            if file is not None:
                assert s["file"] == file, (full, s["name"])
                urls = [expand(m, {**values, "file": file}) for m in ref["mirrors"]]
                if None not in urls:
                    assert s["urls"] == urls, (full, s["name"])
                    expanded += 1
    assert expanded > 500  # most sources are checked in full


@pytest.mark.parametrize("release, docker, buildx", [
    (None, (29, 1, 5), (0, 30, 1)), ("2026.01.0", (29, 1, 5), (0, 30, 1)), ("2026.03.0", (29, 1, 5), (0, 30, 1)),
    ("2025.12.9", (26, 0, 0), (0, 13, 0)), ("2024.12.0", (26, 0, 0), (0, 13, 0)),
])
def test_engine_minimum_by_release(release, docker, buildx):
    assert release_minimum(release) == (docker, buildx)
