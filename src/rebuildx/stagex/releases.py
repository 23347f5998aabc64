"""Release profiles: how each StageX release's own Makefile builds a package, as data.

StageX generates its Makefile with the checkout's `src/targets.py`, and that template changed
between releases in ways that change the image (the `name=` and distribution-source annotation
are written into the manifest; the revision annotation too). rebuildx does not run the tree's
`targets.py` (fetched code runs only inside BuildKit), so each era's template is described here,
read from StageX's history (`src/targets.py`, `src/common.py`, `src/global.mk`, `src/compat.sh`,
`src/digests.py` at each release tag) and checked against every package of the generated
Makefiles of nine releases (tests/model/test_release_commands.py); docs/releases.md has the table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from rebuildx.errors import TreeError
from rebuildx.oci.digest import Semantics
from rebuildx.stagex.model import release_tuple


class FetchLink(enum.Enum):
    """How the recipe puts `fetch/<stage>/<origin>/` into `packages/<stage>/<origin>/fetch`."""

    NONE = "none"  # 2024.12.0: not at all (the `fetch` build context only)
    MERGE = "merge"  # `mkdir -p …/fetch && (cp -lR fetch/…/* …/fetch || true)`: files already there stay
    REPLACE = "replace"  # `rm -rf …/fetch && mkdir -p …/fetch && ([ -z "$(ls -A …)" ] || cp -lR …)`


class SourceArgs(enum.Enum):
    """Which sources get `<NAME>_VERSION` / `<NAME>_SOURCE` build args."""

    FALLBACK = "fallback"  # 2024.12.0: every source with a version, its own or (the last one seen, else) the package's
    OWN_VERSION = "own-version"  # from 2025.02.0: only sources with their own `version`


VERSION_FORMS_3 = ("version", "version_under", "version_dash")
VERSION_FORMS_6 = VERSION_FORMS_3 + ("version_major", "version_major_minor", "version_strip_suffix")


@dataclass(frozen=True)
class ReleaseProfile:
    """One era of StageX's build recipe: the releases from `first` up to the next profile."""

    first: str  # the first release of this era, YYYY.MM.N
    full_names: bool  # `name=` and the distribution-source annotation say <stage>-<name> (else <name>)
    distribution_source: bool  # annotation.containerd.io/distribution.source.docker.io=stagex/…
    created: bool  # annotation.org.opencontainers.image.created=1970-01-01T00:00:01Z
    revision: bool  # annotation.org.opencontainers.image.revision=$(git rev-list HEAD -1 packages/<stage>/<origin>)
    provenance_off: bool  # --provenance=false and the SOURCE_DATE_EPOCH / BUILDKIT_MULTI_PLATFORM build args
    dockerfile_check: bool  # --build-arg BUILDKIT_DOCKERFILE_CHECK=…
    version_forms: tuple[str, ...]  # the VERSION* build args, in order
    source_args: SourceArgs
    git_sha: bool  # <NAME>_GIT_SHA build args
    subpackages: bool  # subpackages built with --target package-<name> (2024.12.0 had none)
    platforms: bool  # [package] platforms pin --platform
    version_from: bool  # [package] version_from resolved
    fetch_link: FetchLink
    digest: Semantics  # what digests/<stage>.txt holds
    docker_min: tuple[int, ...]  # src/compat.sh
    buildx_min: tuple[int, ...]

    @property
    def key(self) -> tuple[int, int, int]:
        return release_tuple(self.first)

    def image_name(self, stage: str, name: str) -> str:
        """What `name=` and the distribution-source annotation call the package."""
        return f"{stage}-{name}" if self.full_names else name


# Each era as the one before it, changed where StageX changed its recipe (the commit subjects
# are in StageX's history; the releases named are the first tags with the change).
_2024_12 = ReleaseProfile(
    first="2024.12.0", full_names=False, distribution_source=False, created=False, revision=True,
    provenance_off=False, dockerfile_check=False, version_forms=VERSION_FORMS_3,
    source_args=SourceArgs.FALLBACK, git_sha=False, subpackages=False, platforms=False,
    version_from=False, fetch_link=FetchLink.NONE, digest=Semantics.INDEX,
    docker_min=(26, 0, 0), buildx_min=(0, 13, 0))
# targets.py rewritten on common.py: subpackages, platforms, provenance off, fetch/ linked in
_2025_02 = replace(_2024_12, first="2025.02.0", revision=False, provenance_off=True,
                   source_args=SourceArgs.OWN_VERSION, subpackages=True, platforms=True,
                   fetch_link=FetchLink.MERGE)
# the distribution-source and created annotations; three more version forms
_2025_03 = replace(_2025_02, first="2025.03.0", distribution_source=True, created=True,
                   version_forms=VERSION_FORMS_6)
# <NAME>_GIT_SHA; digests files hold the manifest digest (src/digests.py, commit 31f3d2b2)
_2025_06_1 = replace(_2025_03, first="2025.06.1", git_sha=True, digest=Semantics.MANIFEST)
# [package] version_from
_2025_07 = replace(_2025_06_1, first="2025.07.0", version_from=True)
# full names, the Dockerfile check, fetch/ replaced rather than merged; Docker 29.1.5, buildx 0.30.1
_2026_01 = replace(_2025_07, first="2026.01.0", full_names=True, dockerfile_check=True,
                   fetch_link=FetchLink.REPLACE, docker_min=(29, 1, 5), buildx_min=(0, 30, 1))

PROFILES: tuple[ReleaseProfile, ...] = (_2024_12, _2025_02, _2025_03, _2025_06_1, _2025_07, _2026_01)
NEWEST = PROFILES[-1]
# The newest release whose generated Makefile the profiles were checked against: a newer one is
# built with NEWEST, with a warning (its own template may have changed since).
LATEST_CHECKED = "2026.03.0"


def profile_for(release: str | None) -> ReleaseProfile:
    """The profile of a release (`YYYY.MM.N`); `None` (a tree of unknown release) is the newest.

    A release before 2024.12.0 is refused: its tree is `packages/<name>/`, without stages or
    `src/targets.py`, and its Makefile is another program altogether."""
    if release is None:
        return NEWEST
    key = release_tuple(release)
    if key < PROFILES[0].key:
        raise TreeError(f"release {release} predates {PROFILES[0].first}: its packages/<name>/ layout "
                        f"(no stages, no src/targets.py) is not supported by rebuildx")
    return [p for p in PROFILES if p.key <= key][-1]


def profile_warning(release: str | None) -> str | None:
    """What to tell the user when the profile is a guess: a release newer than any checked."""
    if release is not None and release_tuple(release) > release_tuple(LATEST_CHECKED):
        return (f"release {release} is newer than {LATEST_CHECKED}, the newest release whose build "
                f"commands rebuildx was checked against: building with the {NEWEST.first} profile; "
                f"`rebuildx doctor --makefile out/targets.mk` compares it with the tree's own")
    return None


def digest_semantics(release: str | None) -> Semantics:
    """The digest StageX's digest files hold: the nested index before 2025.06.1 (StageX commit
    31f3d2b2 changed it), the manifest from then on; a tree of unknown release, the newest."""
    return _known(release).digest


def release_minimum(release: str | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Docker and buildx versions the release's src/compat.sh asks for."""
    profile = _known(release)
    return profile.docker_min, profile.buildx_min


def _known(release: str | None) -> ReleaseProfile:
    """profile_for, with the oldest profile for older releases (their digests and minimums were
    the oldest profile's; only building them is refused)."""
    if release is not None and release_tuple(release) < PROFILES[0].key:
        return PROFILES[0]
    return profile_for(release)
