"""`rebuildx doctor`: facts about the machine and the checkout, each check with its fix.

Facts are gathered at the edge (`gather`); the checks are pure functions of them (`diagnose`), so
each verdict is testable without the machine that would provoke it. The causes checked are the
ones StageX's reproduction docs list: disk, Docker/BuildKit version, containerd image store,
non-x86_64, wrong release branch, preseeded or stale output, network, hardware.
"""

from __future__ import annotations

import enum
import os
import platform as pyplatform
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rebuildx.engine.check import EngineInfo, probe_engine, version_tuple
from rebuildx.errors import RebuildxError
from rebuildx.model import release_tuple

FULL_TREE_BYTES = 500 * 10**9  # the seed's figure for the whole tree
FULL_TREE_PACKAGES = 513


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
    git: bool = True
    release: str | None = None
    checkout_problem: str | None = None  # wrong commit, dirty, missing release
    foreign_out: list[str] = field(default_factory=list)
    stale_out: list[str] = field(default_factory=list)
    stale_fetch: list[str] = field(default_factory=list)
    buildkit_cache_bytes: int | None = None
    cold: bool = False
    unreachable_mirrors: list[str] = field(default_factory=list)
    air_gapped: bool = False
    platforms: tuple[str, ...] = ("linux/amd64",)


def release_minimum(release: str | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Docker and buildx versions StageX's src/compat.sh asks for: 29.1.5 / 0.30.1 since
    2026.01.0, 26.0.0 / 0.13 before."""
    if release is None or release_tuple(release)[:2] >= (2026, 1):
        return (29, 1, 5), (0, 30, 1)
    return (26, 0, 0), (0, 13, 0)


def gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def diagnose(f: Facts) -> list[Finding]:
    out = [_arch(f), _ram(f), _disk(f), *_engine(f)]
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


def _engine(f: Facts) -> list[Finding]:
    if f.engine is None:
        return [Finding("docker", Level.FAIL, f.engine_error or "no engine", "run scripts/setup")]
    docker_min, buildx_min = release_minimum(f.release)
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


def machine_facts(root: Path) -> Facts:
    """The machine part of the facts: CPU, memory, disk, engine, git."""
    f = Facts(machine=pyplatform.machine(), cpu_model=_cpu_model())
    try:
        f.ram_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        f.ram_bytes = 0
    probe = root if root.exists() else Path(".")
    f.free_disk_bytes = shutil.disk_usage(probe).free
    try:
        f.engine = probe_engine()
    except RebuildxError as e:
        f.engine_error = str(e)
    f.git = shutil.which("git") is not None
    return f


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def has_failures(findings: list[Finding]) -> bool:
    return any(x.level is Level.FAIL for x in findings)


def gather(root: Path, *, packages: list | None = None, release: str | None = None, cold: bool = False,
           air_gapped: bool = False, platform: str = "linux/amd64") -> Facts:
    """All facts for a tree and the packages about to be built (None: the whole tree)."""
    from rebuildx.outputs import foreign_entries
    from rebuildx.state import History
    from rebuildx.workspace import Workspace

    f = machine_facts(root)
    ws = Workspace(root)
    f.release, f.cold, f.air_gapped = release, cold, air_gapped
    packages = packages or []
    f.platforms = tuple(sorted({p.platform(platform) for p in packages})) or (platform,)
    f.platforms = tuple(sorted({x for p in f.platforms for x in p.split(",")}))
    f.disk_needed_bytes = _disk_estimate(ws, [p.full_name for p in packages], History(ws).sizes())
    if release:
        f.checkout_problem = _checkout_problem(root, release)
    f.foreign_out = foreign_entries(ws, History(ws)) if ws.out.is_dir() else []
    if f.engine and packages and ws.out.is_dir():
        from rebuildx.build import stale_entries
        from rebuildx.engine.buildx import BuildxEngine
        from rebuildx.tree import load_tree

        f.stale_out = stale_entries(ws, load_tree(root), BuildxEngine(ws), f.engine.identity,
                                    [p.full_name for p in packages], platform)
    f.stale_fetch = _stale_fetch(ws, packages)
    if cold and f.engine:
        f.buildkit_cache_bytes = _buildkit_cache()
    if not air_gapped:
        f.unreachable_mirrors = _unreachable(ws, packages)
    return f


SNAPSHOT_FACTOR = 5  # BuildKit's snapshots and cache beside a package's compressed out/ entry


def _disk_estimate(ws, names: list[str], sizes: dict[str, int]) -> int:
    """Space the packages not yet in out/ will take: from recorded history (their last out/ entry
    times SNAPSHOT_FACTOR) where there is some, else the seed's 500 GB for the tree, pro rata."""
    per_package = FULL_TREE_BYTES // FULL_TREE_PACKAGES
    total = 0
    for name in names or [""] * FULL_TREE_PACKAGES:
        entry = ws.out_entry(name) if name else None
        if entry is not None and entry.is_dir():
            continue  # already there: needs no new space
        total += sizes[name] * SNAPSHOT_FACTOR if name in sizes else per_package
    return total


def _checkout_problem(root: Path, release: str) -> str | None:
    from rebuildx.checkout import dirty_files, resolve_release
    from rebuildx.proc import run

    try:
        ref, commit = resolve_release(root, release)
        head = run(["git", "-C", str(root), "rev-parse", "HEAD"]).stdout.strip()
        if head != commit:
            return f"at {head[:12]}, not at release {release} ({ref})"
        dirty = dirty_files(root)
        return f"local changes: {', '.join(dirty[:5])}" if dirty else None
    except RebuildxError as e:
        return str(e)


def _stale_fetch(ws, packages: list) -> list[str]:
    if not ws.fetch.is_dir() or not packages:
        return []
    wanted = {str(p.fetch_dir / s.fetch_file(m, p.toml_version)) for p in packages for s in p.sources
              for m in s.mirrors}
    origins = {str(p.fetch_dir) for p in packages}
    stale = []
    for path in sorted(ws.fetch.rglob("*")):
        rel = str(path.relative_to(ws.root))
        if path.is_file() and str(Path(rel).parent) in origins and rel not in wanted and ".rebuildx" not in rel:
            stale.append(rel)
    return stale


def _buildkit_cache() -> int | None:
    from rebuildx.proc import run

    done = run(["docker", "buildx", "du"], check=False, timeout=60)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("Total:"):
            return _parse_size(line.split(":", 1)[1].strip())
    return None


def _parse_size(text: str) -> int:
    units = {"B": 1, "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit):
            try:
                return int(float(text[: -len(unit)]) * units[unit])
            except ValueError:
                return 0
    return 0


def _unreachable(ws, packages: list) -> list[str]:
    """Hosts of the first mirror of every source not yet in fetch/ that answer nothing at all."""
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    import httpx

    hosts = set()
    for p in packages:
        for s in p.sources:
            if not (ws.root / p.fetch_dir / s.fetch_file(s.mirrors[0], p.toml_version)).is_file():
                u = urlsplit(s.fetch_url(s.mirrors[0], p.toml_version))
                hosts.add(f"{u.scheme}://{u.netloc}")

    def down(base: str) -> str | None:
        try:
            httpx.head(base + "/", timeout=5)
            return None
        except httpx.HTTPError:
            return base

    with ThreadPoolExecutor(max_workers=16) as pool:
        return sorted(h for h in pool.map(down, sorted(hosts)) if h)
