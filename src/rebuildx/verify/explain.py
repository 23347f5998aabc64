"""verify's explanations: for each MISMATCH, the published image against the local build."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rebuildx.compare.verdicts import Comparison
from rebuildx.errors import RebuildxError
from rebuildx.net import redact
from rebuildx.explain import explain, open_source, summary, to_json
from rebuildx.outcomes import Verdict
from rebuildx.workspace import Workspace


def explain_mismatches(ws: Workspace, comparison: Comparison, source_of: Callable[[str, str], str],
                       max_files: int = 50) -> dict[str, dict]:
    """For each MISMATCH, the published image against the local build (`explain`), as JSON
    documents by package. A published image that cannot be reached is said so, once per cause:
    after a connection failure the remaining ones are not tried (they would all wait for it)."""
    out: dict[str, dict] = {}
    unreachable: str | None = None
    for v in comparison.verdicts:
        if v.verdict is not Verdict.MISMATCH or v.published is None:
            continue
        if unreachable:
            out[v.package] = {"error": f"not tried: {unreachable}"}
            continue
        spec = source_of(v.package, v.published)
        try:
            with open_source(spec) as source:
                diff = explain(ws, v.package, source)
            out[v.package] = {"summary": summary(diff), "source": redact(spec),
                              "difference": to_json(diff, max_files)}
        except (RebuildxError, OSError) as e:
            out[v.package] = {"error": redact(f"{spec}: {e}"), "source": redact(spec)}
            if "connect" in str(e).lower() or "resolve" in str(e).lower():
                unreachable = redact(f"published images unreachable ({e})")
    return out


def published_image_spec(where: str) -> Callable[[str, str], str]:
    """Where a package's published image is: `<where>/<package>` for a directory of OCI layouts,
    else `<where>/<package>@sha256:<digest>` in a registry."""
    if Path(where).is_dir():
        return lambda package, digest: str(Path(where) / package)
    return lambda package, digest: f"{where.rstrip('/')}/{package}@sha256:{digest}"
