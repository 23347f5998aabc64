"""The names OCI distribution takes in a repository path (`stagex/core-bash`): one rule for the
registry reference parser and for the tree reader, whose package names become such paths."""

from __future__ import annotations

import re

# distribution/reference: path-component := alpha-numeric (separator alpha-numeric)*
COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
COMPONENT_RULE = "lowercase letters and digits, separated by `.`, `_`, `__` or `-`"


def is_component(name: str) -> bool:
    """Whether `name` can be one path component of an image name."""
    return COMPONENT.fullmatch(name) is not None
