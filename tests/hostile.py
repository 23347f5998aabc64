"""Hostile peers and process accounting for the hardening tests (issue 16), all on loopback.

`Flood` is a real HTTP server that answers every GET with `total` bytes (never the file asked
for), with an honest, lying or absent Content-Length, and counts what it managed to send.
`measured` runs rebuildx and returns its exit code, output and peak RSS, as the kernel
accounted it for that process (VmHWM at exit): nothing sampled, nothing estimated.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from treegen import LoopbackServer, QuietHandler

MIB = 1 << 20


class Flood(LoopbackServer):
    """Sends `total` bytes to every GET: `length` is "honest", "absent" (read to close) or
    a number to announce instead."""

    def __init__(self, total: int, length: str | int = "absent") -> None:
        self.total, self.length, self.sent = total, length, 0
        flood = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.0"  # no length: the body ends when the server closes

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self.send_response(200)
                if flood.length == "honest":
                    self.send_header("Content-Length", str(flood.total))
                elif flood.length != "absent":
                    self.send_header("Content-Length", str(flood.length))
                self.end_headers()
                chunk, left = b"\xa5" * MIB, flood.total
                try:
                    while left > 0:
                        n = self.wfile.write(chunk[:min(left, MIB)])
                        flood.sent += n
                        left -= n
                except OSError:
                    pass  # the client stopped reading: what it should do

        self.serve(Handler)


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    max_rss_mb: float


# Runs rebuildx's CLI in this process and, at exit, writes the kernel's peak RSS of this very
# program (VmHWM: per address space, so not the parent's pages a fork or vfork started from,
# which getrusage's ru_maxrss carries over an exec) to the file named by $REBUILDX_TEST_HWM.
_WRAPPER = """
import atexit, os, runpy, sys
def hwm():
    with open("/proc/self/status") as f:
        kb = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    with open(os.environ["REBUILDX_TEST_HWM"], "w") as out:
        out.write(kb)
atexit.register(hwm)
sys.argv[0] = "rebuildx"
runpy.run_module("rebuildx", run_name="__main__", alter_sys=True)
"""


def measured(*args: str, **kw: object) -> Measured:
    """Run `rebuildx args…` to the end and account its peak resident memory."""
    with tempfile.TemporaryDirectory() as tmp:
        hwm = os.path.join(tmp, "hwm")
        env = {**os.environ, "REBUILDX_TEST_HWM": hwm}
        done = subprocess.run([sys.executable, "-c", _WRAPPER, *args], capture_output=True, text=True,
                              env=env, **kw)  # type: ignore[call-overload]
        with open(hwm) as f:
            peak_kb = int(f.read())
    return Measured(done.returncode, done.stdout, done.stderr, peak_kb / 1024)
