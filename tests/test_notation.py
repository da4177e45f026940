"""Names and numbers as the lecturer writes them."""

import pytest

from nnviz.core.notation import layer_symbols, number


def test_one_hidden_layer_speaks_the_seeds_language():
    v, w = layer_symbols([3, 4, 2])
    assert (v.weights, v.pre, v.post, v.biases) == ("v", "u", "h", "b1")
    assert (w.weights, w.pre, w.post, w.biases) == ("w", "z", "o", "b2")


@pytest.mark.parametrize(
    "layers, names",
    [
        ([3, 2], ["W1"]),
        ([2, 3, 3, 1], ["W1", "W2", "W3"]),
    ],
)
def test_other_depths_use_numbered_names(layers, names):
    symbols = layer_symbols(layers)
    assert [s.weights for s in symbols] == names
    assert symbols[-1].post == f"h{len(names)}" and symbols[0].pre == "u1"


@pytest.mark.parametrize(
    "value, decimals, text",
    [
        (-0.7768698398515702, 4, "-0.7769"),
        (0.30954818598143957, 6, "0.309548"),
        (-0.0, 4, "0.0000"),
        (-0.00001, 4, "0.0000"),  # rounds to zero: no "-0.0000"
        (2.0, 4, "2.0000"),
        (4.4e60, 4, "4.4000e+60"),
    ],
)
def test_numbers_for_people(value, decimals, text):
    assert number(value, decimals) == text
