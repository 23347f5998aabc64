"""The engine smoke test: can this engine build and export an OCI layout at all, right now?

A build `FROM scratch` with one heredoc `COPY` (no `RUN`: no seed image, no network), exported as
an OCI tarball to stdout and checked as a layout holding the file: about a second. It fails when
the engine is in a state in which every package would fail for reasons that are not the
package's (a dead containerd, a full data-root, no containerd image store). A pass is cached per
engine (versions and daemon ID) and day, so `doctor` before each `build` and `verify` asks once a
day; a failure is never cached. The cache is the user's (`$XDG_CACHE_HOME/rebuildx/`), not a
tree's: an engine serves every tree on the machine (and the test suite's many trees would
otherwise pay a second each).
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rebuildx.engine.check import daemon_id
from rebuildx.errors import RebuildxError
from rebuildx.oci.layout import blob_path, check_layout
from rebuildx.proc import stop_group

SMOKE_FILE = "rebuildx-smoke"
SMOKE_TEXT = "rebuildx engine smoke test\n"
CONTAINERFILE = f"FROM scratch\nCOPY <<EOF /{SMOKE_FILE}\n{SMOKE_TEXT}EOF\n"
TIMEOUT = 120.0


def cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rebuildx" / "engine-smoke.json"


@dataclass(frozen=True)
class SmokeResult:
    """How the scratch build went; on failure, buildx's last lines, to name the cause."""

    ok: bool
    seconds: float
    lines: tuple[str, ...] = ()
    exit_status: int | None = None
    error: str | None = None
    cached: bool = False


def smoke_test(identity: str, *, cache: Path | None = None, today: str | None = None) -> SmokeResult:
    """Today's cached pass for this engine, else `run_smoke()` (a pass is remembered)."""
    key = f"{identity}; id {daemon_id()}"
    day = today or time.strftime("%Y-%m-%d", time.gmtime())
    cache = cache or cache_file()
    if _cached_pass(cache, key, day):
        return SmokeResult(True, 0.0, cached=True)
    result = run_smoke()
    if result.ok:
        _remember(cache, key, day)
    return result


def run_smoke(env: Mapping[str, str] | None = None, builder_args: Sequence[str] = ()) -> SmokeResult:
    """The scratch build itself, never cached (on the builder that `env` and `builder_args` name)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rebuildx-smoke-") as tmp:
        context, tarball = Path(tmp) / "context", Path(tmp) / "image.tar"
        context.mkdir()
        (context / "Containerfile").write_text(CONTAINERFILE)
        argv = ["docker", "buildx", "build", *builder_args, "--no-cache", "--provenance=false", "--progress=plain",
                "--output", "type=oci,dest=-", "-f", str(context / "Containerfile"), str(context)]
        status, err = _run(argv, tarball, env)
        lines = tuple(err.splitlines()[-60:])
        if status != 0:
            return SmokeResult(False, time.monotonic() - started, lines, status,
                               f"docker buildx build exited {status}")
        problem = _check(tarball, Path(tmp) / "layout")
        return SmokeResult(problem is None, time.monotonic() - started, lines if problem else (), status, problem)


def _run(argv: list[str], tarball: Path, env: Mapping[str, str] | None) -> tuple[int, str]:
    with open(tarball, "wb") as out:
        try:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, start_new_session=True,
                                    env=dict(env) if env is not None else None)
        except FileNotFoundError:
            return -1, "docker: not found on PATH"
        try:
            _, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            stop_group(proc, grace=5)
            return -1, f"the smoke build gave no answer in {TIMEOUT:.0f} s"
        except BaseException:
            stop_group(proc, grace=5)
            raise
    return proc.returncode, err.decode("utf-8", "replace")


def _check(tarball: Path, layout: Path) -> str | None:
    """None if the tarball is a whole OCI layout whose one layer holds the file; else what is wrong."""
    try:
        with tarfile.open(tarball) as tar:
            tar.extractall(layout, filter="data")
        check_layout(layout)
        if not _holds_file(layout):
            return f"the smoke build's image lacks /{SMOKE_FILE}"
    except (tarfile.TarError, OSError, ValueError, KeyError, RebuildxError) as e:
        return f"the smoke build's OCI export is damaged: {e}"
    return None


def _holds_file(layout: Path) -> bool:
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(blob_path(layout, index["manifests"][0]["digest"]).read_text())
    for layer in manifest["layers"]:
        with tarfile.open(blob_path(layout, layer["digest"])) as tar:
            member = tar.extractfile(SMOKE_FILE)
            if member is not None and member.read().decode() == SMOKE_TEXT:
                return True
    return False


def _cached_pass(cache: Path, key: str, day: str) -> bool:
    try:
        doc = json.loads(cache.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get(key) == day


def _remember(cache: Path, key: str, day: str) -> None:
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        try:
            doc = json.loads(cache.read_text())
        except (OSError, ValueError):
            doc = {}
        doc = {k: v for k, v in doc.items() if v == day} if isinstance(doc, dict) else {}  # older days go
        tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({**doc, key: day}))
        tmp.replace(cache)
    except OSError:
        pass  # a cache that cannot be written costs a second next time, nothing more
