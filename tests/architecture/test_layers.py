"""The layer contract (pyproject.toml, [tool.importlinter]) holds, and breaks when it should."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([str(LINT), "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=src.parent,
                          capture_output=True, text=True, env=env, timeout=120)


def _copy(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "rebuildx", src / "rebuildx", ignore=shutil.ignore_patterns("__pycache__"))
    return src


def test_the_tree_keeps_its_layers(tmp_path):
    done = _lint(_copy(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    src = _copy(tmp_path)
    model = src / "rebuildx" / "stagex" / "model.py"
    model.write_text(model.read_text() + "\nfrom rebuildx.cli import app  # noqa: E402,F401  (forbidden)\n")
    done = _lint(src)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout and "rebuildx.stagex.model -> rebuildx.cli" in done.stdout


def test_sibling_steps_stay_independent(tmp_path):
    src = _copy(tmp_path)
    compare = src / "rebuildx" / "compare" / "verdicts.py"
    compare.write_text(compare.read_text() + "\nimport rebuildx.build.run  # noqa: E402,F401  (forbidden)\n")
    done = _lint(src)
    assert done.returncode != 0 and "rebuildx.compare.verdicts -> rebuildx.build.run" in done.stdout
