"""`docker buildx build`, called exactly as the release's generated Makefile calls it.

Reference: each release's `src/targets.py` (TARGET_TEMPLATE, get_build_args, get_context_args)
and `src/global.mk` (the exported environment); what changed between releases is the release
profile's (stagex/releases.py). Deliberate differences, none of which reaches the image:
`docker buildx build` for make's `$(BUILDER) build` (`docker build` is buildx's), `--progress=plain`
(make's default is `auto`) so that logs are whole, a dep named twice passed once, and the output
unpacked into a temporary directory that is renamed to `out/<stage>-<name>/` only once it is a
complete OCI layout.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import threading
import time
from pathlib import Path

from rebuildx.engine.base import BuildOutcome, BuildRequest
from rebuildx.engine.builders import DEFAULT, BuilderSpec, answers, builder_env
from rebuildx.engine.check import engine_data_root
from rebuildx.engine.smoke import SmokeResult, run_smoke
from rebuildx.errors import BuildError, RebuildxError, TreeError
from rebuildx.stagex.checkout import package_revision
from rebuildx.stagex.model import Package
from rebuildx.proc import stop_group
from rebuildx.stagex.releases import NEWEST, FetchLink, ReleaseProfile, SourceArgs
from rebuildx.stagex.templating import expand, url_file, version_forms
from rebuildx.workspace import Workspace

# src/global.mk exports these to every build.
BUILD_ENV = {
    "TZ": "UTC",
    "LANG": "C.UTF-8",
    "LC_ALL": "C",
    "SOURCE_DATE_EPOCH": "1",
    "BUILDKIT_MULTI_PLATFORM": "1",
    "DOCKER_BUILDKIT": "1",
}


def build_args(package: Package, profile: ReleaseProfile = NEWEST) -> list[str]:
    """`--target` and `--build-arg`s of `get_build_args` in the release's targets.py, in its order."""
    args: list[str] = []
    if package.subpackage and profile.subpackages:
        args += ["--target", f"package-{package.name}"]
    version = package_version(package, profile)
    if version:
        forms = version_forms(version)
        for key in profile.version_forms:
            args += ["--build-arg", f"{key.upper()}={forms[key]}"]
    if profile.source_args is SourceArgs.FALLBACK:
        return args + _fallback_source_args(package, version)
    for source in package.sources:
        upper = source.name.upper()
        if source.version != "":
            args += ["--build-arg", f"{upper}_VERSION={source.version}"]
            try:
                file = source.build_file(version)
            except (KeyError, IndexError, ValueError) as e:
                raise TreeError(f"{package.directory}/package.toml: package {package.full_name}: "
                                f"[sources.{source.name}] file: {source.file!r} cannot be expanded "
                                f"as StageX's targets.py expands it ({e!r})") from e
            args += ["--build-arg", f"{upper}_SOURCE={file}"]
        if source.git_sha and profile.git_sha:
            args += ["--build-arg", f"{upper}_GIT_SHA={source.git_sha}"]
    return args


def _fallback_source_args(package: Package, version: str | None) -> list[str]:
    """2024.12.0's loop: a source without its own version takes the version of the source before
    it that had one, else the package's (the loop rebinds one variable); the dash and underscore
    forms are the package's, "None" when it has no version."""
    args: list[str] = []
    dash = version.replace(".", "-") if version else "None"
    under = version.replace(".", "_") if version else "None"
    for source in package.sources:
        version = source.version or version
        if not version:
            continue
        template = source.file or url_file(source.mirrors[0])
        try:
            file = expand(template, {"version": version, "version_dash": dash, "version_under": under,
                                     "format": source.format})
        except (KeyError, IndexError, ValueError) as e:
            raise TreeError(f"{package.directory}/package.toml: package {package.full_name}: "
                            f"[sources.{source.name}] file: {template!r} cannot be expanded "
                            f"as StageX 2024.12.0's targets.py expands it ({e!r})") from e
        upper = source.name.upper()
        args += ["--build-arg", f"{upper}_VERSION={version}", "--build-arg", f"{upper}_SOURCE={file}"]
    return args


def package_version(package: Package, profile: ReleaseProfile = NEWEST) -> str | None:
    """The version the release's targets.py sees: version_from is resolved from 2025.07.0 on."""
    return package.version if profile.version_from else package.toml_version


