"""Who may sign: the MAINTAINERS file of the release's tree (TOML), plus `--trust`.

StageX's file lists each maintainer's keys as `[keys.<person>.<label>] id = "<primary
fingerprint>"`; a signature counts for the primary key that owns the subkey that made it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable

from rebuildx.errors import RebuildxError

_FPR = re.compile(r"[0-9A-F]{40}")


class MaintainersError(RebuildxError):
    """MAINTAINERS or a --trust fingerprint cannot be read."""


def parse_maintainers(text: str, origin: str) -> dict[str, str]:
    """Primary fingerprint (upper-case hex) -> person."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise MaintainersError(f"{origin}: not TOML: {e}") from e
    keys = doc.get("keys", {})
    if not isinstance(keys, dict):
        raise MaintainersError(f"{origin}: [keys] is not a table")
    out: dict[str, str] = {}
    for person, labels in keys.items():
        for label, key in (labels.items() if isinstance(labels, dict) else []):
            fpr = key.get("id") if isinstance(key, dict) else None
            if not isinstance(fpr, str) or not _FPR.fullmatch(fpr.replace(" ", "").upper()):
                raise MaintainersError(f"{origin}: keys.{person}.{label}.id is not a 40-digit fingerprint")
            out[fpr.replace(" ", "").upper()] = person
    return out


def trusted_keys(maintainers: dict[str, str], extra: Iterable[str]) -> dict[str, str]:
    """MAINTAINERS plus `--trust FPR` (named by their fingerprint)."""
    out = dict(maintainers)
    for fpr in extra:
        clean = fpr.replace(" ", "").upper()
        if not _FPR.fullmatch(clean):
            raise MaintainersError(f"--trust {fpr!r}: not a 40-digit primary key fingerprint")
        out.setdefault(clean, clean)
    return out
