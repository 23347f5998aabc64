"""Issue 12 as a careless or hostile user tries it: every bad input is one RebuildxError (one
line from the CLI), and nothing is left half-written."""

from __future__ import annotations

from pathlib import Path

import pytest

from rebuildx import api
from rebuildx.errors import RebuildxError


@pytest.mark.parametrize("name", ["", "k" * 253])  # no file name at all; a .pub name over NAME_MAX
def test_keygen_into_an_unusable_name_is_one_error_and_leaves_nothing(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RebuildxError):
        api.attest_keygen(Path(name))
    assert list(tmp_path.iterdir()) == []  # no private key left without its .pub
