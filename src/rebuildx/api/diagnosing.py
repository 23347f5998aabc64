"""doctor and explain: why a machine cannot build, and why an image differs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rebuildx.api.events import QUIET, Events
from rebuildx.api.planning import release_profile
from rebuildx.api.runs import words
from rebuildx.errors import RebuildxError
from rebuildx.stagex.model import DEFAULT_PLATFORM, check_platform
from rebuildx.stagex.tree import Tree, load_tree
from rebuildx.workspace import Workspace

if TYPE_CHECKING:
    from rebuildx.doctor.preflight import DoctorReport


def doctor(tree: Tree, selection: Sequence[str] = (), *, release: str | None = None, cold: bool = False,
           air_gapped: bool = False, platform: str = DEFAULT_PLATFORM, makefile: Path | None = None,
           targets_py: bool = False, events: Events = QUIET) -> DoctorReport:
    """Machine and checkout checks for the selection, each failure with its fix; with `makefile`
    (the tree's own generated Makefile), or `targets_py` (generate it: the tree's src/targets.py
    run inside BuildKit), rebuildx's build commands compared with its recipes."""
    from rebuildx.doctor.commands import command_findings, generated_command_findings
    from rebuildx.doctor.preflight import examine
    from rebuildx.stagex.plan import make_plan

    packages = make_plan(tree, words(selection), platform=platform).packages
    report = examine(tree.root, tree=tree, packages=packages, release=release, cold=cold, air_gapped=air_gapped,
                     platform=platform)
    if makefile is not None or targets_py:
        profile = release_profile(tree, release, events=events)
        report.findings.append(command_findings(tree.root, packages, profile, makefile) if makefile is not None
                               else generated_command_findings(tree.root, packages, profile))
    return report


def explain(tree_dir: Path | str, package: str, published: str | None = None, options: Any = None, *,
            events: Events = QUIET) -> Any:
    """The published image of `package` against out/<package>/, as a Difference tree. Without
    `published`, the image by the digest the checkout's digests/ name."""
    from rebuildx.explain import ExplainOptions, explain as run_explain, open_source

    tree_dir = Path(tree_dir)
    if options is not None and options.platform is not None:
        check_platform(options.platform, several=False)
    if (tree_dir / "packages").is_dir() and package not in load_tree(tree_dir).packages:
        raise RebuildxError(f"no package {package!r} in {tree_dir} (a full name: core-bash)")
    with open_source(published or default_published_image(tree_dir, package, events)) as source:
        return run_explain(Workspace(tree_dir), package, source, options or ExplainOptions())


def default_published_image(tree_dir: Path, package: str, events: Events = QUIET) -> str:
    """The published image by the digest the checkout's digests/ name (a tag can move); StageX's
    own tag (`stagex/<full>:<version>`) only when the checkout publishes no digest for it."""
    from rebuildx.compare.published import PublishedSource

    found = load_tree(tree_dir).packages.get(package)
    if found is None:
        raise RebuildxError(f"{tree_dir}: no package {package!r} in the tree; give --published-image")
    try:
        digest = PublishedSource("git:HEAD").load(tree_dir, [found.stage]).get(package)
    except RebuildxError:
        digest = None
    if digest:
        return f"docker.io/stagex/{package}@sha256:{digest}"
    events.warning(f"no published digest for {package} in {tree_dir}'s digests/; taking the tag "
                   f"{found.version or 'latest'}, which may have moved")
    return f"docker.io/stagex/{package}:{found.version or 'latest'}"
