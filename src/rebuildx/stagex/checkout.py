"""The StageX checkout a verification runs on: cloned or reused, at the release's commit.

The release is the branch `release/YYYY.MM.N`, falling back to the tag `YYYY.MM.N` (named as
`refs/tags/…`, since StageX has branches named like tags). A reused checkout must be clean and at
that commit, unless the user allows otherwise: a verification of something else than the release
would prove nothing about it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rebuildx.errors import CheckoutError
from rebuildx.stagex.model import release_tuple
from rebuildx.proc import run

_RELEASE_NAME = re.compile(r"\d{4}\.\d{2}\.\d+")
DEFAULT_REPO = "https://codeberg.org/stagex/stagex.git"


@dataclass(frozen=True)
class Checkout:
    root: Path
    release: str
    ref: str  # what the release resolved to: refs/heads/…, refs/remotes/…, or refs/tags/…
    commit: str  # the release's commit
    head: str = ""  # what is checked out: the release's commit unless --allow-dirty said otherwise
    dirty: tuple[str, ...] = ()  # tracked files changed in the work tree (allowed by --allow-dirty)


def _git(root: Path, *args: str, check: bool = True, timeout: float = 600) -> str:
    return run(["git", "-C", str(root), *args], error=CheckoutError, check=check, timeout=timeout).stdout.strip()


def resolve_release(root: Path, release: str) -> tuple[str, str]:
    """(ref, commit) of the release: its branch (local, then origin's), else its tag."""
    release_tuple(release)
    for ref in (f"refs/heads/release/{release}", f"refs/remotes/origin/release/{release}",
                f"refs/tags/{release}"):
        done = run(["git", "-C", str(root), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                   check=False, error=CheckoutError)
        if done.returncode == 0:
            return ref, done.stdout.strip()
    raise CheckoutError(f"{root}: neither branch release/{release} nor tag {release} exists "
                        f"(is this a StageX checkout, fetched recently?)")


def _checkout_name(ref: str) -> str:
    """What to type to check a release ref out (a tag stays explicit: a branch may share its name)."""
    for prefix in ("refs/heads/", "refs/remotes/origin/"):
        if ref.startswith(prefix):
            return ref.removeprefix(prefix)
    return ref


def dirty_files(root: Path) -> list[str]:
    """Tracked files changed in the work tree, except digests/ (which `digests` rewrites)."""
    out = run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
              error=CheckoutError).stdout
    return [line[3:] for line in out.splitlines() if line and not line[3:].startswith("digests/")]


def prepare(root: Path, release: str, *, repo: str | None = None, allow_dirty: bool = False) -> Checkout:
    """Clone `repo` into `root` if there is no checkout there, then make sure it is the release."""
    if not (root / ".git").exists():
        if repo is None:
            raise CheckoutError(f"{root}: not a git checkout; give --repo URL to clone StageX there")
        if root.is_dir() and any(root.iterdir()):
            raise CheckoutError(f"{root}: not a git checkout, and not empty: nothing is cloned into it; give "
                                f"--tree a git clone of StageX, or a new folder")
        root.parent.mkdir(parents=True, exist_ok=True)
        run(["git", "clone", "--quiet", repo, str(root)], error=CheckoutError, timeout=3600)
        ref, commit = resolve_release(root, release)
        _git(root, "checkout", "--quiet", "--detach", commit)
        return Checkout(root, release, ref, commit, commit)
    ref, commit = resolve_release(root, release)
    head = _git(root, "rev-parse", "HEAD")
    dirty = dirty_files(root)
    if not allow_dirty:
        if head != commit:
            raise CheckoutError(f"{root} is at {head[:12]}, not at release {release} ({ref} = {commit[:12]}); "
                                f"fix: git -C {root} checkout {_checkout_name(ref)}, or --allow-dirty")
        if dirty:
            raise CheckoutError(f"{root} has local changes ({', '.join(dirty[:5])}); fix: commit or "
                                f"stash them, or --allow-dirty")
    return Checkout(root, release, ref, commit, head, tuple(dirty))


def package_revision(root: Path, directory: str) -> str:
    """2024.12.0's revision annotation: `git rev-list HEAD -1 <directory>` run in the tree, as its
    Makefile's `$(shell …)` runs it; "" where that prints nothing (not a git checkout)."""
    try:
        done = run(["git", "-C", str(root), "rev-list", "HEAD", "-1", "--", directory], check=False,
                   error=CheckoutError)
    except CheckoutError:  # no git: make's $(shell …) prints nothing either
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def tree_release(root: Path) -> str | None:
    """The release a checkout is at: a release tag or branch pointing at HEAD, else None."""
    try:
        done = run(["git", "-C", str(root), "for-each-ref", "--points-at", "HEAD", "--format=%(refname)",
                    "refs/tags", "refs/heads/release", "refs/remotes/origin/release"], check=False,
                   error=CheckoutError)
    except CheckoutError:  # no git, or it hangs: the release is not known
        return None
    if done.returncode != 0:
        return None
    names = {ref.rsplit("/", 1)[-1] for ref in done.stdout.split()}
    releases = sorted((n for n in names if _RELEASE_NAME.fullmatch(n)), key=release_tuple)
    return releases[-1] if releases else None
