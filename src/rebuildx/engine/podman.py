"""`podman build` (Buildah), a second engine written independently of BuildKit.

Its images never replace BuildKit's: they go to `.rebuildx/engines/podman/out/` (a `Workspace`
of engine "podman"), and are compared with BuildKit's by content, not by digest (another tar
writer, compressor and config history make the digests differ by construction).

Per package, as StageX's Makefile does for buildx: `packages/<stage>/<origin>/fetch` holds the
verified sources; each dep is loaded from this engine's own out/ into containers-storage under
the name the Containerfile uses (`docker.io/stagex/<dep>:latest`), and `--pull=never` makes
`FROM stagex/<dep>` take it; the build args and platform are the Makefile's, `--timestamp 1`
fixes the image's and the files' times (SOURCE_DATE_EPOCH=1), the network is off. The image is
saved as an OCI archive and unpacked into the destination directory.

Podman is called as `rebuildx-podman` when that is on PATH (scripts/setup installs it: Debian
13's Podman, on Debian 12 from a root filesystem of Debian 13's packages, since Debian 12's
Buildah 1.28 has no heredocs), else as `podman`; `REBUILDX_PODMAN` names another command.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import threading
import time
import uuid

from rebuildx.engine.base import BuildOutcome, BuildRequest
from rebuildx.engine.buildx import build_args, stage_fetch_dir
from rebuildx.errors import BuildError, EngineError, RebuildxError
from rebuildx.proc import run, stop_group
from rebuildx.stagex.model import Package
from rebuildx.workspace import Workspace

MIN_PODMAN = (4, 8)  # Buildah 1.33: the first with heredocs (`COPY <<EOF`, `RUN <<EOF`)


def podman_command() -> list[str]:
    """How to call Podman here (see the module docstring)."""
    named = os.environ.get("REBUILDX_PODMAN")
    if named:
        return named.split()
    return ["rebuildx-podman"] if shutil.which("rebuildx-podman") else ["podman"]


def _nproc() -> list[str]:
    """runc and crun set every rlimit they are given or default to; as root in a container they may
    not raise RLIMIT_NPROC past its hard limit, so the build is given that limit explicitly."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
    return [] if hard == resource.RLIM_INFINITY else ["--ulimit", f"nproc={hard}:{hard}"]


def image_name(dep: str) -> str:
    """The name `FROM stagex/<dep>` resolves to in containers-storage."""
    return f"docker.io/stagex/{dep}:latest"


def podman_argv(package: Package, platform: str, tag: str, *, no_cache: bool = False,
                storage: list[str] | None = None) -> list[str]:
    """The `podman build` command line for one package (paths relative to the tree root)."""
    argv = [
        *podman_command(), *(storage or []), "build",
        "--pull=never", "--network=none", "--no-hosts", "--no-hostname", "--timestamp", "1",
        "--ulimit", "nofile=2048:16384", *_nproc(),
        "--tag", tag,
        "--build-arg", "SOURCE_DATE_EPOCH=1",
        "--build-context", f"fetch={package.fetch_dir}",
        *build_args(package),
    ]
    if no_cache:
        argv.append("--no-cache")
    argv += [f"--platform={package.platform(platform)}", "-f", f"{package.directory}/Containerfile",
             str(package.directory)]
    return argv


