"""The page as one self-contained HTML file: inline CSS, SVG and a little plain JavaScript.

Jinja2 renders it with autoescaping on, so package names, log lines and explain output (all
untrusted text) reach the page as text, never as markup; only the charts, which escape their
own text (svg.py), are inserted as they are. The page's Content-Security-Policy forbids any
request, so it works alike from `file://` and published on a server.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from rebuildx.errors import RebuildxError
from rebuildx.net import redact
from rebuildx.report import svg
from rebuildx.report.page import Page

_ENV = Environment(loader=PackageLoader("rebuildx.report", "templates"),
                   autoescape=select_autoescape(default=True, default_for_string=True),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_ENV.filters["duration"] = lambda s: svg.duration(s) if s is not None else ""
_ENV.filters["day"] = svg.day


def render(page: Page) -> str:
    return _ENV.get_template("page.html.j2").render(page=page)


def write_html(page: Page, path: Path) -> Path:
    """Write the page whole or not at all (a reader never sees half a page)."""
    text = redact(render(page))  # what the reports and the ledger quote of a URL: no password
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        raise RebuildxError(f"{path}: cannot write the HTML report: {e.strerror or e}") from e
    finally:  # the temporary is gone after the rename; a failure or an interrupt leaves none either
        with contextlib.suppress(OSError):
            tmp.unlink()
    return path
