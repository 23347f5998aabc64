"""Helpers for the attestation tests: run facts, keys, signed statements, trees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from rebuildx.compare.verdicts import Comparison, compare
from rebuildx.trust.attest import store
from rebuildx.trust.attest.envelope import sign, to_line
from rebuildx.trust.attest.keys import keygen, load_signer
from rebuildx.trust.attest.statement import RunFacts, bare_hex, statements_for

RELEASE = "2099.01.0"
NOW = datetime(2099, 1, 15, 12, 0, tzinfo=UTC)
A, B, C = "a" * 64, "b" * 64, "c" * 64


def facts(release: str = RELEASE, finished: datetime = NOW - timedelta(hours=1), rebuilder: str = "urn:test") -> RunFacts:
    return RunFacts(release, "d" * 40, "docker buildx", "docker 28.2.2; buildx 0.20.1", "built", rebuilder,
                    finished - timedelta(minutes=30), finished, "0.1.0")


def key(tmp: Path, name: str):
    pub, _ = keygen(tmp / name)
    return load_signer(tmp / name), pub


def signed_lines(comparison: Comparison, run: RunFacts, signer) -> dict[tuple[str, str], list[bytes]]:
    out: dict[tuple[str, str], list[bytes]] = {}
    for s in statements_for(comparison, run):
        r = s["predicate"]["rebuild"]
        out.setdefault((r["package"], bare_hex(r["publishedDigest"])), []).append(to_line(sign(s, signer)))
    return out


def put(root: Path, lines: dict[tuple[str, str], list[bytes]], release: str = RELEASE) -> None:
    with store.locked(root):
        for (package, hex_), ls in lines.items():
            store.append(root, release, package, hex_, ls)
        store.write_index(root)


def matching(names: list[str], digest: str = A) -> Comparison:
    return compare(names, {n: digest for n in names}, {n: digest for n in names})
