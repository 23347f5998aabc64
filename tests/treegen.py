"""Small StageX-shaped trees for tests, written from scratch (nothing of StageX's is copied).

`write_fixture_tree` writes the standard fixture: a seed package holding the machine's static
busybox (`FROM scratch`, the busybox given as a source with its sha256), core packages built from
tarballs generated here (`RUN --network=none`), one with subpackages, one with two sources, and a
pallet (with `version_from`) combining several. Its sources are served by `Mirror`, a real HTTP
server on 127.0.0.1, or put straight into `fetch/` with `prefill_fetch`.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.server
import io
import json
import tarfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

BUSYBOX = Path("/bin/busybox")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tarball(prefix: str, files: dict[str, str | bytes]) -> bytes:
    """A reproducible .tar.gz: sorted entries, fixed mtimes and owners, no gzip timestamp."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            data = files[name].encode() if isinstance(files[name], str) else files[name]
            info = tarfile.TarInfo(f"{prefix}/{name}")
            info.size, info.mtime, info.mode = len(data), 1, 0o755 if name.endswith(".sh") else 0o644
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def write_package(root: Path, stage: str, origin: str, toml: str, containerfile: str) -> Path:
    directory = root / "packages" / stage / origin
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "package.toml").write_text(toml)
    (directory / "Containerfile").write_text(containerfile)
    return directory


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers with `reply`."""

    def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 (a free port) running `handler` until `close()`."""

    def serve(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.url = f"http://{self.host}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mirror(LoopbackServer):
    """A real HTTP server on 127.0.0.1 serving `files` (URL path -> bytes); counts requests."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        mirror = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                mirror.requests.append(self.path)
                body = mirror.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.reply(200, body)

        self.serve(Handler)


@dataclass
class FixtureTree:
    root: Path
    # fetch path relative to the tree root ("fetch/<stage>/<origin>/<file>") -> bytes
    fetch_files: dict[str, bytes] = field(default_factory=dict)

    def prefill_fetch(self) -> None:
        """Put every source in place under fetch/, as a completed fetch would."""
        for rel, data in self.fetch_files.items():
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


def write_fixture_tree(root: Path, mirror: Mirror | None = None, *, hello_text: str = "hello") -> FixtureTree:
    """Write the standard fixture tree under `root` and publish its sources on `mirror`."""
    base = mirror.url if mirror else "http://127.0.0.1:9"
    tree = FixtureTree(root)

    def source(stage: str, origin: str, file: str, data: bytes) -> str:
        tree.fetch_files[f"fetch/{stage}/{origin}/{file}"] = data
        if mirror:
            mirror.files[f"/{origin}/{file}"] = data
        return sha256(data)

    busybox = BUSYBOX.read_bytes()
    h = source("bootstrap", "seed", "busybox-1.0", busybox)
    write_package(root, "bootstrap", "seed", f'''[package]
name = "seed"
description = "a static busybox, the fixture's seed"
platforms = ["linux/amd64"]

[sources.busybox]
hash = "{h}"
version = "1.0"
file = "busybox-{{version}}"
mirrors = ["{base}/seed/{{file}}"]
''', '''FROM scratch AS build
ARG BUSYBOX_SOURCE
COPY --chmod=0755 fetch/${BUSYBOX_SOURCE} /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]

FROM scratch AS package
COPY --from=build / /
''')

    h = source("core", "hello", "hello-1.2.3.tar.gz",
               tarball("hello-1.2.3", {"hello.sh": f"#!/bin/sh\necho {hello_text}\n"}))
    write_package(root, "core", "hello", f'''[package]
name = "hello"
version = "1.2.3"

[sources.hello]
hash = "{h}"
format = "tar.gz"
file = "hello-{{version}}.{{format}}"
mirrors = ["{base}/hello/{{file}}"]
''', '''FROM stagex/bootstrap-seed AS build
ARG VERSION
ADD fetch/hello-${VERSION}.tar.gz /src/
RUN --network=none mkdir -p /rootfs/usr/bin && cp /src/hello-${VERSION}/hello.sh /rootfs/usr/bin/hello

FROM scratch AS package
COPY --from=build /rootfs/ /
''')

    h = source("core", "tools", "tools-0.9.tar.gz",
               tarball("tools-0.9", {"a.sh": "#!/bin/sh\necho a\n", "b.sh": "#!/bin/sh\necho b\n"}))
    write_package(root, "core", "tools", f'''[package]
name = "tools"
version = "0.9"
subpackages = ["tool-a", "tool-b"]

[sources.tools]
hash = "{h}"
version = "0.9"
file = "tools-{{version}}.tar.gz"
mirrors = ["{base}/tools/{{file}}"]
''', '''FROM stagex/bootstrap-seed AS build
ARG TOOLS_SOURCE
ARG TOOLS_VERSION
ADD fetch/${TOOLS_SOURCE} /src/
RUN --network=none mkdir -p /a/usr/bin /b/usr/bin \\
 && cp /src/tools-${TOOLS_VERSION}/a.sh /a/usr/bin/tool-a \\
 && cp /src/tools-${TOOLS_VERSION}/b.sh /b/usr/bin/tool-b

FROM scratch AS package-tool-a
COPY --from=build /a/ /

FROM scratch AS package-tool-b
COPY --from=build /b/ /
''')

    ha = source("core", "pair", "alpha-2.0.tar.gz", tarball("alpha-2.0", {"alpha.txt": "alpha\n"}))
    hb = source("core", "pair", "beta-3.1.tar.gz", tarball("beta-3.1", {"beta.txt": "beta\n"}))
    write_package(root, "core", "pair", f'''[package]
name = "pair"
version = "1.0"

[sources.alpha]
hash = "{ha}"
version = "2.0"
file = "alpha-{{version}}.tar.gz"
mirrors = ["{base}/pair/{{file}}"]

[sources.beta]
hash = "{hb}"
version = "3.1"
git_sha = "0123456789abcdef0123456789abcdef01234567"
file = "beta-{{version}}.tar.gz"
mirrors = ["{base}/missing/{{file}}", "{base}/pair/{{file}}"]
''', '''FROM stagex/bootstrap-seed AS build
COPY --from=stagex/core-hello . /
ARG ALPHA_SOURCE
ARG BETA_SOURCE
ARG ALPHA_VERSION
ARG BETA_VERSION
ARG BETA_GIT_SHA
ADD fetch/${ALPHA_SOURCE} /src/
ADD fetch/${BETA_SOURCE} /src/
RUN --network=none mkdir -p /rootfs/usr/share/pair \\
 && cat /src/alpha-${ALPHA_VERSION}/alpha.txt /src/beta-${BETA_VERSION}/beta.txt > /rootfs/usr/share/pair/both.txt \\
 && echo ${BETA_GIT_SHA} > /rootfs/usr/share/pair/sha \\
 && cp /usr/bin/hello /rootfs/usr/share/pair/hello-copy

FROM scratch AS package
COPY --from=build /rootfs/ /
''')

    write_package(root, "pallet", "hello-kit", '''[package]
name = "hello-kit"
version_from = "core-hello"
''', '''FROM scratch
COPY --from=stagex/bootstrap-seed . /
COPY --from=stagex/core-hello . /
COPY --from=stagex/core-tool-a . /
COPY --from=stagex/core-pair . /
''')
    return tree


def write_graph_tree(root: Path, graph: dict, real_shaped: bool = False) -> None:
    """A tree from StageX graph metadata (graph.json): each package.toml holds the package's
    metadata and each Containerfile only its dep lines (FROM for the first, COPY for the rest)."""
    by_origin: dict[tuple[str, str], list[dict]] = {}
    for p in graph["packages"]:
        by_origin.setdefault((p["stage"], p["origin"]), []).append(p)
    for (stage, origin), members in by_origin.items():
        first = members[0]
        lines = ["[package]", f"name = {json.dumps(origin)}"]
        if first["version"]:
            lines.append(f"version = {json.dumps(first['version'])}")
        if first["version_from"]:
            lines.append(f"version_from = {json.dumps(first['version_from'])}")
        if first["platforms"]:
            lines.append(f"platforms = {json.dumps(first['platforms'])}")
        if any(m["name"] != origin for m in members) or len(members) > 1:
            lines.append(f"subpackages = {json.dumps([m['name'] for m in members])}")
        for sname, s in first["sources"].items():
            lines.append(f"\n[sources.{sname}]")
            for key in ("hash", "version", "file", "format", "git_sha"):
                if s.get(key):
                    lines.append(f"{key} = {json.dumps(s[key])}")
            lines.append(f"mirrors = {json.dumps(s['mirrors'])}")
        deps = first["deps"]
        if real_shaped:
            cf = real_shaped_containerfile(origin, deps, list(first["sources"]), [m["name"] for m in members])
        else:
            cf = [f"FROM stagex/{deps[0]} AS build"] if deps else ["FROM scratch AS build"]
            cf += [f"COPY --from=stagex/{d} . /" for d in deps[1:]]
        write_package(root, stage, origin, "\n".join(lines) + "\n", "\n".join(cf) + "\n")


def real_shaped_containerfile(origin: str, deps: list[str], sources: list[str], subpackages: list[str]) -> list[str]:
    """A Containerfile laid out as StageX's are (written here, not copied): ARGs, a build stage
    FROM its first dep with the others COPY'd in, the sources ADDed from fetch/, heredoc RUN
    blocks of shell (indented, so never read as dep lines), and one package stage per output."""
    cf = ["ARG VERSION", "ARG SOURCE_DATE_EPOCH=1"] + [f"ARG {s.upper().replace('-', '_')}_SOURCE" for s in sources]
    cf += [f"FROM stagex/{deps[0]} AS build"] if deps else ["FROM scratch AS build"]
    cf += [f"COPY --from=stagex/{d} . /" for d in deps[1:]]
    cf += [f"ADD fetch/${{{s.upper().replace('-', '_')}_SOURCE}} ." for s in sources]
    cf += [f"RUN tar -xf ${{{sources[0].upper().replace('-', '_')}_SOURCE}}" if sources else "RUN true",
           f"WORKDIR /{origin}-${{VERSION}}", "ENV SOURCE_DATE_EPOCH=1", "RUN --network=none <<-EOF",
           "\tset -eux", "\t./configure \\", "\t\t--build=${ARCH}-linux-musl \\",
           "\t\t--host=${ARCH}-linux-musl \\", "\t\t--prefix=/usr \\", "\t\t--sysconfdir=/etc \\",
           "\t\t--mandir=/usr/share/man \\", "\t\t--enable-static", '\tmake -j "$(nproc)"', "EOF",
           "RUN --network=none <<-EOF", "\tset -eux", "\tmake DESTDIR=/rootfs install",
           "\t# FROM stagex/ and COPY --from=stagex/ inside a heredoc are shell, not deps",
           '\tfind /rootfs -exec touch -hcd "@0" "{}" +', "EOF"]
    for name in subpackages:
        target = "package" if name == origin else f"package-{name}"
        cf += ["", f"FROM scratch AS {target}", "COPY --from=build /rootfs/ /"]
    return cf


class FailingServer(LoopbackServer):
    """Serves `files` (path -> bytes), 404 under the `absent` prefixes, 500 for anything else;
    records each request's Basic credentials, so a test sees the password was sent. With
    `challenge`, a request without them is answered 401 first (git sends them only then)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.absent: tuple[str, ...] = ()
        self.challenge = False
        self.users: list[str] = []
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    server.users.append(base64.b64decode(auth[6:]).decode())
                elif server.challenge:
                    self.reply(401, b"who?\n", {"WWW-Authenticate": 'Basic realm="test"'})
                    return
                body = server.files.get(self.path)
                if body is not None:
                    self.reply(200, body)
                else:
                    self.reply(404 if self.path.startswith(server.absent) else 500, b"no\n")

            do_HEAD = do_GET  # noqa: N815

        self.serve(Handler)

    def url_with(self, user: str, password: str, path: str = "") -> str:
        return f"http://{user}:{password}@{self.host}{path}"
