"""Benchmark: `rebuildx explain` vs diffoscope on two image tarballs that differ in three files.

Writes two OCI images (docker-save style tarballs) of a few hundred MB of files in three layers;
the second has one file changed in each layer. Then times explain listing the differing files
and diffoscope on the two tarballs, checks both found the same three files, and prints the
ratio. Run from the repository root:

    .venv/bin/python bench/explain.py [--mb 300] [--diffoscope diffoscope]

diffoscope pairs tar members by name and OCI blobs are named by digest, so it only looks inside
the changed layers when it can pair them by similarity (python3-tlsh). Without tlsh it reports
the blobs as added/removed and cannot name the files. The bench prints a ratio only when both
named exactly the three changed files; it stops with an error when diffoscope is missing, fails,
or names other files.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from rebuildx.explain import TarballSource, compare_images

LAYERS = 3
FILE_KB = 256


def file_name(layer: int, n: int) -> str:
    return f"layer{layer}/dir{n % 7}/file{n:05d}.bin"


CHANGED = [file_name(i, 17 + i * 5) for i in range(LAYERS)]  # one file per layer


def file_bytes(rng: random.Random, n: int) -> bytes:
    """Half random, half repetitive: compresses about as well as binaries do."""
    half = n // 2
    return rng.randbytes(half) + (b"rebuildx-bench " * (n // 15 + 1))[:n - half]


def layer(i: int, files: int, changed: bool) -> bytes:
    rng, raw = random.Random(i), io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for n in range(files):
            name = file_name(i, n)
            data = file_bytes(rng, FILE_KB * 1024)
            if changed and name == CHANGED[i]:
                data = data[:1000] + b"CHANGED" + data[1007:]
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), compresslevel=1, mtime=0)


def write_image(tarball: Path, layers: list[bytes]) -> None:
    blobs: dict[str, bytes] = {}

    def put(data: bytes) -> dict:
        digest = hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"digest": f"sha256:{digest}", "size": len(data)}

    diff_ids = ["sha256:" + hashlib.sha256(gzip.decompress(b)).hexdigest() for b in layers]
    config = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **put(json.dumps(config).encode())},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **put(b)} for b in layers]}
    top = {"mediaType": manifest["mediaType"], **put(json.dumps(manifest).encode())}
    files = {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}',
             "index.json": json.dumps({"schemaVersion": 2, "manifests": [top]}).encode(),
             **{f"blobs/sha256/{d}": b for d, b in sorted(blobs.items())}}
    with tarfile.open(tarball, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1
            tar.addfile(info, io.BytesIO(data))


def time_explain(a: Path, b: Path) -> tuple[float, set[str]]:
    start = time.perf_counter()
    with TarballSource(a) as pa, TarballSource(b) as pb:
        diff = compare_images(pa, pb)
    return time.perf_counter() - start, {f.name for f in diff.files()}


def time_diffoscope(tool: str, a: Path, b: Path, timeout: float) -> tuple[float, set[str]]:
    """diffoscope's time and the bench files it names; stops the bench when it did not run as a
    baseline must (exit 1: differences found; 0 would mean it saw none, 2 that it failed)."""
    start = time.perf_counter()
    done = subprocess.run([tool, "--no-progress", "--text", "-", str(a), str(b)], capture_output=True,
                          text=True, timeout=timeout)
    seconds = time.perf_counter() - start
    if done.returncode != 1:
        sys.exit(f"bench: diffoscope exited {done.returncode} (1 = differences found): no baseline\n"
                 f"{done.stderr[-2000:]}")
    return seconds, set(re.findall(r"layer\d/dir\d/file\d{5}\.bin", done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=300, help="uncompressed MB of files per image")
    parser.add_argument("--diffoscope", default="diffoscope")
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    tool = shutil.which(args.diffoscope)
    files = max(10, args.mb * 1024 // FILE_KB // LAYERS)
    with tempfile.TemporaryDirectory(prefix="bench-explain-") as tmp:
        a, b = Path(tmp) / "published.tar", Path(tmp) / "local.tar"
        start = time.perf_counter()
        write_image(a, [layer(i, files, False) for i in range(LAYERS)])
        write_image(b, [layer(i, files, True) for i in range(LAYERS)])
        print(f"images: {LAYERS} layers x {files} files x {FILE_KB} KiB = "
              f"{LAYERS * files * FILE_KB // 1024} MiB each; tarballs {a.stat().st_size >> 20} MiB and "
              f"{b.stat().st_size >> 20} MiB; written in {time.perf_counter() - start:.1f} s")
        t_explain, found = time_explain(a, b)
        print(f"explain:    {t_explain:8.2f} s  found {sorted(found)}")
        if found != set(CHANGED):
            sys.exit(f"explain found {sorted(found)}, expected {CHANGED}")
        if tool is None:
            sys.exit(f"bench: diffoscope is not installed ({args.diffoscope}): no baseline to compare with")
        t_diffoscope, dfound = time_diffoscope(tool, a, b, args.timeout)
        print(f"diffoscope: {t_diffoscope:8.2f} s  found {sorted(dfound)}")
        if dfound != set(CHANGED):
            sys.exit(f"bench: diffoscope named {sorted(dfound)}, not the changed {CHANGED}: the two did not do the "
                     "same work, so no ratio (diffoscope pairs tar members by name and the changed layers are "
                     "blobs with other digests: install python3-tlsh for its fuzzy matching)")
        print(f"ratio: explain is {t_diffoscope / t_explain:.1f}x faster")


if __name__ == "__main__":
    main()
