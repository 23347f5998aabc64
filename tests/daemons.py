"""Extra Docker daemons for tests and benches: each with its own containerd, data-root, exec-root
and socket, in its own network namespace, so that several BuildKit builders run on one machine
without touching the shared daemon.

`nsenter --net` (not `ip netns exec`) enters only the network namespace: `ip netns exec` also
remounts /sys, which hides the cgroup mounts dockerd needs. Inside its namespace a daemon may keep
its own docker0 bridge (BuildKit's default network for `RUN` needs one); nothing of it reaches the
host's network, and `--iptables=false` leaves the host's rules alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

_DAEMON_JSON = '{"features": {"containerd-snapshotter": true}}\n'


@dataclass
class Daemon:
    """One extra dockerd and its containerd, in netns `netns`, answering on `socket`."""

    name: str
    base: Path
    netns: str
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def socket(self) -> Path:
        return self.base / "docker.sock"

    @property
    def host(self) -> str:
        """The DOCKER_HOST URL of this daemon."""
        return f"unix://{self.socket}"

    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": self.host}

    def _spawn(self, what: str, argv: list[str]) -> None:
        log = open(self.base / f"{what}.log", "ab")
        self.procs[what] = subprocess.Popen(["nsenter", f"--net=/run/netns/{self.netns}", *argv],
                                            stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        log.close()

    def start(self, timeout: float = 60) -> None:
        """Start containerd (when it is not running) and dockerd; wait until dockerd answers."""
        b = self.base
        if "containerd" not in self.procs or self.procs["containerd"].poll() is not None:
            (b / "containerd.toml").write_text(
                f'version = 2\nroot = "{b}/containerd-root"\nstate = "{b}/containerd-state"\n'
                f'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                f'[grpc]\n  address = "{b}/containerd.sock"\n[ttrpc]\n  address = "{b}/containerd.sock.ttrpc"\n')
            self._spawn("containerd", ["containerd", "--config", str(b / "containerd.toml")])
            _wait_for(lambda: (b / "containerd.sock").exists(), timeout, f"{self.name}: containerd")
        (b / "daemon.json").write_text(_DAEMON_JSON)
        self.socket.unlink(missing_ok=True)
        self._spawn("dockerd", ["dockerd", "--config-file", str(b / "daemon.json"),
                                "--containerd", str(b / "containerd.sock"), "--data-root", str(b / "data"),
                                "--exec-root", str(b / "exec"), "--pidfile", str(b / "dockerd.pid"),
                                "-H", self.host, "--iptables=false", "--ip6tables=false"])
        _wait_for(self.answers, timeout, f"{self.name}: dockerd (log: {b / 'dockerd.log'})")

    def answers(self) -> bool:
        done = subprocess.run(["docker", "version", "-f", "{{.Server.Version}}"], env=self.env(),
                              capture_output=True, text=True, timeout=30)
        return done.returncode == 0

    def kill(self) -> None:
        """SIGKILL dockerd, as a crash would (containerd keeps running)."""
        proc = self.procs.get("dockerd")
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()

    def stop(self) -> None:
        for what in ("dockerd", "containerd"):
            proc = self.procs.pop(what, None)
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class Daemons:
    """`count` extra daemons under one temporary directory; `close()` stops and removes them all."""

    def __init__(self, count: int, prefix: str = "rbx") -> None:
        self.base = Path(tempfile.mkdtemp(prefix=f"{prefix}d-", dir="/tmp"))  # unix socket paths are short
        tag = f"{prefix}{os.getpid()}"
        self.daemons: list[Daemon] = []
        try:
            for i in range(count):
                d = Daemon(f"d{i + 1}", self.base / f"d{i + 1}", f"{tag}-{i + 1}")
                d.base.mkdir()
                subprocess.run(["ip", "netns", "add", d.netns], check=True)
                self.daemons.append(d)
                subprocess.run(["ip", "netns", "exec", d.netns, "ip", "link", "set", "lo", "up"], check=True)
                d.start()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for d in self.daemons:
            d.stop()
        for d in self.daemons:
            _stop_shims(d.base)
            subprocess.run(["ip", "netns", "del", d.netns], capture_output=True)
        _unmount_under(self.base)
        shutil.rmtree(self.base, ignore_errors=True)


def _wait_for(ready, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")


def _stop_shims(base: Path) -> None:
    """containerd shims outlive their containerd: end the ones started for `base`."""
    for pid_dir in Path("/proc").iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            cmdline = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "containerd-shim" in cmdline and str(base) in cmdline:
            try:
                os.kill(int(pid_dir.name), signal.SIGKILL)
            except ProcessLookupError:
                pass


def _unmount_under(base: Path) -> None:
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for point in sorted((m for m in mounts if m.startswith(str(base))), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)
