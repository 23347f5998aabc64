"""doctor's checks: pure functions from `Facts` to findings, each with its fix.

Facts are gathered at the edge (`facts.gather`); the checks are pure functions of them (`diagnose`), so
each verdict is testable without the machine that would provoke it. The causes checked are the
ones StageX's reproduction docs list: disk, Docker/BuildKit version, containerd image store,
non-x86_64, wrong release branch, preseeded or stale output, network, hardware.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field

from rebuildx.build.failures import RESTART_ENGINE, Cause, FailureFacts, classify
from rebuildx.engine.check import EngineInfo, version_tuple
from rebuildx.engine.smoke import SmokeResult
from rebuildx.stagex.releases import release_minimum


class Level(enum.Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    check: str
    level: Level
    message: str
    fix: str | None = None

    def line(self) -> str:
        fix = f" — fix: {self.fix}" if self.fix and self.level is not Level.PASS else ""
        return f"{self.level.value:4}  {self.check}: {self.message}{fix}"

    def to_json(self) -> dict:
        return {**asdict(self), "level": self.level.value}


@dataclass
class Facts:
    """What doctor looks at; None where a fact could not be had (said in `errors`)."""

    machine: str = ""
    cpu_model: str = ""
    ram_bytes: int = 0
    free_disk_bytes: int = 0
    disk_needed_bytes: int = 0
    engine: EngineInfo | None = None
    engine_error: str | None = None
    engine_name: str = "buildx"  # the engine about to build: buildx, or podman
    podman: str | None = None  # Podman's version, if it answers and builds heredocs
    podman_error: str | None = None
    smoke: SmokeResult | None = None  # the engine smoke test (engine/smoke.py)
    git: bool = True
    release: str | None = None
    tree_release: str | None = None  # the release the checkout is at (tag or branch at HEAD)
    checkout_problem: str | None = None  # wrong commit, dirty, missing release
    foreign_out: list[str] = field(default_factory=list)
    stale_out: list[str] = field(default_factory=list)
    stale_fetch: list[str] = field(default_factory=list)
    buildkit_cache_bytes: int | None = None
    cold: bool = False
    unreachable_mirrors: list[str] = field(default_factory=list)
    air_gapped: bool = False
    platforms: tuple[str, ...] = ("linux/amd64",)


def gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def diagnose(f: Facts) -> list[Finding]:
    out = [_arch(f), _ram(f), _disk(f), *_engine(f), *_smoke(f), _podman(f)]
    out.append(Finding("git", Level.PASS, "present") if f.git else
               Finding("git", Level.FAIL, "not found", "apt-get install git"))
    if f.release:
        out.append(Finding("checkout", Level.FAIL, f.checkout_problem, "check out the release's branch, clean")
                   if f.checkout_problem else Finding("checkout", Level.PASS, f"at release {f.release}, clean"))
    out.append(Finding("out/", Level.WARN, f"entries rebuildx did not build here (preseeded or stale): "
                       f"{', '.join(f.foreign_out[:8])}", "rm -rf " + " ".join(f"out/{n}" for n in f.foreign_out[:8]))
               if f.foreign_out else Finding("out/", Level.PASS, "every entry was built by rebuildx here"))
    if f.stale_out:
        out.append(Finding("out/ inputs", Level.WARN, f"entries built from other inputs than this checkout "
                           f"(another commit, changed files or engine): {', '.join(f.stale_out[:8])}",
                           "a build replaces them; `rebuildx build --cold` to start clean"))
    out.append(Finding("fetch/", Level.WARN, f"files no package of this tree declares: {', '.join(f.stale_fetch[:5])}",
                       "remove them; they are never used") if f.stale_fetch else
               Finding("fetch/", Level.PASS, "no stale files"))
    if f.cold and f.buildkit_cache_bytes:
        out.append(Finding("buildkit cache", Level.WARN, f"{gib(f.buildkit_cache_bytes)} left from earlier builds "
                           "(a cold build passes --no-cache, so it is not used)", "docker buildx prune -af"))
    if not f.air_gapped:
        out.append(Finding("mirrors", Level.WARN, f"unreachable: {', '.join(f.unreachable_mirrors[:5])}",
                           "check the network, or use --sources DIR / --mirror URL")
                   if f.unreachable_mirrors else Finding("mirrors", Level.PASS, "reachable"))
    return out


def _arch(f: Facts) -> Finding:
    needs = {"linux/amd64": {"x86_64", "amd64"}, "linux/386": {"x86_64", "amd64", "i686", "i386"},
             "linux/arm64": {"aarch64", "arm64"}}
    foreign = [p for p in f.platforms if f.machine not in needs.get(p, {f.machine})]
    if not foreign:
        return Finding("cpu", Level.PASS, f"{f.machine} ({f.cpu_model or 'model unknown'})")
    return Finding("cpu", Level.FAIL, f"{f.machine} cannot build for {', '.join(foreign)} natively",
                   "use a machine of that architecture (StageX's bootstrap needs x86)")


def _ram(f: Facts) -> Finding:
    if f.ram_bytes < 4 * 2**30:
        return Finding("ram", Level.FAIL, f"{gib(f.ram_bytes)}", "at least 4 GiB; 16 GiB or more for big packages")
    if f.ram_bytes < 16 * 2**30:
        return Finding("ram", Level.WARN, f"{gib(f.ram_bytes)}: big packages (llvm, rust) may run out",
                       "16 GiB or more, or fewer --jobs")
    return Finding("ram", Level.PASS, gib(f.ram_bytes))


def _disk(f: Facts) -> Finding:
    msg = f"{gib(f.free_disk_bytes)} free, about {gib(f.disk_needed_bytes)} needed"
    if f.free_disk_bytes < f.disk_needed_bytes:
        return Finding("disk", Level.FAIL, msg, "free disk space or build a smaller selection")
    return Finding("disk", Level.PASS, msg)


def _podman(f: Facts) -> Finding:
    if f.podman:
        return Finding("podman", Level.PASS, f"Podman {f.podman} (heredocs supported)")
    level = Level.FAIL if f.engine_name == "podman" else Level.WARN
    why = "" if f.engine_name == "podman" else " (only --engine podman needs it)"
    return Finding("podman", level, f"{f.podman_error or 'not found'}{why}", "run scripts/setup")


def _engine(f: Facts) -> list[Finding]:
    if f.engine is None:
        level = Level.WARN if f.engine_name == "podman" else Level.FAIL
        return [Finding("docker", level, f.engine_error or "no engine", "run scripts/setup")]
    docker_min, buildx_min = release_minimum(f.release or f.tree_release)
    out = []
    have = version_tuple(f.engine.server_version)
    if have < (25, 0):
        out.append(Finding("docker", Level.FAIL, f"Docker {f.engine.server_version} has no OCI exporter",
                           "Docker >= 25 (scripts/setup installs Debian 13's docker.io)"))
    elif have < docker_min:
        out.append(Finding("docker", Level.WARN, f"Docker {f.engine.server_version} is older than the release's "
                           f"minimum {'.'.join(map(str, docker_min))} (older engines reproduce packages too)",
                           "upgrade Docker if a digest differs"))
    else:
        out.append(Finding("docker", Level.PASS, f"Docker {f.engine.server_version}"))
    if version_tuple(f.engine.buildx_version) < buildx_min:
        out.append(Finding("buildx", Level.WARN, f"buildx {f.engine.buildx_version} is older than the release's "
                           f"minimum {'.'.join(map(str, buildx_min))}", "upgrade docker-buildx if a digest differs"))
    else:
        out.append(Finding("buildx", Level.PASS, f"buildx {f.engine.buildx_version}"))
    out.append(Finding("containerd store", Level.PASS, "on") if f.engine.containerd_store else
               Finding("containerd store", Level.FAIL, "off: BuildKit cannot export OCI layouts",
                       'add {"features": {"containerd-snapshotter": true}} to /etc/docker/daemon.json '
                       "and restart dockerd"))
    return out


def _smoke(f: Facts) -> list[Finding]:
    """The engine's smoke test, its failure named as a build's would be, with the fix."""
    if f.engine is None or f.smoke is None:
        return []
    if f.smoke.ok:
        when = "earlier today" if f.smoke.cached else f"in {f.smoke.seconds:.1f} s"
        return [Finding("engine smoke", Level.PASS, f"a scratch build exported an OCI layout ({when})")]
    lines = [*f.smoke.lines, *([f.smoke.error] if f.smoke.error else [])]
    failure = classify(lines, FailureFacts(exit_status=f.smoke.exit_status, error=f.smoke.error))
    fix = failure.fix if failure.cause is not Cause.UNKNOWN else (
        f"{RESTART_ENGINE}; check the free disk of the engine's data-root")
    return [Finding("engine smoke", Level.FAIL, f"a scratch build (no RUN, no network) failed: "
                    f"{failure.summary()}", fix)]


def has_failures(findings: list[Finding]) -> bool:
    return any(x.level is Level.FAIL for x in findings)
