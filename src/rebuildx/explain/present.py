"""Presenters: the same `Difference` tree as a terminal report (rich), Markdown, or JSON.

Each is a read-only walk over the tree (difference.py); none computes anything a test of the
library could not see. `max_files` cuts the list of files, never the counts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rebuildx.explain.difference import IDENTICAL, Difference, to_json

_STYLE = {"content": "bold red", "file set": "red", "metadata only": "yellow", "timestamps only": "cyan",
          IDENTICAL: "green"}
_DOC_KINDS = ("index", "manifest", "config", "layers")


def summary(diff: Difference) -> str:
    """One line: the verdict and how many files differ, by class."""
    files = diff.child("files")
    total = len(files.children) + files.omitted if files else 0
    counts = ", ".join(f"{n} {c}" for c, n in diff.counts.items())
    what = diff.classification or "?"
    return f"{what}: {total} files differ ({counts})" if total else what


_DIGEST = re.compile(r"\b(sha256:)?([0-9a-f]{12})[0-9a-f]{52}\b")


def _short(value: str | None, width: int = 72) -> str:
    """For the terminal: digests cut to 12 hex digits, long values to `width`."""
    if value is None:
        return "(absent)"
    value = _DIGEST.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}…", value)
    return value if len(value) <= width else value[:width - 1] + "…"


def _changed(f: Difference) -> str:
    return ", ".join(c.name for c in f.children) or ("only in published" if f.local is None else
                                                      "only in local" if f.published is None else "")


def render_terminal(diff: Difference, console: Console, max_files: int = 50) -> None:
    console.print(f"[bold]{escape(diff.name)}[/]: [{_STYLE.get(diff.classification or '', 'bold red')}]"
                  f"{escape(summary(diff))}[/]")
    console.print(f"  published: {escape(diff.published or '')}\n  local:     {escape(diff.local or '')}")
    for c in diff.comments:
        console.print(f"  {escape(_short(c, 200))}")
    for node in diff.children:
        if node.kind in _DOC_KINDS:
            _terminal_doc(node, console)
    files = diff.child("files")
    if files:
        _terminal_files(files, console, max_files)


def _terminal_doc(node: Difference, console: Console) -> None:
    console.print(f"\n[bold]{node.kind}[/] differs: {escape(_short(node.published))} -> {escape(_short(node.local))}")
    for c in node.comments:
        console.print(f"  [dim]{escape(_short(c, 200))}[/]")
    for child in node.children:
        if child.kind == "field":
            console.print(f"  {escape(child.name)}: {escape(_short(child.published))} -> {escape(_short(child.local))}")
            continue
        label = f" ({child.classification})" if child.classification else ""
        console.print(f"  {escape(child.name)}{label}:")
        for f in child.children:
            console.print(f"    {escape(f.name)}: {escape(_short(f.published))} -> {escape(_short(f.local))}")


def _terminal_files(files: Difference, console: Console, max_files: int) -> None:
    console.print(f"\n[bold]files[/]: {len(files.children) + files.omitted} differ "
                  f"(published {files.published}, local {files.local})")
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for col in ("class", "path", "differs in", "published", "local"):
        table.add_column(col, overflow="fold")
    shown = files.children[:max_files]
    for f in shown:
        table.add_row(f"[{_STYLE.get(f.classification or '', '')}]{escape(f.classification or '')}[/]",
                      escape(f.name), escape(_changed(f)), escape(_short(f.published, 40)),
                      escape(_short(f.local, 40)))
    console.print(table)
    for f in shown:
        if f.comments or f.detail:
            console.print(f"[bold]{escape(f.name)}[/]")
            for c in f.comments:
                console.print(f"  {escape(c)}")
            if f.detail:
                console.print(escape(f.detail), highlight=False)
    rest = len(files.children) - len(shown) + files.omitted
    if rest:
        console.print(f"… and {rest} more files ({', '.join(f'{c} {n}' for c, n in files.counts.items())} in all)")


def _md(text: str | None) -> str:
    return "(absent)" if text is None else "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def render_markdown(diff: Difference, max_files: int = 50) -> str:
    """A Markdown report for a support bundle or an issue."""
    out = [f"# rebuildx explain: {diff.name}", "", f"**Verdict:** {summary(diff)}", "",
           f"- published: {_md(diff.published)}", f"- local: {_md(diff.local)}"]
    out += [f"- {c}" for c in diff.comments]
    for node in diff.children:
        if node.kind in _DOC_KINDS:
            out += _markdown_doc(node)
    files = diff.child("files")
    if files:
        out += _markdown_files(files, max_files)
    return "\n".join(out) + "\n"


def _markdown_doc(node: Difference) -> list[str]:
    out = ["", f"## {node.kind.capitalize()}", "", f"{_md(node.published)} vs {_md(node.local)}", ""]
    out += [f"- {c}" for c in node.comments]
    rows = [(c.name, c.published, c.local) for c in node.children if c.kind == "field"]
    for child in (c for c in node.children if c.kind != "field"):
        rows.append((f"{child.name} ({child.classification or 'differs'})", child.published, child.local))
        rows += [(f"{child.name} {f.name}", f.published, f.local) for f in child.children]
    if rows:
        out += ["| field | published | local |", "| --- | --- | --- |"]
        out += [f"| {_md(name)} | {_md(p)} | {_md(q)} |" for name, p, q in rows]
    return out


def _markdown_files(files: Difference, max_files: int) -> list[str]:
    total = len(files.children) + files.omitted
    out = ["", "## Files", "", f"{total} differ: " + ", ".join(f"{n} {c}" for c, n in files.counts.items()), "",
           "| class | path | differs in | published | local |", "| --- | --- | --- | --- | --- |"]
    shown = files.children[:max_files]
    out += [f"| {f.classification} | {_md(f.name)} | {_changed(f)} | {_md(f.published)} | {_md(f.local)} |"
            for f in shown]
    if total > len(shown):
        out.append(f"\n… and {total - len(shown)} more files.")
    for f in shown:
        if f.children or f.comments or f.detail:
            out += ["", f"### {_md(f.name)}", ""]
            out += [f"- {c.name}: {_md(c.published)} -> {_md(c.local)}" for c in f.children]
            out += [f"- {c}" for c in f.comments]
            if f.detail:
                out += ["", "```", f.detail.replace("```", "'''"), "```"]
    return out


def render_json(diff: Difference, max_files: int | None = None) -> str:
    doc: dict[str, Any] = to_json(diff, max_files)
    return json.dumps(doc, indent=1, sort_keys=False)
