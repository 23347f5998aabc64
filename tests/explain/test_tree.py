"""Final file trees with whiteouts (OCI image spec, layer.md), pure."""

from __future__ import annotations

from rebuildx.explain.layers import Entry, normalize
from rebuildx.explain.tree import final_tree


def e(path: str, kind: str = "file", layer: int = 0) -> Entry:
    return Entry(path, kind, 0o644, 0, 0, "", "", 0, None, "", 1.0, None, (), layer)


def paths(*layers: list[Entry]) -> list[str]:
    return sorted(final_tree(layers))


def test_whiteout_removes_a_file_and_a_directory_with_its_contents():
    lower = [e("etc", "dir"), e("etc/a"), e("etc/b"), e("opt", "dir"), e("opt/x"), e("opt/sub", "dir"), e("opt/sub/y")]
    assert paths(lower, [e("etc/.wh.a"), e(".wh.opt")]) == ["etc", "etc/b"]


def test_opaque_directory_hides_lower_layers_only():
    lower = [e("d", "dir"), e("d/old"), e("d/sub", "dir"), e("d/sub/deep"), e("other")]
    upper = [e("d", "dir"), e("d/.wh..wh..opq"), e("d/new")]
    assert paths(lower, upper) == ["d", "d/new", "other"]


def test_later_layer_wins_and_a_file_replacing_a_directory_hides_it():
    tree = final_tree([[e("a", "dir"), e("a/child"), e("f", layer=0)], [e("a", "symlink", 1), e("f", layer=1)]])
    assert sorted(tree) == ["a", "f"] and tree["a"].type == "symlink" and tree["f"].layer == 1


def test_names_are_normalised_as_a_runtime_writes_them():
    assert normalize("./usr/bin/x") == ("usr/bin/x", ())
    assert normalize("./") == (".", ())
    path, notes = normalize("../../etc/passwd")
    assert path == "etc/passwd" and "clamped" in notes[0]
    assert normalize("/abs//x/./y")[0] == "abs/x/y"
