"""Classification, the JSON document and the presenters, on hand-made trees (pure)."""

from __future__ import annotations

import io
import json
from dataclasses import replace

from rich.console import Console

from rebuildx.explain import (CONTENT, FILE_SET, METADATA, TIMESTAMPS, Difference, from_json, render_json,
                              render_markdown, render_terminal, to_json)
from rebuildx.explain.compare import compare_documents, compare_trees
from rebuildx.explain.layers import Entry

BASE = Entry("usr/bin/x", "file", 0o755, 0, 0, "root", "root", 5, "aa" * 32, "", 1.0, None, (), 0)


def classes(published: list[Entry], local: list[Entry]) -> dict[str, str]:
    node = compare_trees({x.path: x for x in published}, {x.path: x for x in local})
    return {f.name: f.classification for f in node.children} if node else {}


def test_classification_of_each_kind_of_difference():
    same_size = replace(BASE, sha256="bb" * 32)
    assert classes([BASE], [same_size]) == {"usr/bin/x": CONTENT}  # equal size is not equal content
    assert classes([BASE], [replace(BASE, uid=1000)]) == {"usr/bin/x": METADATA}
    assert classes([BASE], [replace(BASE, pax=(("SCHILY.xattr.security.capability", "x"),))]) == {"usr/bin/x": METADATA}
    assert classes([BASE], [replace(BASE, mtime=2.0, pax=(("atime", "5"),))]) == {"usr/bin/x": TIMESTAMPS}
    assert classes([BASE], [replace(BASE, mtime=2.0, mode=0o700)]) == {"usr/bin/x": METADATA}
    assert classes([BASE], [replace(BASE, type="symlink", sha256=None, linkname="y")]) == {"usr/bin/x": CONTENT}
    assert classes([BASE], []) == {"usr/bin/x": FILE_SET}
    assert classes([BASE], [replace(BASE, layer=3)]) == {}  # another layer, same final file


def test_documents_are_compared_field_by_field():
    a = {"config": {"Env": ["A=1"]}, "history": [{"created": "1970"}, {"created_by": "RUN x"}]}
    b = {"config": {"Env": ["A=2"]}, "history": [{"created": "2024"}, {"created_by": "RUN x"}]}
    node = compare_documents("config", ("sha256:1", a), ("sha256:2", b))
    assert [(c.name, c.published, c.local) for c in node.children] == [
        ("config.Env", '["A=1"]', '["A=2"]'), ("history[0].created", '"1970"', '"2024"')]
    assert compare_documents("config", ("sha256:1", a), ("sha256:1", a)) is None


def sample() -> Difference:
    files = [Entry(f"f{i}", "file", 0o644, 0, 0, "", "", 1, f"{i:064x}", "", 1.0, None, (), 0) for i in range(5)]
    changed = [replace(f, sha256="ff" * 32) if i < 2 else replace(f, mtime=9.0) for i, f in enumerate(files)]
    node = compare_trees({f.path: f for f in files}, {f.path: f for f in changed})
    root = Difference("image", "core-x", "reg/x@sha256:1", "out/core-x", CONTENT, ["manifest a vs b"], [node],
                      dict(node.counts))
    return root


def test_json_reads_back_and_keeps_counts_when_cut():
    root = sample()
    assert from_json(json.loads(render_json(root))) == root
    cut = from_json(to_json(root, max_files=2))
    assert [f.name for f in cut.files()] == ["f0", "f1"] and cut.child("files").omitted == 3
    assert cut.counts == {CONTENT: 2, TIMESTAMPS: 3} and to_json(cut) == to_json(root, max_files=2)


def test_presenters_list_the_first_files_then_counts():
    root = sample()
    md = render_markdown(root, max_files=3)
    assert "**Verdict:** content: 5 files differ (2 content, 3 timestamps only)" in md
    assert "| content | `f0` | sha256 |" in md and "… and 2 more files." in md
    out = io.StringIO()
    render_terminal(root, Console(file=out, width=160), max_files=3)
    text = out.getvalue()
    assert "core-x: content: 5 files differ" in text
    assert "… and 2 more files (content 2, timestamps only 3 in all)" in text
    assert "f3" not in text
