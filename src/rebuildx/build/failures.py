"""Why a build failed, named with its fix: the build log's tail, buildx's exit status and facts
gathered at failure time, read by ordered rules.

Pure: the facts (free disk of the engine's data-root, kernel OOM kills during the build, whether
rebuildx itself stopped the build) are gathered at the edge (`build/failfacts.py`), so every rule
is testable from recorded log lines. The first rule that matches wins, most specific first: a
full disk makes RUN steps fail in many odd ways, so it is looked for before anything else. A
failure no rule explains stays UNKNOWN and keeps the log's tail.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field


class Cause(enum.Enum):
    ENGINE = "engine state"
    DISK_FULL = "disk full"
    OUT_OF_MEMORY = "out of memory"
    SOURCE = "source missing or wrong"
    NETWORK = "network used inside --network=none"
    PLATFORM = "platform / emulation"
    SYNTAX = "Containerfile syntax"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"
    UNKNOWN = "unknown"


RESTART_ENGINE = ("restart containerd and dockerd (systemctl restart containerd docker; without systemd, stop "
                  "both and run scripts/setup, which starts them), then build again; pruning BuildKit's cache "
                  "does not help here")


@dataclass(frozen=True)
class FailureFacts:
    """What the edge knew when the build failed; None where it could not be read."""

    exit_status: int | None = None  # docker buildx build's
    error: str | None = None  # rebuildx's own message for the failure
    timed_out: bool = False
    interrupted: bool = False
    free_disk_bytes: int | None = None  # on the engine's data-root filesystem
    data_root: str | None = None
    oom_kills: int = 0  # kernel OOM kills while the build ran (/proc/vmstat, cgroup events)


@dataclass(frozen=True)
class Failure:
    cause: Cause
    fix: str
    evidence: str | None = None  # the line that shows the cause
    tail: tuple[str, ...] = field(default=(), compare=False)  # kept for UNKNOWN

    def summary(self) -> str:
        return f"{self.cause.value}: {self.evidence}" if self.evidence else self.cause.value

    def to_json(self) -> dict:
        return {"cause": self.cause.value, "fix": self.fix, "evidence": self.evidence,
                **({"tail": list(self.tail)} if self.cause is Cause.UNKNOWN else {})}


@dataclass(frozen=True)
class Rule:
    cause: Cause
    pattern: re.Pattern[str]
    fix: str


def _rule(cause: Cause, pattern: str, fix: str) -> Rule:
    return Rule(cause, re.compile(pattern, re.IGNORECASE), fix)


DISK_FIX = ("free disk space on the engine's data-root (docker buildx prune, remove old out/ entries), "
            "then build again")
MEMORY_FIX = "give the build more memory: fewer --jobs, close other work, or a machine with more RAM"
LOW_DISK = 2 * 2**30  # below this on the engine's data-root, a failure is blamed on the disk

RULES: tuple[Rule, ...] = (
    _rule(Cause.DISK_FULL, r"no space left on device|\bENOSPC\b|disk quota exceeded", DISK_FIX),
    _rule(Cause.OUT_OF_MEMORY, r"\bOOM[- ]?kill|out of memory|cannot allocate memory|memory exhausted"
          r"|virtual memory exhausted|signal: killed", MEMORY_FIX),
    _rule(Cause.ENGINE, r"OCI exporter is not supported",
          'enable the containerd image store: {"features": {"containerd-snapshotter": true}} in '
          "/etc/docker/daemon.json, then restart dockerd"),
    _rule(Cause.ENGINE, r"network bridge not found",
          "dockerd runs without its default bridge; StageX's RUN steps use --network=none, so check "
          "the Containerfile's RUN lines or restart dockerd with its default network"),
    _rule(Cause.ENGINE, r"snapshot \S+ does not exist|failed to commit \S* ?.*during finalize"
          r"|lease \S+: not found|content digest \S+: not found|failed to get reader|unexpected commit digest"
          r"|failed to (?:prepare|mount|create) (?:extraction )?snapshot|parent snapshot \S+ does not exist"
          r"|containerd\.sock.*(?:connection refused|connection reset|no such file|broken pipe)"
          r"|connection error: desc = .*: unavailable|code = Unavailable|transport is closing"
          r"|io\.containerd\.snapshotter\.v1\.\w+/snapshots/\d+\S*: no such file or directory"
          r"|Cannot connect to the Docker daemon|error reading from server: EOF",
          RESTART_ENGINE),
    _rule(Cause.PLATFORM, r"exec format error|no match for platform|image with reference \S+ was found but "
          r"does not match the specified platform",
          "build on a machine of the package's architecture (x86_64 for StageX), or register binfmt "
          "emulation (qemu-user-static) for foreign stages"),
    _rule(Cause.SYNTAX, r"dockerfile parse error|unknown instruction|lint violation|failed to parse"
          r"|unknown flag: |failed to process \".*\": |empty continuation|target stage \"\S+\" could not be found",
          "fix the Containerfile at the line named (a typo, or a check that BUILDKIT_DOCKERFILE_CHECK "
          "makes an error); this is the tree's problem, not the machine's"),
    _rule(Cause.SOURCE, r"\"/?fetch/[^\"]*\": not found|failed to calculate checksum of ref \S+ \"[^\"]+\": not found"
          r"|failed to calculate checksum of ref .*(?:failed to walk|lstat) .*: no such file or directory"
          r"|checksum mismatch|digest mismatch|sha256 mismatch|hash mismatch|unexpected (?:sha256|digest)"
          r"|oci-layout://\S+.*(?:not found|no such file)",
          "fetch the package's sources again (rebuildx fetch), check package.toml's file names and hashes; "
          "a missing dep: build it first"),
    _rule(Cause.NETWORK, r"bad address '|could not resolve host|temporary failure in name resolution"
          r"|network is unreachable|name or service not known|unable to resolve host|dial tcp: lookup "
          r"|getaddrinfo|failed to connect to .* port",
          "StageX builds run RUN --network=none: every source must be declared in package.toml and "
          "fetched first; find the step that downloads and declare its source"),
)

_SOLVE_ERROR = re.compile(r"^ERROR: failed to solve: ")
_CANCELED = re.compile(r"failed to solve: Canceled|context canceled")
_AGAIN = "run the same command again: finished packages are kept"
_KILLED = re.compile(r"exit code: 137\b|\bKilled\b")


def classify(lines: Sequence[str], facts: FailureFacts = FailureFacts()) -> Failure:
    """Name the cause of a failed build from the last lines of its log and the facts."""
    lines = [line.rstrip() for line in lines]
    return _stopped(lines, facts) or _by_rule(lines) or _by_facts(lines, facts) or _unknown(lines, facts)


def _stopped(lines: list[str], facts: FailureFacts) -> Failure | None:
    """rebuildx (a timeout, Ctrl-C) or someone else stopped the build."""
    if facts.interrupted:
        return Failure(Cause.INTERRUPTED, _AGAIN, "interrupted by the user")
    if facts.timed_out:  # rebuildx stopped it: buildx then says "canceled" too
        return Failure(Cause.TIMEOUT, "raise the build timeout, or look in the log for a step that hangs",
                       facts.error or "the build timed out")
    canceled = _last(lines, _CANCELED, only_final=True)
    return Failure(Cause.INTERRUPTED, _AGAIN, canceled) if canceled else None


def _by_rule(lines: list[str]) -> Failure | None:
    for rule in RULES:
        line = _last(lines, rule.pattern)
        if line:
            return Failure(rule.cause, rule.fix, line)
    return None


def _by_facts(lines: list[str], facts: FailureFacts) -> Failure | None:
    """What the log alone does not tell: a SIGKILL the kernel's OOM killer sent, a data-root
    nearly full."""
    killed = _last(lines, _KILLED)
    if killed and facts.oom_kills:
        return Failure(Cause.OUT_OF_MEMORY, MEMORY_FIX, f"{killed} (the kernel OOM-killed "
                       f"{facts.oom_kills} process(es) during the build)")
    if facts.free_disk_bytes is not None and facts.free_disk_bytes < LOW_DISK:
        where = f" on {facts.data_root}" if facts.data_root else ""
        return Failure(Cause.DISK_FULL, DISK_FIX, f"{facts.free_disk_bytes / 2**20:.0f} MiB free{where}")
    if killed:
        return Failure(Cause.OUT_OF_MEMORY, MEMORY_FIX + " (SIGKILL with no OOM record: check dmesg)", killed)
    return None


def _unknown(lines: list[str], facts: FailureFacts) -> Failure:
    return Failure(Cause.UNKNOWN, "read the log's tail; if the cause is the machine, `rebuildx doctor` "
                   "and the support bundle help", _last(lines, _SOLVE_ERROR) or facts.error, tuple(lines[-20:]))


def _last(lines: Sequence[str], pattern: re.Pattern[str], *, only_final: bool = False) -> str | None:
    """The last line matching `pattern` (with `only_final`: only the final `ERROR: failed to solve`)."""
    if only_final:
        finals = [line for line in lines if _SOLVE_ERROR.match(line)]
        return finals[-1] if finals and pattern.search(finals[-1]) else None
    for line in reversed(lines):
        if pattern.search(line):
            return line.strip()
    return None


def may_retry(failure: Failure, attempts: int, *, limit: int = 1) -> bool:
    """Whether a failed build is worth another attempt: only an engine-state failure, at most
    `limit` times (the caller first checks that the engine passes its smoke test again). Source,
    syntax, platform and network failures would fail the same way; disk and memory need a person."""
    return failure.cause is Cause.ENGINE and attempts <= limit
