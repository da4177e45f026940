"""An activation added to the table (functions.ACTIVATIONS) alone, here in the test, works
everywhere: the problem format, the engine, the lesson, the worksheets, the gradient check, the
grader and the app."""

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from test_app import APP, click, heading

from nnviz.core.engine import gradient_check, iterate
from nnviz.core.functions import ACTIVATIONS, ActivationFunction, activation_names
from nnviz.core.problem import Problem, ProblemError, preset
from nnviz.teaching import worksheet
from nnviz.teaching.grading import AnswerSheet, mark, quantities
from nnviz.teaching.lesson import steps
from nnviz.teaching.quantities import value_of

SOFTSIGN = ActivationFunction(
    "softsign",
    "softsign",
    r"\mathrm{softsign}",
    lambda u, a: u / (1.0 + np.abs(u)),
    lambda u, a: 1.0 / (1.0 + np.abs(u)) ** 2,
    r"\mathrm{softsign}(u) = \frac{u}{1 + |u|}",
    r"\mathrm{softsign}'(u) = \frac{1}{(1 + |u|)^2}",
)
U = np.array([2.0, -1.5, 4.7, 0.2])  # the seed's u = v x


@pytest.fixture
def softsign(monkeypatch):
    monkeypatch.setitem(ACTIVATIONS, "softsign", SOFTSIGN)


def seed_with_softsign() -> Problem:
    data = preset("seed").to_dict()
    data["activations"] = ["softsign", "softmax"]
    return Problem.from_dict(data)


def test_unregistered_it_is_refused_by_name():
    with pytest.raises(ProblemError, match='activations\\[0\\] is "softsign"; expected one of'):
        seed_with_softsign()


def test_the_format_and_the_engine_take_it(softsign):
    assert "softsign" in activation_names(output=False)
    problem = seed_with_softsign()
    assert json.loads(problem.to_json())["activations"] == ["softsign", "softmax"]
    p = iterate(problem)
    np.testing.assert_allclose(p.forward.pre[0], U, rtol=0, atol=1e-15)
    h = np.array([2 / 3, -1.5 / 2.5, 4.7 / 5.7, 0.2 / 1.2])  # u / (1 + |u|), by hand
    np.testing.assert_allclose(p.forward.post[0], h, rtol=1e-15)
    # dL/du = dL/dh f'(u), with f'(u) = 1 / (1 + |u|)^2
    expected = p.backward.grad_post[0] / (1.0 + np.abs(U)) ** 2
    np.testing.assert_allclose(p.backward.grad_pre[0], expected, rtol=1e-14)
    assert all(c.passed for c in gradient_check(problem))


def test_the_lesson_and_the_worksheets_write_it_and_its_derivative(softsign):
    p = iterate(seed_with_softsign())
    lesson = steps(p)
    assert lesson[2].title == "h = softsign(u)"
    assert lesson[2].equations[0] == SOFTSIGN.latex
    assert (
        r"h_{1} = \mathrm{softsign}(u_{1}) = \mathrm{softsign}(2.0) = 0.6667" in lesson[2].equations
    )
    hidden = next(s for s in lesson if s.title == "dL/dh and dL/du")
    assert SOFTSIGN.derivative_latex in hidden.equations
    assert r"\mathrm{softsign}'(2.0)" in " ".join(hidden.equations)
    for text in (worksheet.latex(p), worksheet.markdown(p)):
        assert r"\mathrm{softsign}'(u) = \frac{1}{(1 + |u|)^2}" in text


def test_the_grader_marks_it(softsign):
    problem = seed_with_softsign()
    truth = iterate(problem)
    answers = {q.name: value_of(truth, q.key) for q in quantities(problem)}
    assert mark(AnswerSheet(problem, answers)).summary()["wrong"] == 0
    h = truth.forward.post[0].copy()
    h[0] = 0.5  # a wrong h_1, and the z that follows from it
    report = mark(AnswerSheet(problem, {"u": U, "h": h, "z": problem.weights[1] @ h}))
    items = {(i.symbol, i.index): i.status for i in report.items}
    assert items[("u", (1,))] == "correct" and items[("h", (1,))] == "wrong"
    assert items[("z", (1,))] == items[("z", (2,))] == "carried"


def test_the_app_offers_it_and_teaches_with_it(softsign):
    at = AppTest.from_file(APP, default_timeout=30).run()
    rev = at.session_state["lecture"].network_rev
    hidden = at.selectbox(key=f"act0_r{rev}")
    assert "softsign" in hidden.options
    assert "softsign" in at.selectbox(key=f"act1_r{rev}").options  # any may be an output
    hidden.set_value("softsign").run()
    assert not at.exception
    assert at.session_state["lecture"].problem.activations[0].name == "softsign"
    click(at, "next", 2)
    assert heading(at) == "Step 3 of 11: h = softsign(u)"
    assert r"\mathrm{softsign}(2.0) = 0.6667" in " ".join(e.value for e in at.latex)
    at.session_state["tab"] = "Gradient check"
    at.run()
    assert not at.exception and not at.error
