"""doctor --targets-py: the tree's own src/targets.py, run inside BuildKit (never on the host),
its Makefile compared with rebuildx's commands. The targets.py here is the test's own."""

from __future__ import annotations

import shlex

import pytest

from rebuildx.doctor.checks import Level
from rebuildx.doctor.commands import generated_command_findings
from rebuildx.engine.buildx import buildx_argv
from rebuildx.stagex.releases import NEWEST
from rebuildx.stagex.tree import load_tree
from treegen import write_fixture_tree


def _recipe(argv: list[str]) -> str:
    words = ["$(BUILDER)", "build", *("--progress=$(PROGRESS)" if w.startswith("--progress=") else shlex.quote(w)
                                      for w in argv[3:])]
    return ("out/core-hello/index.json: \\\n\tpackages/core/hello/Containerfile\n"
            "\trm -rf out/core-hello && \\\n\tmkdir -p out/core-hello && \\\n\tmkdir -p fetch/core/hello && \\\n"
            "\tpython3 src/fetch.py hello && \\\n\t" + " \\\n\t  ".join(words) + " \\\n\t| tar -C out/core-hello -mx\n")


def _targets_py(root, body: str) -> None:
    (root / "src").mkdir(exist_ok=True)
    (root / "src" / "targets.py").write_text(body)


@pytest.mark.engine
def test_the_trees_own_targets_py_runs_in_buildkit_and_is_compared(tmp_path, engine):
    root = write_fixture_tree(tmp_path / "stagex").root
    tree = load_tree(root)
    hello = tree.packages["core-hello"]
    makefile = _recipe(buildx_argv(hello, "linux/amd64"))
    _targets_py(root, "import pathlib, subprocess\n"
                      "pathlib.Path('ran-here').write_text('x')\n"  # in the copy inside BuildKit, not in the tree
                      "subprocess.run(['git', 'ls-files', 'packages'], check=True, capture_output=True)\n"
                      f"print({makefile!r}, end='')\n")
    found = generated_command_findings(root, [hello], NEWEST)
    assert found.level is Level.PASS, found.message
    assert (root / ".rebuildx" / "targets.mk").read_text() == makefile
    assert not (root / "ran-here").exists()
    _targets_py(root, f"print({makefile.replace('name=core-hello,', 'name=hello,')!r}, end='')\n")
    found = generated_command_findings(root, [hello], NEWEST)
    assert found.level is Level.WARN and "core-hello (rebuildx: name=core-hello; Makefile: name=hello)" in found.message


@pytest.mark.engine
def test_a_failing_or_missing_targets_py_is_one_failed_finding(tmp_path, engine):
    root = write_fixture_tree(tmp_path / "stagex").root
    hello = load_tree(root).packages["core-hello"]
    found = generated_command_findings(root, [hello], NEWEST)
    assert found.level is Level.FAIL and "no src/targets.py" in found.message
    _targets_py(root, "import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=5)\n")  # no network
    found = generated_command_findings(root, [hello], NEWEST)
    assert found.level is Level.FAIL and "exited 1 in BuildKit" in found.message and "Error" in found.message
