"""`--diffoscope`: a detailed diff of each file whose content differs, by diffoscope.

Only those files are taken out of their layers (a second streaming pass over just the layers
that hold them), into a temporary directory under names of our own, bounded in size; diffoscope
runs on each pair with a timeout. Where it is missing, times out or a file is too large, the
file's difference says so in a comment and the explanation stands without it.
"""

from __future__ import annotations

import posixpath
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from rebuildx.errors import RebuildxError
from rebuildx.explain.difference import CONTENT, Difference
from rebuildx.explain.image import DiffoscopeOptions, ExplainOptions, Image
from rebuildx.explain.layers import extract_members
from rebuildx.explain.stream import Readable
from rebuildx.proc import run

MISSING = ("diffoscope is not installed (apt-get install diffoscope-minimal, or pip install diffoscope): "
           "no detailed diff")


def _candidates(root: Difference, pub: Image, loc: Image, opts: DiffoscopeOptions) -> list[Difference]:
    chosen: list[Difference] = []
    for f in root.files():
        p, q = pub.tree.get(f.name), loc.tree.get(f.name)
        if f.classification != CONTENT or not p or not q or p.type != "file" or q.type != "file":
            continue
        if max(p.size, q.size) > opts.max_file_bytes:
            f.comments.append(f"diffoscope: skipped, over {opts.max_file_bytes} bytes")
        elif len(chosen) >= opts.max_files:
            f.comments.append(f"diffoscope: skipped, past the first {opts.max_files} files")
        else:
            chosen.append(f)
    return chosen


def attach_diffoscope(root: Difference, pub: Image, loc: Image, options: ExplainOptions) -> None:
    """Set `detail` (diffoscope's text) or a comment on each content-differing regular file."""
    opts = options.diffoscope
    assert opts is not None
    chosen = _candidates(root, pub, loc, opts)
    if not chosen:
        return
    tool = shutil.which(opts.command)
    if tool is None:
        for f in chosen:
            f.comments.append(MISSING)
        return
    with tempfile.TemporaryDirectory(prefix="rebuildx-explain-") as tmp:
        files = {side: _extract(image, [f.name for f in chosen], Path(tmp) / side, options)
                 for side, image in (("published", pub), ("local", loc))}
        for f in chosen:
            _run_one(tool, f, files["published"].get(f.name), files["local"].get(f.name), opts)


def _extract(image: Image, paths: list[str], where: Path, options: ExplainOptions) -> dict[str, Path]:
    """path -> a file holding its content, taken from the layer its final version is in."""
    by_layer: dict[int, dict[str, Path]] = {}
    for n, path in enumerate(paths):
        target = where / str(n) / (posixpath.basename(path) or "file")  # keep the name: diffoscope reads it
        target.parent.mkdir(parents=True)
        by_layer.setdefault(image.tree[path].layer, {})[path] = target
    descriptors = image.layer_descriptors
    for layer, wanted in sorted(by_layer.items()):
        desc = descriptors[layer]
        cap = options.diffoscope.max_file_bytes if options.diffoscope else 0
        what = f"{image.source.label}: layer {layer + 1}"
        with image.source.open_blob(desc) as reader:
            reader.verified(_extractor(options, what, wanted, cap))
    return {path: target for wanted in by_layer.values() for path, target in wanted.items() if target.exists()}


def _extractor(options: ExplainOptions, what: str, wanted: dict[str, Path], cap: int) -> Callable[[Readable], None]:
    return lambda reader: extract_members(reader, options.limits, what, wanted, cap)


def _run_one(tool: str, f: Difference, a: Path | None, b: Path | None, opts: DiffoscopeOptions) -> None:
    if a is None or b is None:
        f.comments.append("diffoscope: the file could not be taken out of its layer")
        return
    try:
        done = run([tool, "--no-progress", "--text", "-", str(a), str(b)], timeout=opts.timeout,
                   check=False)
    except RebuildxError as e:
        f.comments.append(f"diffoscope: {e}")
        return
    if done.returncode not in (0, 1):
        f.comments.append(f"diffoscope failed (exit {done.returncode}): {done.stderr.strip()[-300:]}")
        return
    lines = done.stdout.splitlines()
    text = "\n".join(lines[:opts.max_output_lines])
    if len(lines) > opts.max_output_lines:
        text += f"\n[… {len(lines) - opts.max_output_lines} more lines cut]"
    f.detail = text