def buildx_argv(package: Package, platform: str, *, profile: ReleaseProfile = NEWEST, revision: str = "",
                no_cache: bool = False, progress: str = "plain") -> list[str]:
    """The whole `docker buildx build` command line of the release, paths relative to the tree root.

    `revision` is 2024.12.0's `$(shell git rev-list HEAD -1 packages/<stage>/<origin>)`
    (checkout.package_revision); no other release uses it."""
    full = package.full_name
    version = package_version(package, profile) or "latest"
    image = profile.image_name(package.stage, package.name)
    output = [f"name={image}", "type=oci", "rewrite-timestamp=true", "force-compression=true"]
    if profile.revision:
        output.append(f"annotation.org.opencontainers.image.revision={revision}")
    if profile.distribution_source:
        output.append(f"annotation.containerd.io/distribution.source.docker.io=stagex/{image}")
    output.append(f"annotation.org.opencontainers.image.version={version}")
    if profile.created:
        output.append("annotation.org.opencontainers.image.created=1970-01-01T00:00:01Z")
    output += ["tar=true", "dest=-"]
    argv = ["docker", "buildx", "build", "--ulimit", "nofile=2048:16384", "--tag", f"stagex/{full}:{version}"]
    if profile.provenance_off:
        argv += ["--provenance=false", "--build-arg", "SOURCE_DATE_EPOCH=1",
                 "--build-arg", "BUILDKIT_MULTI_PLATFORM=1"]
    if profile.dockerfile_check:
        argv += ["--build-arg", "BUILDKIT_DOCKERFILE_CHECK=skip=FromPlatformFlagConstDisallowed;error=true"]
    argv += ["--output", ",".join(output), "--build-context", f"fetch={package.fetch_dir}"]
    for dep in package.deps:
        argv += ["--build-context", f"stagex/{dep}=oci-layout://./out/{dep}"]
    argv += build_args(package, profile)
    if no_cache:
        argv.append("--no-cache")
    argv += [
        f"--platform={package.platform(platform) if profile.platforms else platform}",
        f"--progress={progress}",
        "-f", f"{package.directory}/Containerfile",
        str(package.directory),
    ]
    return argv


