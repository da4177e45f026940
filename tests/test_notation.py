"""Names and numbers as the lecturer writes them."""

import pytest

from nnviz.cli import marking_text
from nnviz.core.engine import iterate
from nnviz.core.functions import Activation
from nnviz.core.networks import random_problem
from nnviz.core.notation import (
    element_latex,
    element_name,
    layer_symbols,
    number,
    short,
    significant,
)
from nnviz.plots.network import figure
from nnviz.teaching import worksheet
from nnviz.teaching.grading import AnswerSheet, mark
from nnviz.teaching.lesson import steps


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


@pytest.mark.parametrize(
    ("index", "text", "latex"),
    [((2, 1), "v_21", "v_{21}"), ((1, 1), "v_11", "v_{11}"), ((12, 3), "v_12,3", "v_{12,3}")],
)
def test_one_subscript_rule(index, text, latex):
    assert element_name("v", index) == text
    assert element_latex("v", *index) == latex


@pytest.mark.parametrize("value", [-0.0, -1e-9, -0.00004])
def test_a_number_that_rounds_to_zero_is_never_negative(value):
    assert number(value) == "0.0000"
    assert short(value) == "0.0"
    assert significant(-0.0, 6) == "0" and significant(-1e-9, 6) == "-1e-09"


def wide():
    """A 3-12-2 network: v has 12 rows, so its names need commas only past row 9."""
    return random_problem(
        [3, 12, 2], [Activation("tanh"), Activation("softmax")], "cross_entropy", False, 5
    )


@pytest.mark.parametrize(("j", "i"), [(1, 1), (12, 3)])
def test_one_weight_has_one_name_on_the_board_in_the_hover_in_the_marks_and_the_worksheet(j, i):
    p = iterate(wide())
    name, latex = element_name("v", (j, i)), element_latex("v", j, i)
    lesson = steps(p, cap=None)
    board = " ".join(e for s in lesson for e in s.equations)
    assert rf"{latex} \leftarrow" in board and rf"\partial {latex}" in board
    hover = figure(p, lesson[9], "gradient").data
    edges = [t for t in hover if t.hovertext is not None and t.name != "neurons"]
    texts = [h for t in edges for h in t.hovertext]
    assert any(h.startswith(f"{name} = ") and f"∂L/∂{name} = " in h for h in texts)
    sheet = AnswerSheet(p.problem, {"v_new": p.updated.weights[0] + 1.0})
    marked = [element_name(item.symbol, item.index) for item in mark(sheet).items]
    assert f"v_new_{name[2:]}" in marked
    assert rf"{latex} \leftarrow" in worksheet.latex(p)
    assert f"{name} <-" in cli_marking(p, j, i)


def cli_marking(p, j, i) -> str:
    """The marking sheet's working line for a wrong v_new element, in plain text."""
    answers = {"v_new": p.updated.weights[0].copy()}
    answers["v_new"][j - 1, i - 1] += 1.0
    sheet = AnswerSheet(p.problem, answers)
    return marking_text(sheet, mark(sheet))
