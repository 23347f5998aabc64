"""What the page shows, gathered from a verify report and the ledger's history.

The verify report (`verify-<R>.json`) is read as untrusted input: any field may be missing or of
another type (an older rebuildx, a hand-edited file) and the page shows what is there; only a
document that is no verify report at all is refused, in one line naming the field.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from markupsafe import Markup

from rebuildx.errors import RebuildxError
from rebuildx.explain import from_json
from rebuildx.report import svg
from rebuildx.report.runs import PackageHistory, Run, VerdictRow, group_runs, latest_per_release, package_histories
from rebuildx.report.timeline import Span, assign_slots

LOG_LINES, LOG_BYTES = 40, 16384  # the tail of a failed build's log shown on the page
MAX_FILES, MAX_RUNS = 200, 100  # files per explanation, runs in the history (the newest)
DETAILED = ("MISMATCH", "UNSTABLE", "FAILED")
ORDER = ("MATCH", "MISMATCH", "UNSTABLE", "FAILED", "NOT_BUILT", "UNPUBLISHED")


class ReportError(RebuildxError):
    """A verify report that cannot be made into a page."""


@dataclass(frozen=True)
class PackageRow:
    package: str
    stage: str
    verdict: str
    local: str | None
    published: str | None
    seconds: float | None
    builder: str
    note: str | None
    history: PackageHistory | None
    anchor: str | None  # the id of its explanation or failure on the page

    @property
    def last_match(self) -> str:
        h = self.history
        return svg.day(h.last_match) if h and h.last_match else ""


@dataclass(frozen=True)
class FileChange:
    path: str
    classification: str
    what: str  # the fields that differ, or on which side only it is


@dataclass(frozen=True)
class Explanation:
    anchor: str
    package: str
    verdict: str
    summary: str
    source: str
    error: str | None = None
    comments: tuple[str, ...] = ()
    files: tuple[FileChange, ...] = ()
    omitted: int = 0


@dataclass(frozen=True)
class Failure:
    anchor: str
    package: str
    error: str
    cause: str | None
    fix: str | None
    evidence: str | None  # the log line that shows the cause
    attempts: int
    log: str | None
    tail: tuple[str, ...]


@dataclass
class Page:
    release: str
    meta: list[tuple[str, str]]
    counts: dict[str, int]
    share: float | None
    verdicts: list[str]  # the verdicts present, in a fixed order
    stages: list[str]
    rows: list[PackageRow]
    explanations: list[Explanation]
    failures: list[Failure]
    timeline: Markup
    critical: list[tuple[str, str]]  # (package, its duration)
    critical_seconds: float | None
    runs_chart: Markup
    releases_chart: Markup
    runs: list[Run]  # newest first
    flapping: list[PackageHistory]
    caveat: str | None = None  # why this run does not verify the release (built from another commit)
    history_error: str | None = None  # why there is no history (the state DB could not be read)
    generated: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))


def build_page(doc: Any, ledger: Iterable[VerdictRow], logs_root: Path | None = None) -> Page:
    """The page for one verify report; `ledger` is the history, `logs_root` the workspace that
    relative log paths are read from."""
    if not isinstance(doc, dict) or not isinstance(doc.get("verdicts"), list):
        raise ReportError("not a verify report: it has no `verdicts` list")
    runs = group_runs(ledger)
    histories = package_histories(runs)
    builds = {b["package"]: b for b in _dicts(doc.get("builds")) if isinstance(b.get("package"), str)}
    explained = _dict(doc.get("explanations"))
    rows = _rows(doc["verdicts"], builds, histories, explained)
    slot_rows, bars = assign_slots(_spans(rows, builds))
    slot_of = {b.span.package: b.row for b in bars}
    rows = [replace(r, builder=slot_of[r.package]) if not r.builder and r.package in slot_of else r for r in rows]
    by_name = {r.package: r for r in rows}
    path, path_seconds = _critical(doc)
    present = {r.verdict for r in rows}
    return Page(
        release=_s(doc.get("release")) or "?", meta=_meta(doc), caveat=_caveat(doc),
        counts={v: sum(1 for r in rows if r.verdict == v) for v in ORDER},
        share=_float(_dict(doc.get("summary")).get("reproduced_percent")),
        verdicts=[v for v in ORDER if v in present] + sorted(present - set(ORDER)),
        stages=sorted({r.stage for r in rows}), rows=rows,
        explanations=[_explanation(by_name[p].anchor or "", p, by_name[p].verdict, _dict(e))
                      for p, e in explained.items() if p in by_name],
        failures=[_failure(r, builds.get(r.package, {}), logs_root) for r in rows if r.verdict == "FAILED"],
        timeline=svg.timeline(slot_rows, bars, frozenset(path)),
        critical=[(p, svg.duration(by_name[p].seconds or 0) if p in by_name else "") for p in path],
        critical_seconds=path_seconds,
        runs_chart=svg.share_bars([_run_point(i, r) for i, r in enumerate(runs)][-MAX_RUNS:],
                                  "share reproduced per run"),
        releases_chart=svg.share_bars([_release_point(r) for r in latest_per_release(runs).values()],
                                      "share reproduced per release"),
        runs=list(reversed(runs))[:MAX_RUNS],
        flapping=sorted((h for h in histories.values() if h.flaps), key=lambda h: (-h.flips, h.package)),
    )


def _rows(verdicts: list, builds: dict[str, dict], histories: dict[str, PackageHistory],
          explained: dict) -> list[PackageRow]:
    """One row per verdict; those with an explanation or a failure get the id of its section."""
    rows = []
    for i, v in enumerate(x for x in verdicts if isinstance(x, dict) and isinstance(x.get("package"), str)):
        name = v["package"]
        anchor = f"d{i}" if _s(v.get("verdict")) in DETAILED or name in explained else None
        rows.append(_row(v, builds.get(name, {}), histories.get(name), anchor))
    return rows


def _critical(doc: dict) -> tuple[list[str], float | None]:
    critical = _dict(doc.get("critical_path"))
    packages = critical.get("packages")
    path = [p for p in packages if isinstance(p, str)] if isinstance(packages, list) else []
    return path, _float(critical.get("seconds"))


def _row(v: dict, build: dict, history: PackageHistory | None, anchor: str | None) -> PackageRow:
    name = v["package"]
    seconds = _float(build.get("seconds"))
    return PackageRow(name, name.split("-", 1)[0] if "-" in name else "", _s(v.get("verdict")) or "?",
                      _s(v.get("local")) or None, _s(v.get("published")) or None,
                      None if build.get("status") == "up-to-date" else seconds,
                      _s(build.get("builder")), _s(v.get("note")) or None, history, anchor)


def _spans(rows: list[PackageRow], builds: dict[str, dict]) -> list[Span]:
    out = []
    for r in rows:
        b = builds.get(r.package, {})
        started = _float(b.get("started"))
        if started is not None and r.seconds and r.seconds > 0 and math.isfinite(started + r.seconds):
            out.append(Span(r.package, r.verdict, started, r.seconds, _s(b.get("builder"))))
    return out


def _explanation(anchor: str, package: str, verdict: str, e: dict) -> Explanation:
    base: dict[str, Any] = dict(anchor=anchor, package=package, verdict=verdict, summary=_s(e.get("summary")),
                                source=_s(e.get("source")))
    if "difference" not in e:
        return Explanation(**base, error=_s(e.get("error")) or "no explanation recorded")
    try:  # the document is untrusted: anything wrong in it is said on the page, once
        diff = from_json(e["difference"])
        shown = diff.files()[:MAX_FILES]
        files = tuple(FileChange(str(f.name), str(f.classification or ""),
                                 _changed(f.children, f.local, f.published)) for f in shown)
        node = diff.child("files")
        comments = tuple(str(c) for d in diff.walk() if d.kind != "file" for c in d.comments)
        omitted = int(node.omitted if node else 0) + len(diff.files()) - len(shown)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        return Explanation(**base, error=f"the explanation cannot be read: {exc}")
    return Explanation(**base, comments=comments[:MAX_FILES], files=files, omitted=omitted)


def _changed(children: list, local: str | None, published: str | None) -> str:
    return ", ".join(str(c.name) for c in children) or (
        "only in published" if local is None else "only in local" if published is None else "")


def _failure(row: PackageRow, build: dict, logs_root: Path | None) -> Failure:
    log = _s(build.get("log")) or None
    tail = build.get("tail")  # the classifier's copy, for when the log itself is gone
    lines = _tail(log, logs_root) or (tuple(str(x) for x in tail) if isinstance(tail, list) else ())
    blocked = _s(build.get("blocked_by"))
    error = _s(build.get("error")) or row.note or (f"blocked by {blocked}" if blocked else "")
    attempts = build.get("attempts")
    return Failure(row.anchor or "", row.package, error, _s(build.get("cause")) or None,
                   _s(build.get("fix")) or None, _s(build.get("evidence")) or None,
                   attempts if isinstance(attempts, int) and not isinstance(attempts, bool) else 1, log, lines)


def _tail(log: str | None, root: Path | None) -> tuple[str, ...]:
    """The last lines of a build log, read from its end (a log may be huge)."""
    if not log:
        return ()
    path = Path(log)
    if root is not None and not path.is_file():  # a path relative to where verify ran, or a moved workspace
        path = next((p for p in (root / path, root / ".rebuildx" / "logs" / path.name) if p.is_file()), path)
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - LOG_BYTES))
            data = f.read()
    except OSError:
        return ()
    return tuple(data.decode("utf-8", "replace").splitlines()[-LOG_LINES:])


def _meta(doc: dict) -> list[tuple[str, str]]:
    commit, head = _s(doc.get("commit")), _s(doc.get("head"))
    items = [("release", _s(doc.get("release"))), ("ref", _s(doc.get("ref"))), ("tree commit", commit),
             ("built from", head if head and head != commit else ""),
             ("local changes", ", ".join(d for d in _list(doc.get("dirty")) if isinstance(d, str))),
             ("deps", "published images" if doc.get("published_deps") else "built here"),
             ("machine", _pairs(doc.get("machine"))), ("engine", _pairs(doc.get("engine"))),
             ("started", _s(doc.get("started"))), ("finished", _s(doc.get("finished"))),
             ("signatures", _signatures(doc.get("signatures")))]
    return [(k, v) for k, v in items if v]


def _caveat(doc: dict) -> str | None:
    commit, head, dirty = _s(doc.get("commit")), _s(doc.get("head")), _list(doc.get("dirty"))
    if (head and commit and head != commit) or dirty:
        return (f"Built from {head[:12] or '?'}{' with local changes' if dirty else ''}, not the release's "
                f"commit {commit[:12]} (--allow-dirty): this run does not verify the release.")
    return None


def _signatures(value: Any) -> str:
    """The maintainers' signatures checked with the run (`verify --sigs`): counts per verdict."""
    sigs = _dict(value)
    if _s(sigs.get("error")):
        return f"not checked: {sigs['error']}"
    counts = {k: n for k, n in _dict(sigs.get("summary")).items()
              if k in ("QUORUM", "UNDER_QUORUM", "INVALID", "UNSIGNED") and isinstance(n, int) and n}
    if not counts:
        return ""
    quorum = sigs.get("quorum")
    return ", ".join(f"{n} {k}" for k, n in counts.items()) + (f" (quorum {quorum})" if isinstance(quorum, int) else "")


def _pairs(value: Any) -> str:
    if isinstance(value, str):
        return value
    return " · ".join(f"{k} {v}" for k, v in _dict(value).items() if isinstance(v, (str, int, float)))


def _run_point(i: int, run: Run) -> svg.Point:
    share = run.share
    title = (f"{svg.day(run.recorded)} · {run.release} · "
             + (f"{share:.1f}% reproduced" if share is not None else "nothing compared")
             + f" · {run.count('MATCH')} MATCH, {run.count('MISMATCH')} MISMATCH, {run.count('FAILED')} FAILED")
    return svg.Point(f"#{i + 1}", share, title, run.release)


def _release_point(run: Run) -> svg.Point:
    share = run.share or 0.0
    return svg.Point(run.release, share, f"{run.release}: {share:.1f}% reproduced (latest run "
                                         f"{svg.day(run.recorded)})", run.release)


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _float(value: Any) -> float | None:
    """A number from JSON (not a bool, not NaN or infinite), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _dicts(value: Any) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
