"""Generated verify reports and ledger histories for the HTML report's tests: any size, every
verdict, explanations, failed builds with logs, and hostile text where a page must show text."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from rebuildx.explain import Difference, to_json
from rebuildx.report.html import write_html
from rebuildx.report.page import build_page
from rebuildx.report.runs import VerdictRow

HOSTILE = "<script>window.__pwned = 1</script>"
STAGES = ("bootstrap", "core", "pallet", "user")
T0 = 1_780_000_000.0


@dataclass
class Fixture:
    doc: dict
    ledger: list[VerdictRow]


def _digest(rng: random.Random) -> str:
    return "%064x" % rng.getrandbits(256)


def _difference(package: str, files: int) -> dict:
    children = [Difference("file", f"usr/lib/lib{i}.so", "sha256:aa", "sha256:bb", "content",
                           children=[Difference("field", "content", "aa", "bb")]) for i in range(files)]
    children.append(Difference("file", f"usr/share/{HOSTILE}", None, "x", "file set"))
    node = Difference("files", "files", children=children, counts={"content": files, "file set": 1})
    root = Difference("image", package, "sha256:pub", "sha256:loc", "content", comments=[f"comment {HOSTILE}"],
                      children=[node], counts={"content": files, "file set": 1})
    return to_json(root, max_files=50)


def generate(n: int, logs: Path, *, names: list[str] | None = None, seed: int = 14, jobs: int = 4,
             release: str = "2026.03.0") -> Fixture:
    """A verify report of `n` packages (`names`, or made up): MATCH mostly; MISMATCH, FAILED,
    NOT_BUILT, UNPUBLISHED each at least once, the first package named with `HOSTILE` in it; and
    four runs of history in which some packages flap."""
    rng = random.Random(seed)
    names = list(names or [f"{STAGES[min(i * len(STAGES) // max(n, 1), 3)]}-pkg{i:03d}" for i in range(n)])[:n]
    kinds = ["MISMATCH", "FAILED", "NOT_BUILT", "UNPUBLISHED", "MISMATCH", "FAILED"]
    verdict = {name: kinds[i] if i < len(kinds) else ("MISMATCH" if rng.random() < 0.03 else "MATCH")
               for i, name in enumerate(names)}
    verdict[f"core-evil{HOSTILE}"] = verdict.pop(names[0])
    names[0] = f"core-evil{HOSTILE}"
    logs.mkdir(parents=True, exist_ok=True)
    ends = [T0] * jobs
    verdicts, builds, explanations = [], [], {}
    for name in names:
        v = verdict[name]
        local, published = _digest(rng), _digest(rng)
        if v == "MATCH":
            local = published
        slot = min(range(jobs), key=lambda j: ends[j])
        seconds = round(rng.uniform(5, 400), 3)
        started = ends[slot] + rng.uniform(0, 2)
        if v != "NOT_BUILT":
            ends[slot] = started + seconds
        entry = {"package": name, "status": "failed" if v == "FAILED" else "built", "seconds": seconds,
                 "started": started, "digest": None if v == "FAILED" else local, "error": None,
                 "blocked_by": None, "log": None}
        if v == "FAILED":
            log = logs / f"{len(builds)}.log"
            log.write_text("".join(f"#{i} step {i}\n" for i in range(200)) + f"ERROR: {HOSTILE}\n")
            entry.update(error=f"docker buildx build exited 1 {HOSTILE}", log=str(log),
                         cause="engine state", fix="restart containerd and dockerd",
                         evidence=f"failed to commit {HOSTILE}: snapshot does not exist", attempts=2)
        if v != "NOT_BUILT":
            builds.append(entry)
        verdicts.append({"package": name, "verdict": v, "deps_from": "built", "note": None,
                         "local": local if v in ("MATCH", "MISMATCH", "UNPUBLISHED") else None,
                         "published": None if v == "UNPUBLISHED" else published})
        if v == "MISMATCH":
            explanations[name] = {"summary": "content: 4 files differ (3 content, 1 file set)",
                                  "source": f"docker.io/stagex/{name}@sha256:{published}",
                                  "difference": _difference(name, 3)}
    counts = {k: sum(1 for v in verdicts if v["verdict"] == k)
              for k in ("MATCH", "MISMATCH", "NOT_BUILT", "UNPUBLISHED", "FAILED")}
    compared = counts["MATCH"] + counts["MISMATCH"]
    doc = {"format": 1, "verdicts": verdicts,
           "summary": {**counts, "total": n, "reproduced_percent": round(100 * counts["MATCH"] / compared, 1)},
           "release": release, "ref": f"release/{release}", "commit": "c0ffee" * 6 + "abcd",
           "head": "c0ffee" * 6 + "abcd", "dirty": [], "started": "2026-05-28T08:26:40Z",
           "finished": "2026-05-28T20:01:07Z",
           "machine": {"host": "builder-1", "cpus": 2, "memory_gib": 24, "kernel": "6.1.0"},
           "engine": {"docker": "28.2.2", "buildx": "0.20.1", "containerd_store": "yes"},
           "builds": builds, "explanations": explanations,
           "critical_path": {"seconds": 1234.5, "packages": names[1:6]}}
    return Fixture(doc, _ledger(verdicts, release, rng))


def _ledger(verdicts: list[dict], release: str, rng: random.Random) -> list[VerdictRow]:
    rows, when = [], T0 - 40 * 86400
    for r, rel in enumerate(("2025.12.0", "2026.01.0", release, release)):
        when += 10 * 86400
        for i, v in enumerate(verdicts):
            verdict = v["verdict"]
            if r == 2 and verdict == "MISMATCH" or r < 2 and i % 7 == 3:
                verdict = "MATCH" if verdict == "MISMATCH" else "MISMATCH"  # history that changes, and flaps
            rows.append(VerdictRow(rel, v["package"], verdict, when + i * 0.001))
    return rows


def write_page(fx: Fixture, path: Path) -> Path:
    """The page of a generated report, read back from JSON as verify writes it."""
    return write_html(build_page(json.loads(json.dumps(fx.doc)), fx.ledger), path)
