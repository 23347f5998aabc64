"""doctor as a run uses it: all checks for a selection, the stop before a build, the bundle after."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rebuildx.build.failures import Failure
from rebuildx.doctor.bundle import write_bundle
from rebuildx.doctor.checks import Facts, Finding, Level, diagnose, has_failures
from rebuildx.doctor.facts import gather
from rebuildx.errors import DoctorError
from rebuildx.stagex.model import DEFAULT_PLATFORM, Package
from rebuildx.stagex.tree import Tree
from rebuildx.workspace import Workspace


@dataclass
class DoctorReport:
    """The facts doctor gathered and what it found in them."""

    facts: Facts
    findings: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return has_failures(self.findings)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.level is not Level.PASS]

    def to_json(self) -> dict:
        return {"findings": [f.to_json() for f in self.findings]}


def examine(root: Path, *, tree: Tree | None = None, packages: Sequence[Package] = (), release: str | None = None,
            cold: bool = False, air_gapped: bool = False, platform: str = DEFAULT_PLATFORM,
            engine: str = "buildx") -> DoctorReport:
    """Gather the facts for `packages` of `tree` (none: the machine only) and check them."""
    facts = gather(root, tree=tree, packages=packages, release=release, cold=cold, air_gapped=air_gapped,
                   platform=platform, engine=engine)
    return DoctorReport(facts, diagnose(facts))


def require_healthy(report: DoctorReport) -> None:
    """Stop a build that doctor says would be spoiled, listing every failure with its fix."""
    if report.failed:
        fails = "; ".join(f"{f.check}: {f.message} (fix: {f.fix})" for f in report.findings if f.level is Level.FAIL)
        raise DoctorError(f"doctor found problems that would spoil the build: {fails}")


def support_bundle(root: Path, argv: Sequence[str], *, doctor: DoctorReport | None, release: str | None,
                   failing_package: str | None = None, failing_log: Path | None = None,
                   error: str | None = None, failures: Sequence[tuple[str, Failure]] = ()) -> Path:
    """Write `.rebuildx/support-bundle.md` after a failure (gathering machine facts if the run
    failed before doctor ran) and return its path."""
    doctor = doctor or examine(root, air_gapped=True)
    return write_bundle(Workspace(root).state_dir / "support-bundle.md", root=root, argv=list(argv),
                        facts=doctor.facts, findings=doctor.findings, failing_log=failing_log,
                        failing_package=failing_package, release=release, error=error, failures=failures)
