"""Version forms and template expansion, in one place.

StageX expands `{version}`-style templates in two places with two slightly different sets of
values, and rebuildx must reproduce both to the byte:

* `src/fetch.py` names the downloaded file and builds the URL from the *source's* version (or the
  package's own `[package] version` when the source has none), with every version form.
* `src/targets.py` passes `<SOURCE>_SOURCE=<file>` to the build only for sources with their own
  version, and expands the file with the source's `version` but the *package's* (resolved)
  `version_dash` and `version_under`, and no other form.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Mapping
from urllib.parse import urlsplit


def version_forms(version: str | None) -> dict[str, str]:
    """The values StageX derives from a version (`src/common.py`, WithVersion), as a new dict the
    caller may change.

    Like StageX, an empty version gives empty forms, and a version without a dot has
    `version_major_minor` "None" (its helper returns None, which `str.format` prints).
    """
    return dict(_forms(version))


@functools.lru_cache(maxsize=4096)
def _forms(version: str | None) -> dict[str, str]:
    if not version:
        empty = "" if version == "" else "None"
        return {
            "version": empty,
            "version_under": "",
            "version_dash": "",
            "version_major": "",
            "version_major_minor": "",
            "version_strip_suffix": "",
        }
    parts = version.split(".")
    return {
        "version": version,
        "version_under": version.replace(".", "_"),
        "version_dash": version.replace(".", "-"),
        "version_major": parts[0],
        "version_major_minor": ".".join(parts[:2]) if len(parts) >= 2 else "None",
        "version_strip_suffix": version.split("-", 1)[0],
    }


MAX_WIDTH = 255  # NAME_MAX: no file name, and no sane URL part, is padded wider


def expand(template: str, values: Mapping[str, str]) -> str:
    """`str.format` with named values only; raises KeyError/ValueError/IndexError like StageX.
    A format spec that pads wider than MAX_WIDTH, or takes its width from a value, is a
    ValueError before anything is allocated (`{version:>999999999}` would make a gigabyte)."""
    for _, field, spec, _ in string.Formatter().parse(template):
        if not spec:
            continue
        if "{" in spec:
            raise ValueError(f"{{{field}:{spec}}}: a nested field in a format spec")
        widest = max((int(n) for n in re.findall(r"\d+", spec)), default=0)
        if widest > MAX_WIDTH:
            raise ValueError(f"format width {widest} in {{{field}:{spec}}} is over {MAX_WIDTH}")
    return template.format(**values)


def url_file(mirror: str) -> str:
    """The last path segment of a mirror URL template, StageX's default file name."""
    return urlsplit(mirror).path.split("/")[-1]
