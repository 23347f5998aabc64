"""Presenters of a SignatureReport: terminal table, summary line, JUnit XML (JSON is
`SignatureReport.to_json`), in the shapes `compare` uses."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from rebuildx.errors import RebuildxError
from rebuildx.trust.signatures.verdicts import PackageSignatures, SignatureReport, SigStatus, SigVerdict

_STYLE = {"QUORUM": "green", "UNDER_QUORUM": "yellow", "INVALID": "bold red", "UNSIGNED": "cyan"}


def table(report: SignatureReport):  # -> rich renderable
    """Package, verdict, trusted signers over the quorum, who; the reasons follow in `problems`."""
    from rich.markup import escape
    from rich.table import Table

    t = Table(box=None, header_style="bold")
    for col in ("package", "verdict", "signers", "signed by", "digest"):
        t.add_column(col)
    for p in report.packages:  # names come from MAINTAINERS: never read as markup
        t.add_row(escape(p.package), f"[{_STYLE[p.verdict.value]}]{p.verdict.value}[/]",
                  f"{len(p.signers)}/{report.quorum}", escape(", ".join(p.signer_names)) or "-", p.digest[:12])
    return t


def problems(report: SignatureReport) -> list[str]:
    """One line per bad signature file (and per package with signers not counted), plain text."""
    lines = []
    for p in report.packages:
        for c in p.checks:
            if c.status is SigStatus.INVALID:
                lines.append(f"{p.package} {c.label.rsplit('/', 1)[-1]}: {c.reason}")
        if p.untrusted:
            lines.append(f"{p.package}: valid signatures by keys not trusted: {', '.join(p.untrusted)}")
    return lines


def details(p: PackageSignatures) -> str:
    """Who signed, who is unknown, and each bad file with its reason, on one line."""
    parts = []
    if p.signers:
        parts.append("signed by " + ", ".join(p.signer_names))
    if p.untrusted:
        parts.append("not trusted: " + ", ".join(p.untrusted))
    if p.unknown_key_ids:
        parts.append("unknown keys: " + ", ".join(p.unknown_key_ids))
    for c in p.checks:
        if c.status is SigStatus.INVALID:
            parts.append(f"{c.label.rsplit('/', 1)[-1]}: {c.reason}")
    return "; ".join(parts) or "-"


def summary_line(report: SignatureReport) -> str:
    s = report.summary()
    line = (f"{s['total']} packages, {s['files']} signature files: {s['QUORUM']} quorum (>= {report.quorum}), "
            f"{s['UNDER_QUORUM']} under quorum, {s['INVALID']} invalid, {s['UNSIGNED']} unsigned")
    if s["unknown_key_ids"]:
        line += f"; signers without a key given: {', '.join(s['unknown_key_ids'])}"
    if not report.keys and s["files"]:
        line += " (no --keyring given: export the maintainers' keys with `gpg --export FPR… > keys.gpg`)"
    return line


def write_junit(report: SignatureReport, path: Path) -> None:
    """One testcase per package: INVALID a failure, UNDER_QUORUM and UNSIGNED skipped (incomplete)."""
    c = report.counts()
    suite = ET.Element("testsuite", name="rebuildx-signatures", tests=str(len(report.packages)),
                       failures=str(c["INVALID"]), errors="0", skipped=str(c["UNDER_QUORUM"] + c["UNSIGNED"]))
    for p in report.packages:
        case = ET.SubElement(suite, "testcase", classname=p.package.split("-", 1)[0], name=p.package)
        if p.verdict is SigVerdict.INVALID:
            ET.SubElement(case, "failure", message=details(p))
        elif p.verdict is not SigVerdict.QUORUM:
            ET.SubElement(case, "skipped", message=f"{p.verdict.value}: {details(p)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
    except OSError as e:
        raise RebuildxError(f"{path}: cannot write the JUnit report: {e.strerror or e}") from e
