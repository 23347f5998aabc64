"""report: one self-contained HTML page per verify run, with the history of the workspace.

    from rebuildx.report import write_page
    write_page(Workspace(root), root / ".rebuildx/reports/verify-2026.03.0.json")  # -> verify-2026.03.0.html
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from rebuildx.errors import StateError
from rebuildx.report.html import render, write_html
from rebuildx.report.page import Page, ReportError, build_page
from rebuildx.report.runs import VerdictRow
from rebuildx.state.ledger import Ledger
from rebuildx.workspace import Workspace

_RUN_REPORT = re.compile(r"verify-\d{4}\.\d{2}\.\d+\.json")

__all__ = ["Page", "ReportError", "build_page", "find_report", "read_report", "render", "write_html", "write_page"]


def find_report(ws: Workspace, release: str | None) -> Path:
    """The verify report of `release`, or the newest one in `.rebuildx/reports/`."""
    reports = ws.state_dir / "reports"
    if release:
        path = reports / f"verify-{release}.json"
        if not path.is_file():
            raise ReportError(f"{path}: no verify report of release {release}; run `rebuildx verify --release "
                              f"{release}` first")
        return path
    # verify-<release>.json only: other reports beside them (verify-<release>-podman.json) are not runs' reports
    found = sorted((p for p in reports.glob("verify-*.json") if _RUN_REPORT.fullmatch(p.name)),
                   key=lambda p: p.stat().st_mtime) if reports.is_dir() else []
    if not found:
        raise ReportError(f"{reports}: no verify report; run `rebuildx verify --release R` first")
    return found[-1]


def read_report(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ReportError(f"{path}: cannot read the verify report: {e.strerror or e}") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ReportError(f"{path}: not a verify report (not JSON: {e})") from e
    except RecursionError as e:
        raise ReportError(f"{path}: not a verify report (nested too deeply to read)") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("verdicts"), list):
        raise ReportError(f"{path}: not a verify report: it has no `verdicts` list")
    return doc


def write_page(ws: Workspace, report: Path, html: Path | None = None) -> Path:
    """The page of the verify report `report`, with the ledger's history, at `html` (default:
    beside the report, `.html` for `.json`)."""
    doc = read_report(report)
    try:
        rows, error = [VerdictRow(*row) for row in Ledger(ws).rows()], None
    except StateError as e:  # the run's page is still worth having
        rows, error = [], str(e)
    page = build_page(doc, rows, ws.root)
    page.history_error = error
    return write_html(page, html or report.with_suffix(".html"))
