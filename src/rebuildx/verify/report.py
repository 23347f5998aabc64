"""The JSON report of a verification: verdicts, the release and commit, every build."""

from __future__ import annotations

import json
import time
from pathlib import Path

from rebuildx.build.failures import Failure
from rebuildx.build.run import BuildReport
from rebuildx.errors import RebuildxError
from rebuildx.net import redact
from rebuildx.verify.run import VerifyResult


def _cause(failure: Failure | None) -> dict:
    """A failed build's named cause, fix and the log line that shows it (None for the others)."""
    if failure is None:
        return {"cause": None, "fix": None}
    return {"cause": failure.cause.value, "fix": failure.fix, "evidence": failure.evidence,
            **({"tail": list(failure.tail)} if failure.tail else {})}


def write_report(result: VerifyResult, path: Path) -> Path:
    doc = {
        **result.comparison.to_json(),
        "release": result.checkout.release,
        "ref": result.checkout.ref,
        "commit": result.checkout.commit,
        "head": result.checkout.head,  # what was built: differs from commit only with --allow-dirty
        "dirty": list(result.checkout.dirty),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **result.extra,
    }
    if result.build:
        doc["builds"] = [{"package": r.package, "status": r.status.value, "digest": r.digest,
                          "seconds": round(r.seconds, 3), "error": r.error, "blocked_by": r.blocked_by,
                          "log": str(r.log) if r.log else None, "builder": r.builder, "attempts": r.attempts,
                          **_cause(r.failure)} for r in result.build.results]
        doc["lost_builds"] = [{"package": r.package, "builder": r.builder, "error": r.error}
                              for r in result.build.lost]  # ran again elsewhere: their builder went down
        doc["builders_down"] = list(result.build.down)
        for entry, r in zip(doc["builds"], result.build.results, strict=True):
            entry["started"] = r.started  # for the page's timeline
        doc["critical_path"] = critical_path(result.build)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(redact(json.dumps(doc, indent=1)) + "\n")  # errors quoting a URL: no password
    except OSError as e:
        raise RebuildxError(f"{path}: cannot write the report: {e.strerror or e}") from e
    result.report_path = path
    return path


def critical_path(build: BuildReport) -> dict:
    """The heaviest dependency chain of the run, weighted by this run's build durations: no
    number of builders makes the run shorter than its `seconds`."""
    took = {r.package: r.seconds for r in build.results}
    seconds, packages = build.plan.longest_path(lambda n: took.get(n, 0.0))
    return {"seconds": round(seconds, 3), "packages": packages}
