"""Options every verb shares, and the console they print to (no imports beyond click here:
`rebuildx --help` loads every verb module)."""

from __future__ import annotations

import re
from pathlib import Path

import click

from rebuildx.stagex.model import DEFAULT_PLATFORM


class ReleaseType(click.ParamType):
    """A release name, `YYYY.MM.N` with a real month: a bad one is a usage error (exit 2) found
    while parsing, before any work, in every verb that takes `--release`."""

    name = "release"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        m = re.fullmatch(r"(\d{4})\.(\d{2})\.(\d+)", str(value))
        if m is None or not 1 <= int(m[2]) <= 12:
            self.fail(f"{value!r} is not a release name: YYYY.MM.N with a month 01-12 (2026.03.0)", param, ctx)
        return value


RELEASE = ReleaseType()

tree_option = click.option(
    "--tree", "tree_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
    show_default="current directory", help="A StageX checkout.",
)


class PlatformType(click.ParamType):
    """`os/arch[/variant]`, several joined by commas (api.check_platform): a bad one is a usage
    error (exit 2) naming the option and the value, before anything runs."""

    name = "os/arch[/variant]"

    def __init__(self, several: bool = True) -> None:
        self.several = several

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        from rebuildx import api
        from rebuildx.errors import UsageError

        try:
            return api.check_platform(value, several=self.several)
        except UsageError as e:
            self.fail(str(e), param, ctx)


platform_option = click.option("--platform", type=PlatformType(), default=DEFAULT_PLATFORM, show_default=True,
                               help="Platform for packages that do not pin one: os/arch[/variant], "
                                    "several joined by commas.")


engine_option = click.option("--engine", type=click.Choice(["buildx", "podman"]), default="buildx", show_default=True,
                             help="buildx: StageX's own engine, into out/; podman: a second, independent "
                                  "engine, into .rebuildx/engines/podman/out/.")


def sources_options(f):
    """`--sources DIR` and `--mirror URL`: where sources come from before the packages' mirrors."""
    f = click.option("--mirror", "mirrors", multiple=True, metavar="URL",
                     help="Try URL/<file> before the packages' own mirrors (repeatable).")(f)
    return click.option("--sources", "sources_dir",
                        type=click.Path(exists=True, file_okay=False, path_type=Path),
                        help="A flat directory of source files, taken by name before any network.")(f)


def console():  # -> rich.console.Console
    """The console verbs print to: lines never wrapped (logs and greps stay whole), tables fitted."""
    from rich.console import Console

    return Console(soft_wrap=True)


def builder_options(f):
    """`--builder SPEC` (repeatable) and `--builders-file FILE`: the BuildKit builders to build on."""
    f = click.option("--builders-file", "builders_files", multiple=True,
                     type=click.Path(dir_okay=False, path_type=Path),
                     help="A TOML file of [[builder]] tables (host, context or buildx; jobs; name).")(f)
    return click.option("--builder", "builder_specs", multiple=True, metavar="SPEC",
                        help="Build on this builder (repeatable): unix://, tcp:// or ssh:// DOCKER_HOST, "
                             "context:NAME, buildx:NAME or default, with ,jobs=N and ,name=LABEL "
                             "(docs/builders.md).")(f)


rounds_option = click.option("--rounds", type=click.IntRange(min=1, max=2), default=1, show_default=True,
                             help="2: build each selected package twice (another builder when there are "
                                  "several, never from cache) and call it UNSTABLE when the two differ.")