class PodmanEngine:
    """Builds into a Workspace of engine "podman" (its own out/, state and logs)."""

    name = "podman"

    def __init__(self, workspace: Workspace, *, timeout: float | None = None) -> None:
        if workspace.engine != "podman":
            raise RebuildxError("PodmanEngine needs the podman workspace (Workspace(root, engine='podman'))")
        self.workspace = workspace
        self.timeout = timeout
        self._running: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self._env = {**os.environ, "REBUILDX_PODMAN_BINDS": str(workspace.root.resolve())}
        # containers-storage of this workspace alone: the deps are tagged by their StageX names, which
        # another tree's run (a tampered one, say) must never retag under this one's builds
        root = workspace.state_dir.resolve()
        self.storage = ["--root", str(root / "storage"), "--runroot", str(root / "storage-run")]
        self._cleaned = False

    def _podman(self) -> list[str]:
        return [*podman_command(), *self.storage]

    def _clean_once(self, logf) -> None:
        """Containers a killed run left in this workspace's storage (builds run under its lock)."""
        with self._lock:
            if self._cleaned:
                return
            self._cleaned = True
        self._run([*self._podman(), "rm", "--all", "--force"], logf, 120, check=False)

    def cancel(self) -> None:
        with self._lock:
            procs = list(self._running)
        for proc in procs:
            stop_group(proc, grace=5)

    def command(self, request: BuildRequest) -> list[str]:
        return podman_argv(request.package, request.platform, "rebuildx/<package>:<run>", no_cache=request.no_cache)  # storage: not an input

    def build(self, request: BuildRequest) -> BuildOutcome:
        package, ws = request.package, self.workspace
        ws.logs.mkdir(parents=True, exist_ok=True)
        log = ws.logs / f"{package.full_name}.log"
        start = time.monotonic()
        tag = f"localhost/rebuildx/{package.full_name}:{uuid.uuid4().hex[:12]}"
        try:
            with open(log, "wb") as logf:
                stage_fetch_dir(ws, package)
                self._clean_once(logf)
                for dep in package.deps:
                    self._load(dep, logf)
                argv = podman_argv(package, request.platform, tag, no_cache=request.no_cache, storage=self.storage)
                self._run(argv, logf, self.timeout, stream=True)
                archive = request.dest.parent / f"{request.dest.name}.oci.tar"
                try:
                    self._run([*self._podman(), "save", "--format", "oci-archive", "-o", str(archive), tag],
                              logf, 600)
                    self._run(["tar", "-C", str(request.dest), "-mxf", str(archive)], logf, 600)
                finally:
                    archive.unlink(missing_ok=True)
                    self._run([*self._podman(), "rmi", "--force", tag], logf, 120, check=False)
        except RebuildxError as e:
            return BuildOutcome(package.full_name, False, time.monotonic() - start, log, f"{e}; log: {log}")
        return BuildOutcome(package.full_name, True, time.monotonic() - start, log)

    def _load(self, dep: str, logf) -> None:
        """Put this engine's build of `dep` into containers-storage under its StageX name."""
        entry = self.workspace.out_entry(dep)
        if not (entry / "index.json").is_file():
            raise BuildError(f"podman: dep {dep} has no podman build in {entry}")
        out = self._run([*self._podman(), "pull", "--quiet", f"oci:{entry.resolve()}"], logf, 600)
        image_id = out.strip().splitlines()[-1] if out.strip() else ""
        if not re.fullmatch(r"[0-9a-f]{64}", image_id):
            raise BuildError(f"podman: loading {entry} gave no image ID ({image_id[:80]!r})")
        self._run([*self._podman(), "tag", image_id, image_name(dep)], logf, 120)

    def _run(self, argv: list[str], logf, timeout: float | None, *, check: bool = True, stream: bool = False) -> str:
        """Run one podman (or tar) command in its own process group, its stderr into the log."""
        logf.write(("$ " + " ".join(argv) + "\n").encode())
        logf.flush()
        proc = subprocess.Popen(argv, cwd=self.workspace.root, env=self._env,  # a build's output: to the log as it comes
                                stdout=logf if stream else subprocess.PIPE, stderr=logf, start_new_session=True)
        with self._lock:
            self._running.add(proc)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as e:
            stop_group(proc)
            raise BuildError(f"{' '.join(argv[:6])} timed out after {timeout} s") from e
        except BaseException:
            stop_group(proc)
            raise
        finally:
            with self._lock:
                self._running.discard(proc)
        text = out.decode("utf-8", "replace") if out else ""
        if check and proc.returncode != 0:
            verb = next((a for a in argv[1:] if not a.startswith(("-", "/"))), "")
            raise BuildError(f"{argv[0]} {verb} exited {proc.returncode}")
        return text


def probe_podman() -> str:
    """Podman's version, or EngineError naming the fix when it is missing, too old, or cannot
    build a heredoc (what 422 of StageX's 444 Containerfiles use)."""
    done = run([*podman_command(), "version", "--format", "{{.Client.Version}}"], check=False, timeout=60)
    if done.returncode != 0:
        raise EngineError("no Podman answers (podman version failed: "
                          f"{(done.stderr.strip().splitlines() or ['not found'])[-1]}); fix: run scripts/setup")
    version = done.stdout.strip()
    m = re.match(r"(\d+)\.(\d+)", version)
    if not m or (int(m[1]), int(m[2])) < MIN_PODMAN:
        raise EngineError(f"Podman {version} has no heredoc support (Buildah < 1.33); need Podman >= "
                          f"{MIN_PODMAN[0]}.{MIN_PODMAN[1]}; fix: scripts/setup installs Debian 13's")
    return version
