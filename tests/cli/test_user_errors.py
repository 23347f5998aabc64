"""Mistakes a user makes on the command line: each one line on stderr, exit 1, no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rebuildx.errors import CheckoutError, FetchError
from rebuildx.fetch.export import collect_sources
from rebuildx.fetch.report import FetchReport
from rebuildx.stagex.checkout import prepare
from rebuildx.workspace import Workspace


def rebuildx(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def one_line_error(done: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize("args, message", [
    (("explain", "core-nothing"), r"no package 'core-nothing' in .*\(a full name: core-bash\)"),
    (("compare", "--published", "a", "--published", "b", "--published", "c"), r"--published: give one or two sources"),
    (("compare", "--published", "forge"), r"--published forge needs --release YYYY.MM.N"),
])
def test_cli_mistakes(fixture_tree, args, message):
    import re

    line = one_line_error(rebuildx(*args, "--tree", str(fixture_tree.root)))
    assert re.search(message, line), line


def test_explain_outside_a_tree_names_the_missing_package(tmp_path):
    from rebuildx.api import default_published_image
    from rebuildx.errors import RebuildxError
    from treegen import write_package

    write_package(tmp_path, "core", "x", '[package]\nname = "x"\n', "FROM scratch\n")
    with pytest.raises(RebuildxError, match=r"no package 'core-y' in the tree; give --published-image"):
        default_published_image(tmp_path, "core-y")


def test_verify_on_a_folder_that_is_not_a_checkout(tmp_path):
    with pytest.raises(CheckoutError, match=r"stagex: not a git checkout; give --repo URL to clone StageX there"):
        prepare(tmp_path / "stagex", "2026.03.0")


def test_collecting_sources_into_an_uncreatable_folder(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(FetchError, match=r"--to .*file/sub: cannot create it: Not a directory"):
        collect_sources(Workspace(tmp_path), FetchReport(()), tmp_path / "file" / "sub")
