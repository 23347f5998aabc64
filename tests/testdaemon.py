"""A Docker engine of the test's own: containerd and dockerd with their own roots, sockets and
network namespace, so faults (a full data-root, a killed containerd, a memory limit, no
containerd image store) are caused for real without touching the machine's shared engine.

dockerd runs with `--bridge=none --iptables=false` (a second dockerd with a bridge would take the
host's docker0), so RUN steps must use `--network=none`, as StageX's do. Starting one takes about
half a second.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise TimeoutError(f"test daemon: {what} did not come up in {timeout:.0f} s")


class TestDaemon:
    """One containerd + dockerd pair; `env` points a docker CLI (and rebuildx) at it."""

    __test__ = False  # not a pytest class

    def __init__(self, base: Path, *, containerd_store: bool = True, data_size: str | None = None,
                 memory_limit: int | None = None) -> None:
        self.base, self.containerd_store, self.data_size = base, containerd_store, data_size
        self.name = "rbxfail" + uuid.uuid4().hex[:8]
        self.memory_limit = memory_limit
        self.cgroup: Path | None = None
        self.containerd: subprocess.Popen | None = None
        self.dockerd: subprocess.Popen | None = None
        self.data = base / "data"
        self.run_dir = Path("/run") / self.name
        self.containerd_sock = self.run_dir / "containerd.sock"
        self.docker_sock = self.run_dir / "docker.sock"

    @property
    def env(self) -> dict[str, str]:
        """DOCKER_HOST, and a docker config of its own (buildx keeps its state there)."""
        return {"DOCKER_HOST": f"unix://{self.docker_sock}", "DOCKER_CONFIG": str(self.base / "docker-config")}

    def docker(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["docker", *args], env={**os.environ, **self.env}, capture_output=True, text=True,
                              timeout=60)

    def _in_netns(self, argv: list[str]) -> list[str]:
        # nsenter, not `ip netns exec`: that remounts /sys and hides cgroup v1's mounts from dockerd
        return ["nsenter", f"--net=/run/netns/{self.name}", "--", *argv]

    def start(self) -> TestDaemon:
        try:
            self.data.mkdir(parents=True, exist_ok=True)
            (self.base / "docker-config").mkdir(exist_ok=True)
            self.run_dir.mkdir(parents=True)
            if self.data_size:
                subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.data_size}", "tmpfs", str(self.data)],
                               check=True)
            subprocess.run(["ip", "netns", "add", self.name], check=True)
            subprocess.run(self._in_netns(["ip", "link", "set", "lo", "up"]), check=True)
            if self.memory_limit:
                self.cgroup = _memory_cgroup(self.name, self.memory_limit)
            self.start_containerd()
            self.start_dockerd()
        except BaseException:
            self.stop()
            raise
        return self

    def start_containerd(self) -> None:
        config = self.base / "containerd.toml"
        config.write_text('version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n')
        log = open(self.base / "containerd.log", "ab")
        self.containerd = subprocess.Popen(
            self._in_netns(["containerd", "--config", str(config), "--root", str(self.data / "containerd"),
                            "--state", str(self.run_dir / "containerd-state"),
                            "--address", str(self.containerd_sock)]),
            stdout=log, stderr=log, start_new_session=True)
        _wait_for(self.containerd_sock.exists, 30, "containerd")

    def start_dockerd(self) -> None:
        config = self.base / "daemon.json"
        config.write_text(json.dumps({"features": {"containerd-snapshotter": self.containerd_store}}))
        log = open(self.base / "dockerd.log", "ab")
        argv = ["dockerd", "--config-file", str(config), "--data-root", str(self.data / "docker"),
                "--exec-root", str(self.run_dir / "exec"), "--pidfile", str(self.run_dir / "docker.pid"),
                "-H", f"unix://{self.docker_sock}", "--containerd", str(self.containerd_sock),
                "--bridge=none", "--iptables=false", "--ip6tables=false"]
        if self.cgroup:  # BuildKit's RUN containers go below it, so its memory limit is theirs
            argv.append(f"--cgroup-parent=/{self.cgroup.name}")
        self.dockerd = subprocess.Popen(self._in_netns(argv), stdout=log, stderr=log, start_new_session=True)
        _wait_for(lambda: self.docker("version").returncode == 0, 60, "dockerd")

    def kill_containerd(self) -> None:
        assert self.containerd
        os.killpg(self.containerd.pid, signal.SIGKILL)
        self.containerd.wait()

    def stop(self) -> None:
        for proc in (self.dockerd, self.containerd):
            if proc and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        if Path(f"/run/netns/{self.name}").exists():  # shims and RUN processes left in our netns
            pids = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            subprocess.run(["ip", "netns", "del", self.name], check=False)
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()
                  if line.split()[1].startswith((str(self.base), str(self.run_dir)))]
        for mount in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", mount], check=False)
        if self.cgroup:  # cgroupfs makes the parent in every v1 controller, not only memory
            for group in [self.cgroup, *CGROUP_ROOT.glob(f"*/{self.cgroup.name}")]:
                _remove_cgroup(group)
        shutil.rmtree(self.run_dir, ignore_errors=True)
        shutil.rmtree(self.base, ignore_errors=True)


def _memory_cgroup(name: str, limit: int) -> Path:
    """A cgroup with a memory limit (cgroup v2's memory.max, or v1's memory controller)."""
    if (CGROUP_ROOT / "cgroup.controllers").exists():
        group = CGROUP_ROOT / name
        group.mkdir()
        (group / "memory.max").write_text(str(limit))
        (group / "memory.swap.max").write_text("0")
        return group
    group = CGROUP_ROOT / "memory" / name
    group.mkdir()
    (group / "memory.limit_in_bytes").write_text(str(limit))
    return group


def _remove_cgroup(group: Path) -> None:
    for _ in range(50):  # the kernel lets a group go once its last process has
        try:
            subs = [Path(d) for d, _, _ in os.walk(group)]
            for sub in sorted(subs, key=lambda p: len(str(p)), reverse=True):
                sub.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)
