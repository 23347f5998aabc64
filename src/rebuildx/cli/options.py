"""Options every verb shares."""

from __future__ import annotations

from pathlib import Path

import click

tree_option = click.option(
    "--tree", "tree_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
    show_default="current directory", help="A StageX checkout.",
)
