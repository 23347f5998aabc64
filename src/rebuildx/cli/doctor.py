"""`rebuildx doctor`, and the doctor run that `build` and `verify` start with."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from rebuildx import exitcodes
from rebuildx.bundle import write_bundle
from rebuildx.cli.options import tree_option
from rebuildx.doctor import Facts, Finding, Level, diagnose, gather, has_failures
from rebuildx.errors import DoctorError
from rebuildx.model import DEFAULT_PLATFORM, Package
from rebuildx.plan import make_plan
from rebuildx.tree import load_tree
from rebuildx.workspace import Workspace


@click.command()
@click.argument("selection", nargs=-1)
@tree_option
@click.option("--release", default=None, metavar="YYYY.MM.N", help="Also check the checkout is this release.")
@click.option("--cold", is_flag=True, help="Check as for a cold build (BuildKit cache left over).")
@click.option("--air-gapped", is_flag=True, help="Do not check that mirrors are reachable.")
@click.option("--platform", default=DEFAULT_PLATFORM, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def doctor(selection: tuple[str, ...], tree_dir: Path, release: str | None, cold: bool, air_gapped: bool,
           platform: str, as_json: bool) -> None:
    """Check the machine and the checkout for SELECTION (default: all): one line per check, every
    failure with its fix. Exit 4 when a check fails."""
    tree = load_tree(tree_dir)
    packages = list(make_plan(tree, selection, platform=platform).packages)
    facts = gather(tree.root, packages=packages, release=release, cold=cold, air_gapped=air_gapped,
                   platform=platform)
    findings = diagnose(facts)
    if as_json:
        click.echo(json.dumps({"findings": [f.to_json() for f in findings]}, indent=1))
    else:
        for f in findings:
            click.echo(f.line())
    sys.exit(exitcodes.FAILED if has_failures(findings) else exitcodes.OK)


def preflight(root: Path, packages: Sequence[Package], *, release: str | None, cold: bool,
              platform: str, keep: dict | None = None) -> tuple[Facts, list[Finding]]:
    """Doctor before a build: warnings are printed, a failure stops it (listing every failure).
    The facts and findings go into `keep["doctor"]` first, for the support bundle."""
    facts = gather(root, packages=list(packages), release=release, cold=cold, platform=platform)
    findings = diagnose(facts)
    if keep is not None:
        keep["doctor"] = (facts, findings)
    for f in findings:
        if f.level is not Level.PASS:
            click.echo(f"doctor: {f.line()}", err=True)
    if has_failures(findings):
        fails = "; ".join(f"{f.check}: {f.message} (fix: {f.fix})" for f in findings if f.level is Level.FAIL)
        raise DoctorError(f"doctor found problems that would spoil the build: {fails}")
    return facts, findings


def support_bundle(root: Path, *, facts: Facts | None, findings: list[Finding], release: str | None,
                   failing_package: str | None, failing_log: Path | None, error: str | None = None) -> Path:
    """Write .rebuildx/support-bundle.md after a failure and say where it is."""
    if facts is None:
        facts = gather(root, air_gapped=True)
        findings = diagnose(facts)
    path = write_bundle(Workspace(root).state_dir / "support-bundle.md", root=root, argv=["rebuildx", *sys.argv[1:]],
                        facts=facts, findings=findings, failing_log=failing_log,
                        failing_package=failing_package, release=release, error=error)
    click.echo(f"support bundle (paste it into the StageX chat room): {path}", err=True)
    return path
