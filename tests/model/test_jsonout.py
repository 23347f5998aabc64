"""The fast indented JSON writer gives exactly `json.dumps(doc, indent=N)`."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from rebuildx.jsonout import dumps

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(documents, st.integers(min_value=0, max_value=4))
def test_same_text_as_the_standard_library(doc, indent):
    assert dumps(doc, indent) == json.dumps(doc, indent=indent)


def test_the_real_plan_document(graph_tree):
    from rebuildx.stagex.plan import make_plan
    from rebuildx.stagex.tree import load_tree

    doc = make_plan(load_tree(graph_tree)).to_json()
    assert dumps(doc, 1) == json.dumps(doc, indent=1)


def test_other_keys_and_values_fall_back():
    assert dumps({1: (1, 2), "a": [float("nan")]}, 2) == json.dumps({1: (1, 2), "a": [float("nan")]}, indent=2)
