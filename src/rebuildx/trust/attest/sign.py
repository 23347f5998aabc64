"""Sign one verify run's verdicts into an attestation tree (`.rebuildx/attestations/`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from securesystemslib.signer import Signer

from rebuildx.compare.verdicts import Comparison
from rebuildx.trust.attest import store
from rebuildx.trust.attest.envelope import sign, to_line
from rebuildx.trust.attest.statement import RunFacts, bare_hex, statements_for


@dataclass(frozen=True)
class Signed:
    root: Path
    statements: int  # made and signed in this run
    appended: int  # new lines in the tree (an identical envelope is not written twice)


def sign_run(root: Path, comparison: Comparison, facts: RunFacts, signer: Signer) -> Signed:
    """One signed statement per attested verdict of the run, appended to the tree at `root`."""
    statements = statements_for(comparison, facts)
    appended = 0
    with store.locked(root):
        for statement in statements:
            rebuild = statement["predicate"]["rebuild"]
            appended += store.append(root, facts.release, rebuild["package"],
                                     bare_hex(rebuild["publishedDigest"]), [to_line(sign(statement, signer))])
        store.write_index(root)
    return Signed(root, len(statements), appended)
