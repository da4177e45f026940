"""The lecture's steps: their order, what each reveals, and the equations with numbers in."""

import math
from itertools import pairwise

import pytest
from seed import TITLES as SEED_TITLES

from nnviz.core.engine import iterate
from nnviz.core.functions import Activation
from nnviz.core.networks import random_problem
from nnviz.core.notation import short
from nnviz.core.problem import Problem, preset
from nnviz.teaching.lesson import MAX_LINES, step_count, steps


@pytest.fixture(scope="module")
def seed():
    return steps(iterate(preset("seed")))


def test_the_seed_lecture_has_the_eleven_steps(seed):
    assert [s.title for s in seed] == SEED_TITLES
    assert [s.phase for s in seed] == ["setup"] + ["forward"] * 4 + ["loss"] + ["backward"] * 4 + [
        "update"
    ]
    assert [s.layer for s in seed] == [None, 0, 0, 1, 1, None, 1, 1, 1, 0, None]


def test_each_step_reveals_what_came_before_and_its_own(seed):
    for before, after in pairwise(seed):
        assert before.reveals <= after.reveals
    assert seed[0].reveals == frozenset()
    assert seed[2].reveals == {("pre", 0), ("post", 0)}
    assert ("grad_weights", 0) in seed[9].reveals and ("weights_new", 0) not in seed[9].reveals
    assert seed[10].reveals - seed[9].reveals == {("weights_new", 0), ("weights_new", 1)}


def test_the_forward_equations_substitute_the_numbers(seed):
    u2 = seed[1].equations[2]
    assert "u_{2} &= v_{21} x_{1} + v_{22} x_{2} + v_{23} x_{3}" in u2
    assert r"&= (0.5)(1.0) + (-1.0)(1.5) + (1.0)(-0.5) \\ &= -1.5" in u2
    h2 = f"{math.exp(-1.5) - 1:.4f}"  # ELU(-1.5) = e^-1.5 - 1, not the -0.75 of u_2 itself
    assert (
        seed[2].equations[2] == rf"h_{{2}} = \mathrm{{ELU}}(u_{{2}}) = \mathrm{{ELU}}(-1.5) = {h2}"
    )
    assert h2 == "-0.7769"


def test_the_loss_and_the_output_delta(seed):
    z = [4.45 + math.exp(-1.5) - 1, 2.97 + 0.4 * (math.exp(-1.5) - 1)]  # w h, by hand
    o1 = 1 / (1 + math.exp(z[1] - z[0]))
    assert seed[5].equations[1].endswith(f"= {-math.log(o1):.4f}")
    assert f"{-math.log(o1):.4f}" == "0.3095"
    assert seed[6].equations[1] == (
        r"\frac{\partial \mathcal{L}}{\partial z_{1}} = o_{1} - o^*_{1} = "
        f"{o1:.4f} - 1.0 = {o1 - 1:.4f}"
    )


def test_the_chain_rule_for_v21_is_written_term_by_term(seed):
    z = [4.45 + math.exp(-1.5) - 1, 2.97 + 0.4 * (math.exp(-1.5) - 1)]
    o2 = 1 - 1 / (1 + math.exp(z[1] - z[0]))
    dh2 = o2 * (0.4 - 1.0)  # sum_k (o_k - o*_k) w_k2, with o_1 - 1 = -o_2
    du2 = dh2 * math.exp(-1.5)  # ELU'(-1.5) = e^-1.5
    line = next(e for e in seed[9].equations if "v_{21}" in e)
    assert line == (
        r"\frac{\partial \mathcal{L}}{\partial v_{21}} = "
        r"\frac{\partial \mathcal{L}}{\partial u_{2}} x_{1} = "
        f"({du2:.4f})(1.0) = {du2:.4f}"
    )
    assert f"{du2:.4f}" == "-0.0356"


def test_the_update_shows_old_minus_eta_gradient(seed):
    assert r"w_{11} \leftarrow 1.0 - (0.1)(-0.5324) = 1.0532" in seed[10].equations


