"""One error tree for everything rebuildx reports to a user.

Every error carries a message meant to be printed as one line: it names the package, the file
and the field it is about. Third-party exceptions (tomllib, subprocess, httpx) are mapped to
these where they enter, keeping the cause.
"""

from __future__ import annotations


class RebuildxError(Exception):
    """Base of every error rebuildx expects; the CLI prints it as one line and exits 1."""

    exit_code = 1


class UsageError(RebuildxError):
    """A value no run could use, whatever the tree holds (a malformed release name, zero jobs):
    exit 2, as click's own checks of option values."""

    exit_code = 2  # exitcodes.USAGE


class TreeError(RebuildxError):
    """A StageX tree that cannot be read as StageX's own generator would read it."""


class PlanError(RebuildxError):
    """A graph that cannot be planned: unknown selection, missing dep, cycle."""


class EngineError(RebuildxError):
    """The build engine is missing, too old, or not set up as StageX needs."""


class BuildError(RebuildxError):
    """A package build failed or produced an unusable output."""


class DoctorError(RebuildxError):
    """doctor found a problem that would spoil a build: a verdict on the machine, not an error."""

    exit_code = 4  # exitcodes.FAILED


class FetchError(RebuildxError):
    """A source could not be had from any mirror with the declared hash."""


class RegistryError(RebuildxError):
    """An OCI registry refused, failed, or answered with bytes that are not what was asked for."""


class CheckoutError(RebuildxError):
    """The checkout is not the release it should be, or git failed."""


class LayoutError(RebuildxError):
    """An OCI layout (an out/ entry, a published image on disk) that is incomplete or malformed."""


class DigestError(RebuildxError):
    """An out/ entry or a digest file that cannot be read."""


class BusyError(RebuildxError):
    """Another rebuildx holds the workspace: nothing was tried, nothing failed."""


class StateError(RebuildxError):
    """The state DB (`.rebuildx/state.sqlite`) cannot be opened or used."""


class ExplainError(RebuildxError):
    """explain could not compare the two images (exit 1, as every error)."""


class LimitExceeded(ExplainError):
    """A layer went past a limit: a decompression bomb, or a genuine image needing a higher one."""
