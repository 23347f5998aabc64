"""`attest publish`: append a local attestation tree to a published one, never rewriting it.

Every line published is first read as a DSSE envelope whose statement is about the package,
digest and release its file is named for: a damaged or misplaced line is refused (naming file
and line) before anything is written, so a published tree only ever grows by whole, well-placed
envelopes. Signatures are not judged here: that is `attest check`'s job, with the reader's keys.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from pathlib import Path

from rebuildx.trust.attest import store
from rebuildx.trust.attest.keys import AttestError
from rebuildx.trust.attest.statement import read_claim


@dataclass(frozen=True)
class Published:
    to: Path
    files: int
    appended: int
    index: Path


def _check_line(entry: store.Entry, n: int, line: bytes) -> None:
    where = f"{entry.path}: line {n}"
    try:
        doc = json.loads(line)
        statement = json.loads(base64.b64decode(doc["payload"], validate=True))
        claim = read_claim(statement)
    except (ValueError, KeyError, TypeError, RecursionError, binascii.Error) as e:
        raise AttestError(f"{where}: not a DSSE envelope of a rebuildx statement ({type(e).__name__}: {e})") from e
    if (claim.package, claim.digest, claim.release) != (entry.package, entry.hex, entry.release):
        raise AttestError(f"{where}: a statement about {claim.package}@sha256:{claim.digest[:12]} of "
                          f"{claim.release}, in the file of another package, digest or release")


def publish(source: Path, to: Path) -> Published:
    """Append every envelope of the tree at `source` that `to` lacks; write `to`'s index."""
    if re.match(r"[a-z][a-z0-9+.-]*:/", str(to)):  # Path("http://h/x") is the folder http:/h/x
        raise AttestError(f"--to {to}: a URL; publish into a directory, and serve or copy it from there")
    entries = store.entries(source)
    if not entries:
        raise AttestError(f"{source}: no attestations to publish (sign some with `verify --attest-key`)")
    batches = []
    for entry in entries:
        lines = [ln if ln.endswith(b"\n") else ln + b"\n" for ln in entry.path.read_bytes().splitlines(keepends=True)
                 if ln.strip()]
        for n, line in enumerate(lines, 1):
            _check_line(entry, n, line)
        batches.append((entry, lines))
    appended = 0
    with store.locked(to):
        for entry, _ in batches:
            store.require_whole(to, entry.release, entry.package, entry.hex)
        for entry, lines in batches:
            appended += store.append(to, entry.release, entry.package, entry.hex, lines)
        index = store.write_index(to)
    return Published(to, len(batches), appended, index)
