"""The `rebuildx` command: parses, dispatches, renders. The work lives in the library."""

from __future__ import annotations

import logging
import sys

import click

from rebuildx import __version__, exitcodes
from rebuildx.errors import RebuildxError


class _Group(click.Group):
    """Turns every expected error into one line on stderr and its exit code, no traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except RebuildxError as e:
            click.echo(f"rebuildx: error: {e}", err=True)
            sys.exit(e.exit_code)
        except OSError as e:  # the last net: a disk full, a file that vanished, a closed pipe
            where = f"{e.filename}: " if e.filename else ""
            click.echo(f"rebuildx: error: {where}{e.strerror or e}", err=True)
            sys.exit(exitcodes.ERROR)
        except KeyboardInterrupt:
            click.echo("rebuildx: interrupted; what ran was stopped, and out/ and fetch/ hold only whole, "
                       "verified entries", err=True)
            sys.exit(exitcodes.INTERRUPTED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rebuildx")
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
def app(verbose: bool) -> None:
    """Rebuild StageX from source and prove, package by package, that the published images are
    exactly what the source produces."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="rebuildx: %(levelname)s: %(message)s")


def _register() -> None:
    """Every verb module imports only click at its top (the library loads when a verb runs), so
    `rebuildx --help` stays fast."""
    from rebuildx.cli import attest, build, builders, compare, doctor, explain, fetch, plan, report, signatures, verify

    for command in (plan.plan, fetch.fetch, build.build, compare.digests, compare.compare_cmd, verify.verify,
                    verify.status, report.report, doctor.doctor, explain.explain, signatures.signatures,
                    signatures.sign, attest.attest, builders.builders):
        app.add_command(command)


_register()


def main() -> None:
    app(prog_name="rebuildx")
