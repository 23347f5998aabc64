"""Is the local Docker able to build StageX? One clear line with the fix when it is not."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rebuildx.errors import EngineError
from rebuildx.proc import run

MIN_DOCKER = (25, 0)  # first with the OCI exporter and oci-layout:// contexts on the containerd store


@dataclass(frozen=True)
class EngineInfo:
    server_version: str
    buildx_version: str
    containerd_store: bool
    server: str = "docker"  # what answers: a Docker daemon, or a BuildKit of a buildx builder

    @property
    def identity(self) -> str:
        """What goes into every input key: a build by another engine version is another build."""
        return f"{self.server} {self.server_version}; buildx {self.buildx_version}"


def version_tuple(text: str) -> tuple[int, ...]:
    m = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(g or 0) for g in m.groups()) if m else (0,)


def probe_engine(env: Mapping[str, str] | None = None, where: str = "") -> EngineInfo:
    """Ask the local Docker (or the one `env` points at, named `where` in errors) what it is;
    raise EngineError naming the fix when it cannot build."""
    done = run(["docker", "version", "-f", "{{json .Server}}"], check=False, timeout=30, env=env)
    if done.returncode != 0 or done.stdout.strip() in ("", "null"):
        raise EngineError(f"{where}no Docker engine answers (docker version failed: "
                          f"{(done.stderr.strip().splitlines() or ['no output'])[-1]}); "
                          "fix: run scripts/setup, or start dockerd")
    server = json.loads(done.stdout)
    version = server.get("Version", "0")
    bx = run(["docker", "buildx", "version"], check=False, timeout=30, env=env)
    if bx.returncode != 0:
        raise EngineError("docker buildx is missing; fix: apt-get install docker-buildx (scripts/setup does)")
    buildx_version = (bx.stdout.split() + ["?", "?"])[1]
    info = run(["docker", "info", "-f", "{{json .DriverStatus}}"], timeout=30, env=env)
    store = "io.containerd.snapshotter.v1" in info.stdout
    return EngineInfo(version, buildx_version, store)


def require_engine(env: Mapping[str, str] | None = None, where: str = "") -> EngineInfo:
    """`probe_engine`, and refuse an engine too old or without the containerd image store."""
    info = probe_engine(env, where)
    if version_tuple(info.server_version) < MIN_DOCKER:
        raise EngineError(f"{where}Docker {info.server_version} is too old: StageX's builds need the OCI "
                          f"exporter of Docker >= {MIN_DOCKER[0]}; fix: scripts/setup installs Debian 13's docker.io")
    if not info.containerd_store:
        raise EngineError(f'{where}Docker runs without the containerd image store, so BuildKit cannot export OCI '
                          'layouts; fix: add {"features": {"containerd-snapshotter": true}} to '
                          '/etc/docker/daemon.json and restart dockerd')
    return info


def _daemon_info(field: str) -> str | None:
    done = run(["docker", "info", "-f", "{{." + field + "}}"], check=False, timeout=30)
    value = done.stdout.strip()
    return value if done.returncode == 0 and value and value != "<no value>" else None


def daemon_id() -> str:
    """The daemon's own ID: two daemons of one version are two engines (for the smoke cache)."""
    return _daemon_info("ID") or "unknown"


def engine_data_root() -> Path | None:
    """The engine's data-root (DockerRootDir), when it is a directory of this machine: the
    filesystem whose free space decides whether builds fit."""
    root = _daemon_info("DockerRootDir")
    return Path(root) if root and Path(root).is_dir() else None
