"""Trees for builder-farm tests and benches: packages whose builds mostly wait (`RUN sleep`), so
that two cores are not what limits several builders, and packages that differ from build to build.

Every package but the seed is `core-p<NN>`, built on the fixture's busybox seed; its deps are
copied in, and it writes `/usr/share/p<NN>/id`. Nothing of StageX's is copied.
"""

from __future__ import annotations

import random
from pathlib import Path

from treegen import BUSYBOX, sha256, write_package

SEED_TOML = '''[package]
name = "seed"
platforms = ["linux/amd64"]

[sources.busybox]
hash = "{hash}"
version = "1.0"
file = "busybox-{{version}}"
mirrors = ["http://127.0.0.1:9/seed/{{file}}"]
'''

SEED_CONTAINERFILE = '''FROM scratch AS build
ARG BUSYBOX_SOURCE
COPY --chmod=0755 fetch/${BUSYBOX_SOURCE} /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]

FROM scratch AS package
COPY --from=build / /
'''


def write_seed(root: Path) -> None:
    """bootstrap-seed, its busybox already in fetch/ (no mirror needed)."""
    data = BUSYBOX.read_bytes()
    write_package(root, "bootstrap", "seed", SEED_TOML.format(hash=sha256(data)), SEED_CONTAINERFILE)
    fetched = root / "fetch" / "bootstrap" / "seed" / "busybox-1.0"
    fetched.parent.mkdir(parents=True, exist_ok=True)
    fetched.write_bytes(data)


def write_step_package(root: Path, name: str, deps: list[str], step: str) -> None:
    """core-<name>: the seed, its deps copied in, then `step` (a shell command) and an id file."""
    lines = ["FROM stagex/bootstrap-seed AS build"]
    lines += [f"COPY --from=stagex/{d} . /" for d in deps]
    lines.append(f"RUN --network=none mkdir -p /rootfs/usr/share/{name} && echo {name} > "
                 f"/rootfs/usr/share/{name}/id && {step}")
    lines += ["", "FROM scratch AS package", "COPY --from=build /rootfs/ /", ""]
    write_package(root, "core", name, f'[package]\nname = "{name}"\nversion = "1.0"\n', "\n".join(lines))


def write_sleep_tree(root: Path, count: int, *, seed: int = 7, sleep: tuple[float, float] = (1.0, 3.0),
                     max_deps: int = 2) -> dict[str, float]:
    """The seed and `count - 1` packages core-p01…, each with up to `max_deps` deps among earlier
    ones, each sleeping a fixed-seed time from `sleep`. Returns package -> seconds slept."""
    rng = random.Random(seed)
    write_seed(root)
    slept = {"bootstrap-seed": 0.0}
    names: list[str] = []
    for i in range(1, count):
        name = f"p{i:02d}"
        deps = sorted(rng.sample(names, min(len(names), rng.randint(0, max_deps))))
        seconds = round(rng.uniform(*sleep), 1)
        write_step_package(root, name, [f"core-{d}" for d in deps], f"sleep {seconds}")
        slept[f"core-{name}"] = seconds
        names.append(name)
    return slept
