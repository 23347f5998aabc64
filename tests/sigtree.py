"""A signatures repository for tests: one package per case, hostile ones included, with the
verdict each must get. Digests are made up (signatures never need the images)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from gpgkeys import Keys

RELEASE = "2026.01.0"
TAG = "1.0"


def digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def legacy(name: str, hexdigest: str) -> bytes:
    """The older payload (release 2025.06.0's files)."""
    return json.dumps([{"critical": {"identity": {"docker-reference": f"stagex/{name}"},
                                     "image": {"docker-manifest-digest": hexdigest},
                                     "type": "pgp container image signature"}, "optional": None}],
                      separators=(",", ":")).encode()


def atomic(name: str, hexdigest: str, tag: str = TAG) -> bytes:
    """What current src/sign.sh writes (its printf)."""
    return ('{"critical":{"identity":{"docker-reference":"stagex/%s:%s"},"image":{"docker-manifest-digest":'
            '"sha256:%s"},"type":"atomic container signature"},"optional":{}}' % (name, tag, hexdigest)).encode()


# made before Dave's key was set to expire and Erin's was revoked (see gpgkeys.make_keys)
EARLY = {"expired": ("dave", atomic("core-expired", digest("core-expired")), "20220601T000000"),
         "revoked": ("erin", atomic("core-revoked", digest("core-revoked")), None),
         "expired-later": ("dave", atomic("core-expiredlater", digest("core-expiredlater")), "20200601T000000")}


@dataclass
class SigTree:
    root: Path  # holds stagex/
    published: dict[str, str] = field(default_factory=dict)
    expected: dict[str, str] = field(default_factory=dict)  # package -> verdict with MAINTAINERS' keys

    def put(self, name: str, n: int, data: bytes) -> Path:
        folder = self.root / "stagex" / f"{name}@sha256={self.published[name]}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"signature-{n}").write_bytes(data)
        return folder / f"signature-{n}"


def write_sigtree(root: Path, keys: Keys, outside: Path) -> SigTree:
    """Every case of the issue; `outside` is a folder outside `root` for the symlink case."""
    t = SigTree(root)
    names = ["core-quorum", "core-twice", "core-unsigned", "core-copied", "core-empty", "core-expired",
             "core-revoked", "core-unknown", "core-untrusted", "core-symlink", "core-otherdigest",
             "core-altered", "core-huge", "core-nested", "core-garbage", "core-truncated", "core-subkeys",
             "core-expiredlater"]
    t.published = {n: digest(n) for n in names}
    sign = lambda n, who, **kw: keys.sign(atomic(n, t.published[n]), who, **kw)
    t.put("core-quorum", 1, keys.sign(legacy("core-quorum", t.published["core-quorum"]), "alice"))
    t.put("core-quorum", 2, sign("core-quorum", "bob"))
    t.expected["core-quorum"] = "QUORUM"
    t.put("core-twice", 1, sign("core-twice", "alice"))
    t.put("core-twice", 2, sign("core-twice", "alice"))
    t.expected["core-twice"] = "UNDER_QUORUM"
    t.put("core-subkeys", 1, sign("core-subkeys", keys.subkeys["alice"][0]))
    t.put("core-subkeys", 2, sign("core-subkeys", keys.subkeys["alice"][1], compress=False))
    t.expected["core-subkeys"] = "UNDER_QUORUM"
    t.expected["core-unsigned"] = "UNSIGNED"
    t.put("core-copied", 1, sign("core-copied", "alice"))
    t.put("core-copied", 2, (t.root / "stagex" / f"core-quorum@sha256={t.published['core-quorum']}"
                             / "signature-2").read_bytes())
    t.expected["core-copied"] = "INVALID"
    t.put("core-empty", 1, b"")
    t.expected["core-empty"] = "INVALID"
    t.put("core-expired", 1, keys.early["expired"])
    t.put("core-expired", 2, sign("core-expired", "alice"))
    t.expected["core-expired"] = "INVALID"
    t.put("core-expiredlater", 1, keys.early["expired-later"])  # signed while the key was valid: counts
    t.put("core-expiredlater", 2, sign("core-expiredlater", "bob"))
    t.expected["core-expiredlater"] = "QUORUM"
    t.put("core-revoked", 1, keys.early["revoked"])
    t.put("core-revoked", 2, sign("core-revoked", "bob"))
    t.expected["core-revoked"] = "INVALID"
    t.put("core-unknown", 1, sign("core-unknown", "mallory"))
    t.put("core-unknown", 2, sign("core-unknown", "alice"))
    t.expected["core-unknown"] = "UNDER_QUORUM"
    t.put("core-untrusted", 1, sign("core-untrusted", "carol"))
    t.put("core-untrusted", 2, sign("core-untrusted", "bob"))
    t.expected["core-untrusted"] = "UNDER_QUORUM"
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret").write_bytes(sign("core-symlink", "bob"))
    link = t.put("core-symlink", 1, sign("core-symlink", "alice")).parent / "signature-2"
    os.symlink(outside / "secret", link)
    t.expected["core-symlink"] = "INVALID"
    t.put("core-otherdigest", 1, keys.sign(atomic("core-otherdigest", digest("elsewhere")), "alice"))
    t.put("core-otherdigest", 2, sign("core-otherdigest", "bob"))
    t.expected["core-otherdigest"] = "INVALID"
    good = sign("core-altered", "alice", compress=False)
    assert b":1.0\"" in good
    t.put("core-altered", 1, good.replace(b':1.0"', b':6.6"'))
    t.put("core-altered", 2, sign("core-altered", "bob"))
    t.expected["core-altered"] = "INVALID"
    t.put("core-huge", 1, sign("core-huge", "alice"))
    with open(t.put("core-huge", 2, b"\xa3\x01") , "ab") as f:  # 50 MB behind a plausible header
        f.truncate(50 * 1024 * 1024)
    t.expected["core-huge"] = "INVALID"
    t.put("core-nested", 1, keys.sign(b"[" * 5000 + b"]" * 5000, "alice"))
    t.put("core-nested", 2, keys.sign(b'{"critical":' + b"1" * 70000 + b"}", "bob"))
    t.expected["core-nested"] = "INVALID"
    t.put("core-garbage", 1, b"this is not OpenPGP\n")
    t.expected["core-garbage"] = "INVALID"
    t.put("core-truncated", 1, sign("core-truncated", "alice")[:60])
    t.expected["core-truncated"] = "INVALID"
    # oddities of the real repository: a folder with an empty digest, stray files
    (t.root / "stagex" / "core-quorum@sha256=").mkdir()
    (t.root / "stagex" / "core-quorum@sha256=" / "signature-1").write_bytes(b"")
    (t.root / "stagex" / f"core-twice@sha256={t.published['core-twice']}" / "README").write_text("not a signature")
    return t
