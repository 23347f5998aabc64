"""`rebuildx builders`: the builders a run would use, each checked as doctor checks the engine."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rebuildx import exitcodes
from rebuildx.cli.options import builder_options


@click.command()
@builder_options
def builders(builder_specs: tuple[str, ...], builders_files: tuple[Path, ...]) -> None:
    """List the builders of --builder and --builders-file (default: the local Docker) with the
    engine checks of doctor run against each; exit 4 when one of them cannot build."""
    from rebuildx import api

    checks = api.builders(api.builder_specs(builder_specs, builders_files))
    for c in checks:
        where = c.spec.target or "the local Docker"
        state = f"ok    {c.identity}" if c.problem is None else f"FAIL  {c.problem}"
        click.echo(f"{c.spec.name:<16} {c.spec.kind:<8} jobs={c.spec.jobs:<3} {where}\n  {state}")
    bad = [c.spec.name for c in checks if c.problem]
    click.echo(f"{len(checks)} builders: {len(checks) - len(bad)} ready" + (f", {len(bad)} not ({', '.join(bad)})"
                                                                           if bad else ""))
    if bad:
        sys.exit(exitcodes.FAILED)
