"""A tree's own `src/targets.py`, run inside BuildKit (rebuildx never runs fetched code outside
it), for `doctor --targets-py`: the Makefile the checkout itself generates, to compare rebuildx's
commands with.

The build context is made here: the interpreter (this machine's Debian python3.11, its shared
libraries and standard library, and git, which targets.py calls for its prerequisite lists) and a
copy of the tree's `src/` and `packages/` (without fetched sources) committed to a fresh git
repository, so nothing of the checkout's history or out/ goes in. The step has no network.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from rebuildx.errors import EngineError

PYTHON = "/usr/bin/python3.11"
LIBS = ["/lib/x86_64-linux-gnu/libm.so.6", "/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libexpat.so.1",
        "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libpcre2-8.so.0"]
TOOLS = [PYTHON, "/usr/bin/git"]
RUNNER = """import subprocess, sys
done = subprocess.run([sys.executable, "src/targets.py"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
open("/out/targets.mk", "wb").write(done.stdout)
open("/out/stderr", "wb").write(done.stderr)
open("/out/rc", "w").write(str(done.returncode))
"""
CONTAINERFILE = """FROM scratch AS run
COPY rootfs/ /
COPY tree/ /tree
WORKDIR /tree
ENV HOME=/tmp GIT_CONFIG_NOSYSTEM=1 LC_ALL=C
RUN --network=none ["/usr/bin/python3.11", "/runner.py"]
FROM scratch
COPY --from=run /out/ /
"""


def tree_makefile(root: Path, *, timeout: float = 900) -> str:
    """The output of `python3 src/targets.py` in `root`, run in BuildKit. EngineError when it
    cannot run or fails (its stderr's last line named)."""
    if not (root / "src" / "targets.py").is_file():
        raise EngineError(f"{root}: no src/targets.py to run (a StageX tree from 2024.12.0 on has one)")
    missing = [p for p in LIBS + TOOLS if not Path(p).exists()]
    if missing:
        raise EngineError(f"running src/targets.py in BuildKit needs this machine's {', '.join(missing)} "
                          f"(Debian's python3.11 and git); install them, or pass --makefile FILE")
    with tempfile.TemporaryDirectory(prefix="rebuildx-targets-") as tmp:
        ctx = Path(tmp)
        _rootfs(ctx / "rootfs")
        _tree_copy(root, ctx / "tree")
        (ctx / "Containerfile").write_text(CONTAINERFILE)
        out = ctx / "result"
        try:
            done = subprocess.run(["docker", "buildx", "build", "--progress=quiet", "-f", str(ctx / "Containerfile"),
                                   "--output", f"type=local,dest={out}", str(ctx)],
                                  capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise EngineError(f"running src/targets.py in BuildKit: {e}") from e
        if done.returncode != 0:
            raise EngineError(f"running src/targets.py in BuildKit failed: {_last_line(done.stderr)}")
        if (out / "rc").read_text() != "0":
            raise EngineError(f"{root}/src/targets.py exited {(out / 'rc').read_text()} in BuildKit: "
                              f"{_last_line((out / 'stderr').read_text(errors='replace'))}")
        return (out / "targets.mk").read_text(errors="replace")


def _rootfs(rootfs: Path) -> None:
    for path in LIBS + TOOLS:
        dest = rootfs / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(path).resolve(), dest)
    shutil.copytree("/usr/lib/python3.11", rootfs / "usr/lib/python3.11", symlinks=True,
                    ignore=shutil.ignore_patterns("test", "site-packages", "dist-packages", "__pycache__",
                                                  "idlelib", "tkinter", "ensurepip"))
    (rootfs / "out").mkdir()
    (rootfs / "runner.py").write_text(RUNNER)


def _tree_copy(root: Path, tree: Path) -> None:
    """src/ and packages/ (not packages/*/*/fetch), committed to a new repository: targets.py asks
    git for each package's files (only its prerequisite lists use them)."""
    shutil.copytree(root / "src", tree / "src", symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(root / "packages", tree / "packages", symlinks=True, ignore=_fetch_dirs)
    git = ["git", "-C", str(tree), "-c", "user.name=rebuildx", "-c", "user.email=rebuildx@localhost"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "tree", "--allow-empty"]):
        done = subprocess.run([*git, *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise EngineError(f"preparing the tree for src/targets.py: git {args[0]}: {_last_line(done.stderr)}")


def _fetch_dirs(directory: str, names: list[str]) -> list[str]:
    return ["fetch"] if Path(directory).parent.parent.name == "packages" and "fetch" in names else []


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"
