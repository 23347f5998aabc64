"""The `rebuildx` command: parses, dispatches, renders. The work lives in the library."""

from __future__ import annotations

import sys
from importlib import import_module

import click

from rebuildx import __version__, exitcodes
from rebuildx.errors import RebuildxError


# verb -> (its module in rebuildx.cli, the command's name there, its line in `rebuildx --help`).
# A verb's module is imported only when that verb runs, so `rebuildx --help` and `rebuildx plan`
# load one module of cli/, not fourteen; tests/cli/test_help.py holds each line to its command's.
VERBS: dict[str, tuple[str, str, str]] = {
    "plan": ("plan", "plan",
        "List the packages to build for SELECTION (default: all) and its deps, deps first."),
    "fetch": ("fetch", "fetch",
        "Fetch every source of SELECTION (default: all) and its deps into fetch/."),
    "build": ("build", "build",
        "Fetch the sources of SELECTION (default: all) and its dependency closure, then build it into "
        "out/ exactly as the release's own make does."),
    "digests": ("compare", "digests",
        "Write digests/<stage>.txt from out/, byte for byte as `make digests` does."),
    "compare": ("compare", "compare_cmd",
        "A verdict per package of SELECTION (default: all) and its closure: MATCH, MISMATCH, NOT_BUILT, "
        "UNPUBLISHED or FAILED."),
    "verify": ("verify", "verify",
        "Reproduce RELEASE: check out, fetch, build cold, write digests, compare with the release's "
        "published digests."),
    "status": ("verify", "status",
        "What the ledger knows of RELEASE: chain-verified, matched, mismatched, failed, unverified."),
    "report": ("report", "report",
        "Write one self-contained HTML page of a verify run: verdicts, explanations, failures, the build "
        "timeline, the critical path, and the history of every run in this workspace."),
    "doctor": ("doctor", "doctor",
        "Check the machine and the checkout for SELECTION (default: all): one line per check, every "
        "failure with its fix."),
    "explain": ("explain", "explain",
        "Compare the published image of PACKAGE (`core-bash`) with out/PACKAGE/, file by file."),
    "signatures": ("signatures", "signatures",
        "For each package of SELECTION (default: all published): QUORUM, UNDER_QUORUM, INVALID or "
        "UNSIGNED, from its signatures over the release's published digest."),
    "sign": ("signatures", "sign",
        "Sign each package of SELECTION (default: all; no closure) whose last verify here MATCHed the "
        "release's published digest, as StageX's src/sign.sh does (the next free signature-N, never "
        "overwriting); refuse the others by name."),
    "attest": ("attest", "attest",
        "Signed in-toto statements of verify's verdicts: make a key, publish them, check k of n."),
    "builders": ("builders", "builders",
        "List the builders of --builder and --builders-file (default: the local Docker) with the engine "
        "checks of doctor run against each; exit 4 when one of them cannot build."),
}


def verb_command(name: str) -> click.Command:
    """The click command of a verb, its module imported now."""
    module, attr, _ = VERBS[name]
    return getattr(import_module(f"rebuildx.cli.{module}"), attr)


class _Group(click.Group):
    """Loads a verb's module when the verb runs; turns every expected error into one line on
    stderr and its exit code, no traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *VERBS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in VERBS:
            self.add_command(verb_command(cmd_name), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's own listing, from VERBS' lines instead of the imported commands."""
        from click.utils import make_default_short_help

        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        rows = [(name, make_default_short_help(VERBS[name][2], limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except RebuildxError as e:
            from rebuildx.net import redact  # the last net: no error echoes a URL's password

            click.echo(f"rebuildx: error: {redact(str(e))}", err=True)
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
    from rebuildx import logs

    logs.configure(verbose)


def main() -> None:
    app(prog_name="rebuildx")
