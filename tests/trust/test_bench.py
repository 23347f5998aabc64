"""bench/signatures.py's real-file pass, on a generated signatures folder shaped like StageX's
(the real files cannot be committed): its counts and its release check must hold."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sigtree import write_sigtree

BENCH = Path(__file__).resolve().parents[2] / "bench" / "signatures.py"
_spec = importlib.util.spec_from_file_location("bench_signatures", BENCH)
assert _spec and _spec.loader
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_real_file_pass_counts_and_checks(keys, tmp_path, capsys):
    t = write_sigtree(tmp_path / "repo", keys, tmp_path / "outside")
    digests = tmp_path / "2026.01.0" / "digests"
    digests.mkdir(parents=True)
    (digests / "core.txt").write_text("".join(f"{d} {n}\n" for n, d in sorted(t.published.items())))
    bench.real_files(t.root, digests)
    out = capsys.readouterr().out
    assert "real files: 32 in 18 folders" in out
    assert "payload names another image or digest than its folder: 2" in out  # copied, other digest
    assert "release check: 18 packages of the digests files, 1 without a signatures folder" in out
