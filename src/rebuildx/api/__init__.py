"""The library API: one function per use case, the only thing the CLI calls.

Each function takes a loaded `Tree` (or a path, for the verbs that may clone or need no tree)
and options objects, returns a typed result, and raises only `RebuildxError`s. What happens
while it runs (doctor's warnings, fetch progress, builds starting and finishing, a support
bundle written) is told to an `Events` object, so a terminal, a test or another program can
follow along; nothing here prints.

    from rebuildx import api
    tree = api.open_tree("stagex")
    result = api.verify(api.VerifyRequest(release="2026.03.0", tree_dir=tree.root, selection=("bootstrap-stage0",)))
    print(result.comparison.summary())

The functions live in one module per use-case family (planning, building, comparing, verifying,
diagnosing, trusting; runs and events are shared) and load on first use: `rebuildx plan` imports
planning alone, which is how it starts fast (bench/plan.py times it as a whole process). Every
module imports the steps it needs inside its functions, for the same reason.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# name -> the module of this package that defines it
_WHERE = {
    "Events": "events", "QUIET": "events",
    "open_tree": "planning", "PlanResult": "planning", "plan": "planning", "release_profile": "planning",
    "build_commands": "planning", "BuildStep": "planning", "check_platform": "planning",
    "FetchResult": "building", "fetch": "building", "build": "building", "builder_specs": "building",
    "builders": "building", "BuilderCheck": "building",
    "digests": "comparing", "CompareResult": "comparing", "compare": "comparing", "release_hint": "comparing",
    "status": "comparing",
    "VerifyRequest": "verifying", "VerifyOutcome": "verifying", "verify": "verifying", "verify_content": "verifying",
    "ContentOutcome": "verifying", "report": "verifying",
    "doctor": "diagnosing", "explain": "diagnosing", "default_published_image": "diagnosing",
    "SignRequest": "trusting", "SignaturesRequest": "trusting", "check_signatures": "trusting",
    "sign_signatures": "trusting", "attestations_dir": "trusting", "attest_keygen": "trusting",
    "attest_signer": "trusting", "attest_verify": "trusting", "attest_publish": "trusting",
    "attest_check": "trusting", "check_attest_options": "trusting",
}

# names api.py served before it became a package, not use cases (so not in __all__), still served:
# callers catch `api.RebuildxError`, annotate `api.Tree` -> the module that defines them
_ALSO = {
    "RebuildxError": "rebuildx.errors", "UsageError": "rebuildx.errors", "BusyError": "rebuildx.errors",
    "DigestError": "rebuildx.errors", "Tree": "rebuildx.stagex.tree", "load_tree": "rebuildx.stagex.tree",
    "DEFAULT_PLATFORM": "rebuildx.stagex.model", "release_tuple": "rebuildx.stagex.model",
    "DEFAULT_REPO": "rebuildx.stagex.checkout", "Workspace": "rebuildx.workspace",
}

__all__ = [  # literal, so that linters and `from rebuildx.api import *` see the names
    "BuildStep", "BuilderCheck", "CompareResult", "ContentOutcome", "Events", "FetchResult", "PlanResult",
    "QUIET", "SignRequest", "SignaturesRequest", "VerifyOutcome", "VerifyRequest", "attest_check", "attest_keygen",
    "attest_publish", "attest_signer", "attest_verify", "attestations_dir", "build", "build_commands",
    "builder_specs", "builders", "check_attest_options", "check_platform", "check_signatures", "compare",
    "default_published_image", "digests", "doctor", "explain", "fetch", "open_tree", "plan", "release_hint",
    "release_profile", "report", "sign_signatures", "status", "verify", "verify_content",
]


if TYPE_CHECKING:  # what a type checker and an editor see: the same names, eagerly
    from rebuildx.api.building import BuilderCheck, FetchResult, build, builder_specs, builders, fetch
    from rebuildx.api.comparing import CompareResult, compare, digests, release_hint, status
    from rebuildx.api.diagnosing import default_published_image, doctor, explain
    from rebuildx.api.events import QUIET, Events
    from rebuildx.api.planning import (BuildStep, PlanResult, build_commands, check_platform, open_tree, plan,
                                       release_profile)
    from rebuildx.api.trusting import (SignaturesRequest, SignRequest, attest_check, attest_keygen, attest_publish,
                                       attest_signer, attest_verify, attestations_dir, check_attest_options,
                                       check_signatures, sign_signatures)
    from rebuildx.api.verifying import ContentOutcome, VerifyOutcome, VerifyRequest, report, verify, verify_content
    # _ALSO, re-exported (`as`: not in __all__)
    from rebuildx.errors import BusyError as BusyError, DigestError as DigestError
    from rebuildx.errors import RebuildxError as RebuildxError, UsageError as UsageError
    from rebuildx.stagex.checkout import DEFAULT_REPO as DEFAULT_REPO
    from rebuildx.stagex.model import DEFAULT_PLATFORM as DEFAULT_PLATFORM, release_tuple as release_tuple
    from rebuildx.stagex.tree import Tree as Tree, load_tree as load_tree
    from rebuildx.workspace import Workspace as Workspace
else:  # hidden from a type checker, which would take any name, a typo too, as this function's Any

    def __getattr__(name: str) -> Any:
        """`api.plan` loads rebuildx.api.planning on first use, and keeps it (PEP 562)."""
        module = f"{__name__}.{_WHERE[name]}" if name in _WHERE else _ALSO.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE, *_ALSO})
