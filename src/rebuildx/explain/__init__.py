"""explain: a published image vs the local build of the same package, file by file.

    from rebuildx.explain import explain, open_source, render_terminal
    diff = explain(Workspace(root), "core-bash", open_source("docker.io/stagex/core-bash@sha256:…"))
    diff.classification   # "content", "metadata only", …, "layer split only", "identical"

The comparison builds one `Difference` tree (difference.py); presenters render it (present.py).
"""

from rebuildx.explain.difference import (COMPRESSION, CONFIG_ONLY, CONTENT, FILE_SET, FORMAT_VERSION, IDENTICAL,
                                         LAYER_SPLIT, MANIFEST_ONLY, METADATA, TIMESTAMPS, Difference, from_json,
                                         to_json)
from rebuildx.explain.limits import ExplainError, LimitExceeded, Limits
from rebuildx.explain.present import render_json, render_markdown, render_terminal, summary
from rebuildx.explain.run import DiffoscopeOptions, ExplainOptions, compare_images, explain
from rebuildx.explain.sources import ImageSource, LayoutSource, RegistrySource, TarballSource, open_source

__all__ = ["COMPRESSION", "CONFIG_ONLY", "CONTENT", "FILE_SET", "FORMAT_VERSION", "IDENTICAL", "LAYER_SPLIT",
           "MANIFEST_ONLY", "METADATA", "TIMESTAMPS", "Difference", "DiffoscopeOptions", "ExplainError",
           "ExplainOptions", "ImageSource", "LayoutSource", "LimitExceeded", "Limits", "RegistrySource",
           "TarballSource", "compare_images", "explain", "from_json", "open_source", "render_json",
           "render_markdown", "render_terminal", "summary", "to_json"]
