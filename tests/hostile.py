"""Hostile peers and process accounting for the hardening tests (issue 16), all on loopback.

`Flood` is a real HTTP server that answers every GET with `total` bytes (never the file asked
for), with an honest, lying or absent Content-Length, and counts what it managed to send.
`measured` runs a command and returns its exit code, output and peak RSS, as the kernel
accounted it for that process (`wait4`'s rusage): nothing sampled, nothing estimated.
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


def measured(args: list[str], **kw: object) -> Measured:
    """Run `args` to the end and account its peak resident memory (ru_maxrss of this child
    alone, from wait4; the output goes through files so that nothing reaps it first)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(args, stdout=out, stderr=err, text=True, **kw)  # type: ignore[call-overload]
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(p.returncode, out.read(), err.read(), usage.ru_maxrss / 1024)


def rebuildx_args(*args: str) -> list[str]:
    return [sys.executable, "-m", "rebuildx", *args]
