"""StageX's version forms (src/common.py, WithVersion), written out here for each shape of
version: the expected values come from StageX's rules, not from running rebuildx."""

from __future__ import annotations

import pytest

from rebuildx.stagex.templating import expand, url_file, version_forms

KEYS = ["version", "version_under", "version_dash", "version_major", "version_major_minor", "version_strip_suffix"]


@pytest.mark.parametrize("version, forms", [
    ("1.2.3", ["1.2.3", "1_2_3", "1-2-3", "1", "1.2", "1.2.3"]),
    ("1.2", ["1.2", "1_2", "1-2", "1", "1.2", "1.2"]),
    ("7", ["7", "7", "7", "7", "None", "7"]),
    ("2.0.1-rc1-x", ["2.0.1-rc1-x", "2_0_1-rc1-x", "2-0-1-rc1-x", "2", "2.0", "2.0.1"]),
    ("v1.2.3.4", ["v1.2.3.4", "v1_2_3_4", "v1-2-3-4", "v1", "v1.2", "v1.2.3.4"]),
    ("abc-def", ["abc-def", "abc-def", "abc-def", "abc-def", "None", "abc"]),
    ("", ["", "", "", "", "", ""]),
    (None, ["None", "", "", "", "", ""]),
])
def test_version_forms(version, forms):
    assert version_forms(version) == dict(zip(KEYS, forms, strict=True))


@pytest.mark.parametrize("mirror, name", [
    ("https://ftp.gnu.org/gnu/m4/{file}", "{file}"),
    ("https://example.org/a/b/x-{version}.tar.gz?download=1#frag", "x-{version}.tar.gz"),
    ("https://example.org/", ""),
    ("https://example.org", ""),
])
def test_url_file_is_the_last_path_segment(mirror, name):
    assert url_file(mirror) == name


def test_expand_takes_named_values_only():
    assert expand("{a}-{b}", {"a": "1", "b": "2", "c": "3"}) == "1-2"
    with pytest.raises(KeyError):
        expand("{missing}", {})
    with pytest.raises(IndexError):
        expand("{}", {"a": "1"})
