from __future__ import annotations

from rebuildx.stagex.model import Source
from rebuildx.stagex.templating import version_forms


def test_version_forms_as_stagex_derives_them():
    assert version_forms("1.2.3-rc1") == {
        "version": "1.2.3-rc1", "version_under": "1_2_3-rc1", "version_dash": "1-2-3-rc1",
        "version_major": "1", "version_major_minor": "1.2", "version_strip_suffix": "1.2.3",
    }
    assert version_forms("5")["version_major_minor"] == "None"  # StageX's helper returns None
    assert version_forms(None)["version"] == "None" and version_forms(None)["version_dash"] == ""


def test_fetch_file_and_url_use_source_version_else_package_version():
    s = Source(name="x", hash="0" * 64, mirrors=("https://m/{version_major}/{file}",),
               file="x-{version_under}.{format}", format="tar.xz")
    assert s.fetch_file(s.mirrors[0], "3.4.5") == "x-3_4_5.tar.xz"
    assert s.fetch_url(s.mirrors[0], "3.4.5") == "https://m/3/x-3_4_5.tar.xz"
    own = Source(name="x", hash="0" * 64, mirrors=("https://m/d/y-{version}.tgz",), version="9.9")
    # no `file`: the mirror URL's last path segment names the file
    assert own.fetch_file(own.mirrors[0], "1.0") == "y-9.9.tgz"


def test_build_file_uses_the_packages_dash_and_under_forms_as_targets_py_does():
    s = Source(name="x", hash="0" * 64, mirrors=("https://m/{file}",), version="2.0",
               file="x-{version}-{version_dash}.tgz")
    assert s.build_file("1.5") == "x-2.0-1-5.tgz"  # targets.py: source version, package dash
    assert s.fetch_file(s.mirrors[0], "1.5") == "x-2.0-2-0.tgz"  # fetch.py: the source's own
    bad = Source(name="x", hash="0" * 64, mirrors=("https://m/{file}",), version="2.0", file="x-{version_major}")
    import pytest
    with pytest.raises(KeyError):
        bad.build_file("1.5")


def test_expand_checks_the_width_of_every_field_and_allows_up_to_255():
    """Every format spec is checked, not only those before the first field without one; a spec
    without a number (`{version:s}`) is fine; a width of 255 (a file name's longest) is allowed."""
    import pytest

    from rebuildx.stagex.templating import MAX_WIDTH, expand

    values = {"version": "1.2", "format": "tar.gz"}
    with pytest.raises(ValueError, match=f"format width 999999999 in {{version:>999999999}} is over {MAX_WIDTH}"):
        expand("x-{version}.{version:>999999999}", values)
    assert expand("x-{version:s}.{format}", values) == "x-1.2.tar.gz"
    assert expand(f"{{version:>{MAX_WIDTH}}}", values) == " " * (MAX_WIDTH - 3) + "1.2"
