"""English service texts with stable codes: still plain strings to everything that handles
text, their codes kept through joining, copying and pickling, lost (None) otherwise."""

from __future__ import annotations

import copy
import json
import pickle

from datenschatz.coded import Coded, code_of, coded, codes_of, joined


def test_a_coded_text_is_the_english_string_with_its_code() -> None:
    text = coded("2 layers; only 'a' was read.", "layers_many", count=2, layer="a")
    assert text == "2 layers; only 'a' was read."
    assert isinstance(text, str)
    assert json.dumps([text]) == json.dumps(["2 layers; only 'a' was read."])
    assert code_of(text) == {"code": "layers_many", "params": {"count": 2, "layer": "a"}}
    assert code_of(pickle.loads(pickle.dumps(text))) == code_of(text)
    assert code_of(copy.deepcopy(text)) == code_of(text)


def test_joining_keeps_every_code_and_other_operations_drop_them() -> None:
    first, second = coded("A.", "a"), coded("B.", "b", n=1)
    both = joined(" ", [first, second])
    assert both == "A. B."
    assert codes_of(both) == [{"code": "a", "params": {}}, {"code": "b", "params": {"n": 1}}]
    assert code_of(both) is None  # two sentences: no single code
    mixed = joined(" ", [first, "plain."])
    assert mixed == "A. plain."
    assert not isinstance(mixed, Coded)
    assert codes_of(first + " more") == []
    assert code_of("plain") is None
