"""MAINTAINERS as StageX writes it (`[keys.<person>.<label>] id = "<fingerprint>"`), and a damaged
one: one error naming the file and the entry."""

from __future__ import annotations

import pytest

from rebuildx.trust.signatures.maintainers import MaintainersError, parse_maintainers

FPR = "0123456789ABCDEF0123456789ABCDEF01234567"


def test_fingerprints_are_read_with_spaces_and_in_any_case():
    text = f'[keys.alice.laptop]\nid = "{FPR.lower()}"\n[keys.bob.card]\nid = "{" ".join([FPR[::-1][i:i + 4] for i in range(0, 40, 4)])}"\n'
    assert parse_maintainers(text, "MAINTAINERS") == {FPR: "alice", FPR[::-1]: "bob"}


@pytest.mark.parametrize("text, message", [
    ("[keys\n", "MAINTAINERS: not TOML: "),
    ('keys = "alice"\n', "MAINTAINERS: [keys] is not a table"),
    ('[keys.alice.laptop]\nid = "0123"\n', "MAINTAINERS: keys.alice.laptop.id is not a 40-digit fingerprint"),
    ("[keys.alice.laptop]\nid = 7\n", "MAINTAINERS: keys.alice.laptop.id is not a 40-digit fingerprint"),
    ('[keys.alice]\nlaptop = "x"\n', "MAINTAINERS: keys.alice.laptop.id is not a 40-digit fingerprint"),
])
def test_a_damaged_maintainers_file_names_the_entry(text, message):
    with pytest.raises(MaintainersError) as e:
        parse_maintainers(text, "MAINTAINERS")
    assert str(e.value).startswith(message)
