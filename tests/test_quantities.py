"""The one ordered list of the lecture's quantities, and everything that walks it: the lesson,
the grader and its student world, the quiz, the text solution and the worked solutions."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnviz.cli import solution_text
from nnviz.core.engine import iterate
from nnviz.core.functions import Activation, activation_names
from nnviz.core.networks import random_problem
from nnviz.core.problem import preset
from nnviz.teaching import worksheet
from nnviz.teaching.grading import AnswerSheet, Tolerance, mark, quantities, student_world
from nnviz.teaching.lesson import MAX_LINES, step_count, steps
from nnviz.teaching.quantities import plan, value_of
from nnviz.ui.quiz import ASKED_NOT, questions

LOSS_FOR = {"softmax": "cross_entropy", "sigmoid": "binary_cross_entropy"}


@st.composite
def networks(draw):
    """A network of 1 to 4 weight layers, any activations, the loss made for its output or
    squared error, with or without biases, and its weights drawn at random."""
    layers = draw(st.lists(st.integers(1, 5), min_size=2, max_size=5))
    hidden = [Activation(draw(st.sampled_from(activation_names(output=False)))) for _ in layers[2:]]
    out = draw(st.sampled_from(activation_names()))
    if out == "softmax" and layers[-1] < 2:
        layers[-1] = 2
    loss = draw(st.sampled_from([LOSS_FOR.get(out, "squared_error"), "squared_error"]))
    return random_problem(
        layers, [*hidden, Activation(out)], loss, draw(st.booleans()), draw(st.integers(0, 999))
    )


def deep_problem():
    return random_problem(
        [3, 4, 5, 2],
        [Activation("tanh"), Activation("elu"), Activation("softmax")],
        "cross_entropy",
        True,
        7,
    )


EXAMPLES = {
    "seed": lambda: preset("seed"),
    "tutorial": lambda: preset("tutorial"),
    "deep with biases": deep_problem,
    "sigmoid, squared error": lambda: random_problem(
        [2, 3, 2], [Activation("relu"), Activation("sigmoid")], "squared_error", False, 3
    ),
}


@pytest.fixture(params=list(EXAMPLES))
def example(request):
    return EXAMPLES[request.param]()


def labels(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^  (\S+)\s+=", text, flags=re.M)]


def test_the_text_solution_prints_the_quantities_in_the_lecture_order(example):
    p = iterate(example)
    assert labels(solution_text(p)) == [q.name for q in quantities(example)]


def test_the_update_is_w_then_v_everywhere():
    """The text solution printed v_new before w_new, while the stepper and the grader put w
    first, as the update works from the output back."""
    p = iterate(preset("seed"))
    names = labels(solution_text(p))
    assert names[-2:] == ["w_new", "v_new"]
    assert steps(p)[-1].title == "The update of w and v"
    assert [q.name for q in quantities(p.problem)][-2:] == ["w_new", "v_new"]


def test_each_step_reveals_exactly_its_quantities(example):
    p = iterate(example)
    lecture, lesson = plan(example), steps(p)
    assert len(lesson) == step_count(example) == len(lecture.boards)
    for k, s in enumerate(lesson):
        before = lesson[k - 1].reveals if k else frozenset()
        assert s.reveals - before == {q.key for q in lecture.quantities if q.step == k}
        assert s.phase == lecture.boards[k].phase
    given = [q.key[0] for q in lecture.quantities if q.step is None]
    assert given[:2] == ["x", "target"] and set(given[2:]) <= {"weights", "biases"}


def test_the_quiz_asks_what_each_step_works_out(example):
    p = iterate(example)
    asked = [q.key for k in range(step_count(example)) for q in questions(p, k)]
    computed = [q.key for q in quantities(example) if q.step is not None]
    assert asked == [key for key in computed if key[0] not in ASKED_NOT]


@settings(max_examples=150, deadline=None)
@given(networks())
def test_with_no_answers_the_student_world_is_the_engines_pass(problem):
    truth = iterate(problem)
    world = student_world(problem, {}, truth, Tolerance())
    for q in quantities(problem):
        if q.step is None:
            continue
        expected = value_of(truth, q.key)
        got = world.values[q.name]
        finite = np.isfinite(expected)
        np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-12, atol=1e-300)
        assert np.isnan(got[~finite]).all()


@settings(max_examples=100, deadline=None)
@given(networks())
def test_a_sheet_of_the_true_values_is_marked_all_correct(problem):
    truth = iterate(problem)
    answers = {q.name: value_of(truth, q.key) for q in quantities(problem)}
    summary = mark(AnswerSheet(problem, answers)).summary()
    assert summary["graded"] == sum(v.size for v in answers.values())
    assert (summary["correct"], summary["carried"], summary["wrong"]) == (summary["graded"], 0, 0)


def test_a_wrong_o_is_carried_into_the_loss_as_the_student_computes_it():
    """The student's own o, not the engine's z, is what their L follows from."""
    problem = preset("seed")
    truth = iterate(problem)
    o = np.array([0.6, 0.4])
    sheet = AnswerSheet(problem, {"o": o, "L": np.array(-np.log(0.6))})
    items = {(i.symbol, i.index): i for i in mark(sheet).items}
    assert items[("o", (1,))].status == "wrong"
    assert items[("L", ())].status == "carried"
    assert items[("L", ())].follow_through == pytest.approx(-np.log(0.6), abs=1e-15)
    assert truth.forward.loss == pytest.approx(0.309548, abs=1e-6)


# --- the display cap --------------------------------------------------------------------------


def large():
    return random_problem(
        [4, 16, 3], [Activation("relu"), Activation("softmax")], "cross_entropy", True, 2
    )


def test_the_screen_shows_the_first_entries_of_a_large_layer():
    lesson = steps(iterate(large()))
    u = lesson[1].equations
    assert len(u) == MAX_LINES + 2
    assert u[-1] == rf"\vdots \quad \text{{and {16 - MAX_LINES} more}}"
    assert len(steps(iterate(large()), cap=3)[1].equations) == 3 + 2


@pytest.mark.parametrize("write", [worksheet.markdown, worksheet.latex], ids=["md", "tex"])
def test_a_worked_solution_writes_every_entry_out(write):
    p = iterate(large())
    text = write(p)
    assert r"\vdots" not in text
    assert not re.search(r"\\cdots(?!\s*\+)", text), "a row, a vector or a sum cut short"
    for j in range(1, 17):
        assert f"u_{{{j}}} &= " in text or f"u_{{{j}}} = " in text, j
    for j, i in np.ndindex(p.updated.weights[0].shape):
        sub = f"{j + 1},{i + 1}" if j + 1 >= 10 else f"{j + 1}{i + 1}"
        assert rf"v_{{{sub}}} \leftarrow" in text
