"""StageX's own `src/targets.py`, timed inside BuildKit (rebuildx never runs a tree's code outside
it): an image of this machine's Debian python3.11 (the interpreter, its shared libraries and its
standard library, copied from the host) with the checkout in it; a RUN step times
`python3.11 src/targets.py` best of N as a whole process (and `python3.11 -c pass`), with no
network, and the figures come back through `--output type=local`.

Used by bench/plan.py --stagex DIR.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from rebuildx.engine.targets import LIBS, TOOLS  # the same interpreter image doctor --targets-py uses

TIMER = '''
import subprocess, sys, time
def best(argv, n):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)
n = int(sys.argv[1])
py = "/usr/bin/python3.11"
with open("/result.txt", "w") as f:
    f.write(f"{best([py, '-c', 'pass'], n)} {best([py, 'src/targets.py'], n)}\\n")
'''
CONTAINERFILE = '''FROM scratch AS run
COPY rootfs/ /
COPY tree/ /tree
WORKDIR /tree
ENV HOME=/tmp GIT_CONFIG_NOSYSTEM=1
RUN --network=none ["/usr/bin/python3.11", "/timer.py", "{n}"]
FROM scratch
COPY --from=run /result.txt /
'''


def time_targets_py(checkout: Path, n: int) -> tuple[float, float]:
    """(python -c pass, python src/targets.py) best wall seconds of `n`, measured in BuildKit.
    `checkout` should be small (`git clone --depth 1 --branch release/2026.03.0 …`): its .git
    goes into the build context."""
    if not Path("/usr/bin/python3.11").is_file() or not Path("/usr/bin/git").is_file():
        raise SystemExit("bench: the targets.py baseline needs Debian's /usr/bin/python3.11 and /usr/bin/git")
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Path(tmp)
        rootfs = ctx / "rootfs"
        for lib in LIBS + TOOLS:
            dest = rootfs / lib.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(lib).resolve(), dest)
        shutil.copytree("/usr/lib/python3.11", rootfs / "usr/lib/python3.11", symlinks=True,
                        ignore=shutil.ignore_patterns("test", "site-packages", "dist-packages", "__pycache__",
                                                      "idlelib", "tkinter", "ensurepip"))
        (rootfs / "timer.py").write_text(TIMER)
        shutil.copytree(checkout, ctx / "tree", symlinks=True,
                        ignore=shutil.ignore_patterns("out", "fetch", ".rebuildx"))  # .git: for git ls-files
        (ctx / "Containerfile").write_text(CONTAINERFILE.format(n=n))
        out = ctx / "result"
        done = subprocess.run(["docker", "buildx", "build", "--no-cache", "--progress=quiet", "-f",
                               str(ctx / "Containerfile"), "--output", f"type=local,dest={out}", str(ctx)],
                              capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise SystemExit(f"bench: timing targets.py in BuildKit failed: {done.stderr[-1500:]}")
        nothing, targets = map(float, (out / "result.txt").read_text().split())
        return nothing, targets