def build_env(base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.update(BUILD_ENV)
    return env


# Children run in their own session (a terminal's Ctrl-C is ours to handle), so they would outlive
# a rebuildx killed with SIGKILL; util-linux's setpriv gives them a parent-death signal instead.
_DIE_WITH_US = ["setpriv", "--pdeathsig", "KILL", "--"] if shutil.which("setpriv") else []

_staging_locks: dict[str, threading.Lock] = {}
_staging_guard = threading.Lock()


def link_steps(package: Package, profile: ReleaseProfile = NEWEST) -> list[str]:
    """The recipe's steps that put fetch/ into the package directory, as the release writes them
    (`build --dry-run` prints them; stage_fetch_dir does them)."""
    src, dst = package.fetch_dir, f"{package.directory}/fetch"
    if profile.fetch_link is FetchLink.MERGE:
        return [f"mkdir -p {dst}", f"(cp -lR {src}/* {dst} || true)"]
    if profile.fetch_link is FetchLink.REPLACE:
        return [f"rm -rf {dst}", f"mkdir -p {dst}", f'( [ -z "$(ls -A {src})" ] || cp -lR {src}/* {dst} )']
    return []


def stage_fetch_dir(workspace: Workspace, package: Package, profile: ReleaseProfile = NEWEST) -> None:
    """What the Makefile does before each build (link_steps): make `packages/<stage>/<origin>/fetch`
    hold hard links to the verified files of `fetch/<stage>/<origin>/` (copies across filesystems).

    REPLACE (from 2026.01.0): the directory holds exactly fetch/'s files. MERGE (2025.02.0 to
    2025.10.0): `cp -lR` into what is there, so files fetch/ lacks stay, as with make; a file of
    fetch/'s name but other bytes is replaced (make would keep it: a stale file is never what a
    release built). NONE (2024.12.0): nothing is linked. Subpackages of one origin share the
    directory and may build at once, so it changes only when it differs from fetch/, under a lock
    per origin (make -j would race here).
    """
    if profile.fetch_link is FetchLink.NONE:
        return
    src = workspace.root / package.fetch_dir
    dst = workspace.root / package.directory / "fetch"
    with _staging_guard:
        lock = _staging_locks.setdefault(str(dst), threading.Lock())
    with lock:
        src.mkdir(parents=True, exist_ok=True)
        if profile.fetch_link is FetchLink.MERGE:
            _merge_links(src, dst)
            return
        if _same_tree(src, dst):
            return
        shutil.rmtree(dst, ignore_errors=True)
        dst.mkdir(parents=True)
        for entry in _visible(src):  # `cp -lR fetch/<stage>/<origin>/*`: the shell's * skips dot names
            if entry.is_dir():
                shutil.copytree(entry, dst / entry.name, copy_function=_link_or_copy)
            else:
                _link_or_copy(str(entry), str(dst / entry.name))


def _merge_links(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for top in _visible(src):
        for file in [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file()):
            target = dst / file.relative_to(src)
            if target.is_file() and _same_file(file, target):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.unlink(missing_ok=True)
            _link_or_copy(str(file), str(target))


def _visible(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if not p.name.startswith("."))


def _same_tree(src: Path, dst: Path) -> bool:
    if not dst.is_dir():
        return False
    ours = {p.relative_to(src): p for top in _visible(src) for p in ([top] if top.is_file() else top.rglob("*"))
            if p.is_file()}
    theirs = {p.relative_to(dst): p for p in dst.rglob("*") if p.is_file()}
    if ours.keys() != theirs.keys():
        return False
    return all(_same_file(ours[k], theirs[k]) for k in ours)


def _same_file(a: Path, b: Path) -> bool:
    sa, sb = a.stat(), b.stat()
    if (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino):
        return True
    if sa.st_size != sb.st_size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:  # sources can be GBs: compare in chunks
        while True:
            ca, cb = fa.read(1 << 20), fb.read(1 << 20)
            if ca != cb:
                return False
            if not ca:
                return True


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


class _Failed(BuildError):
    """A build that ran and failed, with what the classifier wants to know of it."""

    def __init__(self, message: str, *, exit_status: int | None = None, timed_out: bool = False) -> None:
        super().__init__(message)
        self.exit_status, self.timed_out = exit_status, timed_out


class BuildxEngine:
    """Builds with the local Docker's default buildx builder (containerd image store), or with
    the builder `builder` names (engine/builders.py): the command line stays the same, only the
    environment (DOCKER_HOST, DOCKER_CONTEXT) and `--builder` say where it runs."""

    name = "buildx"

    def __init__(self, workspace: Workspace, *, timeout: float | None = None,
                 builder: BuilderSpec | None = None, profile: ReleaseProfile = NEWEST) -> None:
        self.workspace = workspace
        self.timeout = timeout
        self.builder = builder or DEFAULT
        self.profile = profile  # the release's recipe (stagex/releases.py)
        self._running: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self._cancelled = False

    def cancel(self) -> None:
        """Stop every build running now (their process groups: buildx and tar)."""
        with self._lock:
            procs = list(self._running)
            self._cancelled = True
        for proc in procs:
            stop_group(proc, grace=5)

    def command(self, request: BuildRequest) -> list[str]:
        package = request.package
        revision = package_revision(self.workspace.root, str(package.directory)) if self.profile.revision else ""
        return buildx_argv(package, request.platform, profile=self.profile, revision=revision,
                           no_cache=request.no_cache)

    def steps(self, request: BuildRequest) -> list[str]:
        """What `build` would run for the request, as shell lines (`build --dry-run`)."""
        package = request.package
        out = f"out/{package.full_name}"
        return [*link_steps(package, self.profile),
                f"{shlex.join(self.command(request))} | tar -C {out} -mx"]

    def build(self, request: BuildRequest) -> BuildOutcome:
        package, ws = request.package, self.workspace
        ws.logs.mkdir(parents=True, exist_ok=True)
        log = ws.logs / f"{package.full_name}{request.log_suffix}.log"
        start = time.monotonic()
        try:
            stage_fetch_dir(ws, package, self.profile)
            argv = self.command(request)
            self._run(argv, request.dest, log)
        except _Failed as e:
            return BuildOutcome(package.full_name, False, time.monotonic() - start, log, str(e),
                                exit_status=e.exit_status, timed_out=e.timed_out, interrupted=self._cancelled)
        except RebuildxError as e:
            return BuildOutcome(package.full_name, False, time.monotonic() - start, log, str(e))
        return BuildOutcome(package.full_name, True, time.monotonic() - start, log)

    def answers(self) -> bool:
        """Does the builder answer now? (A failed build on a builder that does not is no verdict
        on the package.)"""
        return answers(self.builder)

    def smoke(self) -> SmokeResult:
        """The engine smoke test on this builder, uncached: asked before a failed build is tried again."""
        return run_smoke(builder_env(self.builder), self.builder.buildx_args())

    def data_root(self) -> Path | None:
        """Where the engine keeps images and snapshots, if it is on this machine (for free disk)."""
        return engine_data_root() if self.builder is DEFAULT else None  # a remote builder's disk is not ours

    def _run(self, argv: list[str], dest: Path, log: Path) -> None:
        """`docker buildx build … | tar -C dest -mx`, as the Makefile pipes it."""
        argv = [*argv[:3], *self.builder.buildx_args(), *argv[3:]]
        with open(log, "wb") as logf:
            if self.builder is not DEFAULT:
                logf.write(f"# builder {self.builder.name}\n".encode())
            logf.write(("$ " + " ".join(argv) + "\n").encode())
            logf.flush()
            build = subprocess.Popen([*_DIE_WITH_US, *argv], cwd=self.workspace.root,
                                     env=build_env(builder_env(self.builder)),
                                     stdout=subprocess.PIPE, stderr=logf, start_new_session=True)
            tar = subprocess.Popen([*_DIE_WITH_US, "tar", "-C", str(dest), "-mx"], stdin=build.stdout,
                                   stderr=logf, start_new_session=True)
            assert build.stdout is not None
            build.stdout.close()
            with self._lock:
                self._running.update((build, tar))
            try:
                rc_build = build.wait(timeout=self.timeout)
                rc_tar = tar.wait(timeout=60)
            except subprocess.TimeoutExpired as e:
                stop_group(build)
                stop_group(tar)
                raise _Failed(f"build timed out after {self.timeout} s; log: {log}", timed_out=True) from e
            except BaseException:
                stop_group(build)
                stop_group(tar)
                raise
            finally:
                with self._lock:
                    self._running.difference_update((build, tar))
        if rc_build != 0:
            raise _Failed(f"docker buildx build exited {rc_build}; log: {log}", exit_status=rc_build)
        if rc_tar != 0:
            raise _Failed(f"unpacking the OCI tarball failed (tar exit {rc_tar}); log: {log}")
