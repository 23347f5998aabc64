"""Presenters of a `Comparison`: terminal table, `diff -u`, JSON, JUnit XML."""

from __future__ import annotations

import difflib
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

from rebuildx.compare.verdicts import Comparison, Verdict
from rebuildx.compare.digestfiles import render_stage_files
from rebuildx.errors import RebuildxError

_STYLE = {"MATCH": "green", "MISMATCH": "bold red", "FAILED": "red", "NOT_BUILT": "yellow", "UNPUBLISHED": "cyan",
          "UNSTABLE": "bold magenta"}


def table(comparison: Comparison):  # -> rich renderable
    from rich.table import Table

    t = Table(box=None, header_style="bold")
    for col in ("package", "verdict", "local", "published", "deps"):
        t.add_column(col)
    for v in comparison.verdicts:
        t.add_row(v.package, f"[{_STYLE[v.verdict.value]}]{v.verdict.value}[/]",
                  (v.local or "-")[:12], (v.published or "-")[:12], v.deps_from)
    return t


def notes(comparison: Comparison) -> list[str]:
    """`<package>: <note>` for each MISMATCH with a note (another release published its files)."""
    return [f"{v.package}: {v.note}" for v in comparison.verdicts if v.verdict.value == "MISMATCH" and v.note]


def summary_line(comparison: Comparison) -> str:
    """In the spirit of `guix challenge`: counts, and the share of what was built that matched."""
    s = comparison.summary()
    pct = f"{s['reproduced_percent']}% reproduced of {s['MATCH'] + s['MISMATCH'] + s['UNSTABLE']} compared" \
        if s["reproduced_percent"] is not None else "nothing compared"
    return (f"{s['total']} packages: {s['MATCH']} match, {s['MISMATCH']} mismatch, {s['FAILED']} failed, "
            f"{s['NOT_BUILT']} not built, {s['UNPUBLISHED']} unpublished"
            + (f", {s['UNSTABLE']} unstable" if s["UNSTABLE"] else "") + f"; {pct}")


def unified_diff(published: Mapping[str, str], local: Mapping[str, str], names: list[str]) -> str:
    """What the StageX docs have users run: `diff -u published local`, stage file by stage file."""
    chosen = set(names)
    theirs = render_stage_files({n: d for n, d in published.items() if n in chosen})
    mine = render_stage_files({n: d for n, d in local.items() if n in chosen})
    out: list[str] = []
    for stage in sorted(set(theirs) | set(mine)):
        out.extend(difflib.unified_diff(theirs.get(stage, "").splitlines(keepends=True),
                                        mine.get(stage, "").splitlines(keepends=True),
                                        f"published/{stage}.txt", f"local/{stage}.txt"))
    return "".join(out)


def write_junit(comparison: Comparison, path: Path) -> None:
    """One testcase per package: MISMATCH and UNSTABLE failures, FAILED an error, NOT_BUILT/UNPUBLISHED skipped."""
    s = comparison.summary()
    suite = ET.Element("testsuite", name="rebuildx", tests=str(s["total"]),
                       failures=str(s["MISMATCH"] + s["UNSTABLE"]), errors=str(s["FAILED"]),
                       skipped=str(s["NOT_BUILT"] + s["UNPUBLISHED"]))
    for v in comparison.verdicts:
        case = ET.SubElement(suite, "testcase", classname=v.package.split("-", 1)[0], name=v.package)
        if v.verdict is Verdict.MISMATCH:
            ET.SubElement(case, "failure", message=f"local {v.local} != published {v.published}")
        elif v.verdict is Verdict.UNSTABLE:
            ET.SubElement(case, "failure", message=f"UNSTABLE: {v.note or 'two builds differ'}")
        elif v.verdict is Verdict.FAILED:
            ET.SubElement(case, "error", message=v.note or "build failed")
        elif v.verdict in (Verdict.NOT_BUILT, Verdict.UNPUBLISHED):
            ET.SubElement(case, "skipped", message=v.verdict.value)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
    except OSError as e:
        raise RebuildxError(f"{path}: cannot write the JUnit report: {e.strerror or e}") from e
