"""A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1.

`LocalRegistry` starts `docker-registry serve` with its own config and storage under a temporary
directory, waits until `/v2/` answers, and stops it on `close()`. Images go in with skopeo
exactly as built (`--all --preserve-digests`), so the registry serves the same index and
manifest digests as the OCI layout that was pushed. `tamper_blob` overwrites a stored blob behind
the registry's back, as a broken or hostile server would serve it.

    with LocalRegistry() as reg:
        reg.push(Path("out/core-hello"), "stagex/core-hello", "1.2.3")
        ref = f"{reg.host}/stagex/core-hello@sha256:..."
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

CONFIG = """version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: {addr}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalRegistry:
    """`docker-registry serve` on 127.0.0.1:<free port>, storage in a temporary directory.

    No blob-descriptor cache is configured, so a tampered blob is served as it now is on disk.
    """

    def __init__(self, workdir: Path | None = None, *, startup_timeout: float = 20.0) -> None:
        self._own_dir = workdir is None
        self.dir = Path(tempfile.mkdtemp(prefix="regserver-")) if workdir is None else workdir
        self.root = self.dir / "storage"
        self.root.mkdir(parents=True, exist_ok=True)
        self.log = self.dir / "registry.log"
        self.proc: subprocess.Popen[bytes] | None = None
        for _ in range(3):  # a free port can be taken by someone else before the server binds it
            self.host = f"127.0.0.1:{free_port()}"
            if self._start(startup_timeout):
                return
        self.close()
        raise RuntimeError(f"docker-registry did not start: {self.log.read_text()[-2000:]}")

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def _start(self, timeout: float) -> bool:
        config = self.dir / "config.yml"
        config.write_text(CONFIG.format(root=self.root, addr=self.host))
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/v2/", timeout=2) as answer:
                    if answer.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.05)
        self._stop()
        return False

    def push(self, layout_dir: Path, repo: str, tag: str) -> None:
        """Copy the OCI layout's image (index.json's single entry, all platforms) unchanged."""
        argv = ["skopeo", "copy", "--all", "--preserve-digests", "--dest-tls-verify=false", "-q",
                f"oci:{layout_dir}", f"docker://{self.host}/{repo}:{tag}"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"skopeo copy failed: {done.stderr.strip()}")

    def blob_file(self, digest: str) -> Path:
        """Where the registry stores the blob `sha256:<hex>` (manifests are blobs too)."""
        hexpart = digest.split(":", 1)[1]
        return self.root / "docker/registry/v2/blobs/sha256" / hexpart[:2] / hexpart / "data"

    def tamper_blob(self, digest: str, data: bytes | None = None) -> None:
        """Overwrite the stored blob: with `data`, or by flipping one byte in its middle (same size)."""
        path = self.blob_file(digest)
        if not path.is_file():
            raise FileNotFoundError(f"no stored blob {digest} in {self.root}")
        if data is None:
            data = bytearray(path.read_bytes())
            data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))

    def _stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self) -> None:
        self._stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> LocalRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Small images written by hand (OCI image spec), for registry and explain tests.

def _put_blob(layout: Path, data: bytes) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def layer_tar(members: list[tuple[tarfile.TarInfo, bytes | None]], compress: bool = True) -> bytes:
    """A layer blob from (TarInfo, content) pairs, taken as given: hostile names stay hostile."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return gzip.compress(raw.getvalue(), mtime=0) if compress else raw.getvalue()


def file_info(name: str, data: bytes = b"", mode: int = 0o644, **fields: object) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 1
    for key, value in fields.items():
        setattr(info, key, value)
    return info, data


def _diff_id(blob: bytes) -> str:
    try:
        raw = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
    except (OSError, EOFError):
        raw = blob  # a broken layer on purpose: its config cannot say the truth either
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def write_layout(dest: Path, layers: list[bytes], *, platform: str = "linux/amd64", nested: bool = True,
                 diff_ids: list[str] | None = None, history: list[dict] | None = None) -> dict:
    """An OCI layout shaped like BuildKit's (index.json -> nested index -> manifest) holding
    `layers` (blobs as given, gzip or plain). Returns {"index", "manifest", "config"} digests."""
    dest.mkdir(parents=True, exist_ok=True)
    os_name, arch = platform.split("/")[:2]
    if diff_ids is None:
        diff_ids = [_diff_id(b) for b in layers]
    config = {"architecture": arch, "os": os_name, "config": {"Env": ["PATH=/usr/bin:/bin"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids},
              "history": history or [{"created": "1970-01-01T00:00:01Z", "created_by": "test"}] * len(layers)}
    cdesc = {"mediaType": "application/vnd.oci.image.config.v1+json", **_put_blob(dest, json.dumps(config).encode())}
    ldescs = [{"mediaType": "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if b[:2] == b"\x1f\x8b" else ""),
               **_put_blob(dest, b)} for b in layers]
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": cdesc, "layers": ldescs}
    mdesc = {"mediaType": manifest["mediaType"], **_put_blob(dest, json.dumps(manifest).encode()),
             "platform": {"architecture": arch, "os": os_name}}
    top, index_digest = mdesc, None
    if nested:
        nested_index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": [mdesc]}
        top = {"mediaType": nested_index["mediaType"], **_put_blob(dest, json.dumps(nested_index).encode())}
        index_digest = top["digest"]
    (dest / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (dest / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [top]}))
    return {"index": index_digest, "manifest": mdesc["digest"], "config": cdesc["digest"]}


def layout_tarball(layout: Path, dest: Path) -> Path:
    """A `docker save` (Docker >= 25) style tarball of an OCI layout: the layout's files plus
    the legacy manifest.json Docker writes beside them."""
    index = json.loads((layout / "index.json").read_text())
    with tarfile.open(dest, "w") as tar:
        for path in sorted(layout.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(layout)), recursive=False)
        legacy = json.dumps([{"Config": "", "RepoTags": [], "Layers": [],
                              "Index": index["manifests"][0]["digest"]}]).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(legacy)
        tar.addfile(info, io.BytesIO(legacy))
    return dest
