"""doctor's facts: what the machine and the checkout are, gathered at the edge for the checks."""

from __future__ import annotations

import os
import platform as pyplatform
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from rebuildx.build.outputs import foreign_entries
from rebuildx.build.run import stale_entries
from rebuildx.doctor.checks import Facts
from rebuildx.engine.check import probe_engine
from rebuildx.engine.podman import probe_podman
from rebuildx.engine.smoke import SmokeResult, smoke_test
from rebuildx.errors import RebuildxError
from rebuildx.net import redact
from rebuildx.proc import run
from rebuildx.stagex.checkout import dirty_files, resolve_release, tree_release
from rebuildx.stagex.model import Package
from rebuildx.stagex.tree import Tree
from rebuildx.state.history import History
from rebuildx.workspace import Workspace

FULL_TREE_BYTES = 500 * 10**9  # the seed's figure for the whole tree
FULL_TREE_PACKAGES = 513


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
    if f.engine:
        f.smoke = _smoke(f.engine.identity)
    f.git = shutil.which("git") is not None
    return f


def _smoke(identity: str) -> SmokeResult:
    """The engine smoke test (a pass is remembered for the day)."""
    try:
        return smoke_test(identity)
    except RebuildxError as e:
        return SmokeResult(False, 0.0, error=str(e))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def gather(root: Path, *, tree: Tree | None = None, packages: Sequence[Package] = (), release: str | None = None,
           cold: bool = False, air_gapped: bool = False, platform: str = "linux/amd64",
           engine: str = "buildx") -> Facts:
    """All facts for a tree and the packages about to be built (none: the machine only)."""
    f = machine_facts(root)
    f.engine_name = engine
    try:
        f.podman = probe_podman()
    except RebuildxError as e:
        f.podman_error = str(e)
    ws = Workspace(root)
    f.release, f.cold, f.air_gapped = release, cold, air_gapped
    packages = list(packages)
    f.platforms = tuple(sorted({p.platform(platform) for p in packages})) or (platform,)
    f.platforms = tuple(sorted({x for p in f.platforms for x in p.split(",")}))
    f.disk_needed_bytes = _disk_estimate(ws, [p.full_name for p in packages], History(ws).sizes())
    f.tree_release = tree_release(root)
    if release:
        f.checkout_problem = _checkout_problem(root, release)
    f.foreign_out = foreign_entries(ws, History(ws)) if ws.out.is_dir() else []
    if f.engine and tree is not None and packages and ws.out.is_dir():
        f.stale_out = stale_entries(ws, tree, f.engine.identity,
                                    [p.full_name for p in packages], platform)
    f.stale_fetch = _stale_fetch(ws, packages)
    if cold and f.engine:
        f.buildkit_cache_bytes = _buildkit_cache()
    if not air_gapped:
        f.unreachable_mirrors = _unreachable(ws, packages)
    return f


SNAPSHOT_FACTOR = 5  # BuildKit's snapshots and cache beside a package's compressed out/ entry


def _disk_estimate(ws: Workspace, names: list[str], sizes: dict[str, int]) -> int:
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
    try:
        ref, commit = resolve_release(root, release)
        head = run(["git", "-C", str(root), "rev-parse", "HEAD"]).stdout.strip()
        if head != commit:
            return f"at {head[:12]}, not at release {release} ({ref})"
        dirty = dirty_files(root)
        return f"local changes: {', '.join(dirty[:5])}" if dirty else None
    except RebuildxError as e:
        return str(e)


def _stale_fetch(ws: Workspace, packages: list[Package]) -> list[str]:
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


def _unreachable(ws: Workspace, packages: list[Package]) -> list[str]:
    """Hosts of the first mirror of every source not yet in fetch/ that answer nothing at all."""
    import httpx  # heavy: only when mirrors are probed

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
        return sorted(redact(h) for h in pool.map(down, sorted(hosts)) if h)