def test_biases_and_depth_change_the_steps():
    problem = Problem.from_dict(
        {
            "layers": [2, 3, 3, 1],
            "activations": ["tanh", "relu", "sigmoid"],
            "loss": "binary_cross_entropy",
            "x": [0.5, -1],
            "target": [1],
            "weights": [[[0.1, 0.2]] * 3, [[0.3, -0.1, 0.2]] * 3, [[0.5, 0.5, -0.5]]],
            "biases": [[0, 0, 0], [0.1, 0.1, 0.1], [0]],
            "learning_rate": 0.5,
        }
    )
    lesson = steps(iterate(problem))
    assert len(lesson) == step_count(problem) == 15
    titles = [s.title for s in lesson]
    assert titles[1] == "u1 = W1 x + b1" and titles[4] == "h2 = ReLU(u2)"
    assert "dL/dW3 and dL/db3" in titles and titles[-1] == "The update of W3 and W2 and W1"
    assert any(r"W^{(1)}_{21}" in e for e in lesson[1].equations)


def test_squared_error_goes_through_the_outputs_derivative():
    lesson = steps(iterate(preset("tutorial")))
    assert lesson[6].title == "dL/do and dL/dz"
    assert any(r"\sigma'(z_k)" in e for e in lesson[6].equations)


def test_a_large_layer_shows_its_first_rows_and_counts_the_rest():
    activations = [Activation("tanh"), Activation("tanh"), Activation("softmax")]
    problem = random_problem([64] * 4, activations, "cross_entropy", True, seed=1)
    lesson = steps(iterate(problem))
    for s in lesson:
        assert len(s.equations) <= 2 * MAX_LINES + 4, s.title
    u1 = lesson[1].equations
    assert u1[-1] == rf"\vdots \quad \text{{and {64 - MAX_LINES} more}}"


@pytest.mark.parametrize(
    "value, text",
    [
        (0.5, "0.5"),
        (1, "1.0"),
        (-0.77686984, "-0.7769"),
        (-0.00001, "0.0"),
        (2.028, "2.028"),
        (4.4e7, "4.4e+07"),
    ],
)
def test_numbers_on_the_board(value, text):
    assert short(value) == text


def test_every_step_has_equations():
    for problem in (preset("seed"), preset("tutorial")):
        for s in steps(iterate(problem)):
            assert s.equations and all(isinstance(e, str) and e for e in s.equations)


def _group_end(tex: str, i: int) -> int:
    depth = 0
    for j in range(i, len(tex)):
        depth += {"{": 1, "}": -1}.get(tex[j], 0)
        if depth == 0:
            return j + 1
    raise AssertionError(f"unbalanced braces in {tex!r}")


def _argument_end(tex: str, i: int) -> int:
    while tex[i] == " ":
        i += 1
    if tex[i] == "{":
        return _group_end(tex, i)
    if tex[i] == "\\":
        j = i + 1
        while j < len(tex) and tex[j].isalpha():
            j += 1
        return j
    return i + 1


def double_scripts(tex: str) -> list[str]:
    """Each place where a superscript follows a superscript (or a subscript a subscript) on
    one base: KaTeX refuses those ("Double superscript") and shows red text instead."""
    found, seen, i = [], set(), 0
    while i < len(tex):
        c = tex[i]
        if c in "^_":
            if c in seen:
                found.append(tex[max(0, i - 20) : i + 10])
            seen.add(c)
            end = _argument_end(tex, i + 1)
            found += double_scripts(
                tex[i + 1 : end].strip()[1:-1] if tex[i + 1 :].lstrip().startswith("{") else ""
            )
            i = end
            continue
        if c == "{":
            end = _group_end(tex, i)
            found += double_scripts(tex[i + 1 : end - 1])
            i, seen = end, set()
            continue
        if c != " ":
            seen = set()
        i += 1
    return found


@pytest.mark.parametrize(
    "layers, biases",
    [
        ([3, 4, 2], False),
        ([2, 2, 2], True),
        ([2, 3, 3, 2], True),
        ([1, 1], False),
        ([12, 16, 16, 12], True),
    ],
)
def test_every_equation_is_latex_that_katex_accepts(layers, biases):
    depth = len(layers) - 1
    activations = [Activation("elu", 0.5)] * (depth - 1) + [Activation("sigmoid")]
    problem = random_problem(layers, activations, "squared_error", biases, seed=5)
    for s in steps(iterate(problem)):
        for e in s.equations:
            assert double_scripts(e) == [], (s.title, e)


def test_the_checker_finds_a_double_superscript():
    assert double_scripts(r"W^{(3)}^{\text{new}} = 1") and not double_scripts(
        r"{W^{(3)}}^{\text{new}}_{21} = x^2_1"
    )
