"""The support bundle: what the StageX chat room needs to help, in one Markdown file."""

from __future__ import annotations

import shlex
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from rebuildx.build.failures import Cause, Failure, classify
from rebuildx.doctor.checks import Facts, Finding, gib
from rebuildx.engine.smoke import run_smoke
from rebuildx.net import redact
from rebuildx.proc import run, tail_lines


def _versions() -> dict[str, str]:
    out = {}
    for name, argv in (("docker", ["docker", "version", "-f", "client {{.Client.Version}}, server {{.Server.Version}}"]),
                       ("buildx", ["docker", "buildx", "version"]), ("containerd", ["containerd", "--version"])):
        done = run(argv, check=False, timeout=30) if _exists(argv[0]) else None
        out[name] = (done.stdout.strip() or done.stderr.strip()) if done else "not found"
    return out


def _exists(cmd: str) -> bool:
    return shutil.which(cmd) is not None


def _git(root: Path, *args: str) -> str:
    done = run(["git", "-C", str(root), *args], check=False, timeout=30) if _exists("git") else None
    return done.stdout.strip() if done and done.returncode == 0 else "unknown"


_BEFORE_BUILD = (Cause.SOURCE, Cause.DISK_FULL, Cause.ENGINE)


def _smoke_now() -> str:
    """The engine's state now, after the failure (doctor's answer may be from before the run)."""
    result = run_smoke()
    return f"pass ({result.seconds:.1f} s)" if result.ok else f"FAIL: {result.error}: {' / '.join(result.lines[-3:])}"


def _failures(failures: Sequence[tuple[str, Failure]]) -> list[str]:
    if not failures:
        return []
    return ["## failed builds", "", *[f"- {name}: {f.summary()} — fix: {f.fix}" for name, f in failures], ""]


def write_bundle(path: Path, *, root: Path, argv: Sequence[str], facts: Facts, findings: list[Finding],
                 failing_log: Path | None, failing_package: str | None, release: str | None,
                 error: str | None = None, failures: Sequence[tuple[str, Failure]] = ()) -> Path:
    """Write `path` (Markdown) and return it. `failures`: each failed package's named cause; a
    run that failed before any build (a source's hash, a refused start) has its error classified."""
    versions = _versions()
    if not failures and error:
        before = classify(error.splitlines())
        # only causes whose fix holds outside a build too (a mirror that is down is not a
        # download inside --network=none)
        failures = [("(before any build)", before)] if before.cause in _BEFORE_BUILD else []
    log_lines = tail_lines(failing_log, 200) if failing_log else []
    doc = [
        "# rebuildx support bundle",
        "",
        f"- when: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}",
        f"- release: {release or 'not given'}",
        f"- commit: {_git(root, 'rev-parse', 'HEAD')} ({_git(root, 'describe', '--all', '--always')})",
        f"- docker: {versions['docker']}",
        f"- buildx: {versions['buildx']}",
        f"- containerd: {versions['containerd']}",
        f"- cpu: {facts.machine}, {facts.cpu_model or 'model unknown'}",
        f"- ram: {gib(facts.ram_bytes)}",
        f"- free disk: {gib(facts.free_disk_bytes)}",
        f"- command: `{shlex.join(argv)}`",
        f"- failing package: {failing_package or 'none'}",
        f"- error: {error or 'see the log below'}",
        *([f"- cause: {failures[0][1].summary()}", f"- fix: {failures[0][1].fix}"] if failures else []),
        f"- engine smoke test after the failure: {_smoke_now()}",
        "",
        *_failures(failures),
        "## doctor",
        "",
        *[f"- {f.line()}" for f in findings],
        "",
        f"## last {len(log_lines)} lines of {failing_log or 'the log'}",
        "",
        "```",
        *log_lines,
        "```",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(redact("\n".join(doc)))  # the command line, errors, the log: no URL's password

    return path
