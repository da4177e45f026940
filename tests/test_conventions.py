"""Spec section 10: the new symbols (f'(u), L_k, delta), a sheet's convention for δ, and
marking by the digits the student wrote. Every expected number is worked out here by the
blackboard formulas, not by nnviz."""

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnviz.core.functions import Activation
from nnviz.core.networks import random_problem
from nnviz.core.problem import Problem, preset
from nnviz.teaching.grading import (
    AnswerError,
    Tolerance,
    decimals_of,
    mark,
    quantities,
    read_answers,
)

V = np.array([[-1.0, 2.0, 0.0], [0.5, -1.0, 1.0], [1.5, 2.0, -0.4], [0.2, 0.1, 0.3]])
W = np.array([[1.0, 1.0, 0.5, 0.5], [0.3, 0.4, 0.5, 0.1]])
X, T = np.array([1.0, 1.5, -0.5]), np.array([1.0, 0.0])


def seed_by_hand():
    u = V @ X
    h = np.where(u >= 0, u, np.expm1(np.minimum(u, 0)))
    z = W @ h
    o = np.exp(z) / np.exp(z).sum()
    slope = np.where(u >= 0, 1.0, np.exp(np.minimum(u, 0)))  # ELU'(u)
    dz = o - T
    dh = W.T @ dz
    return {"u": u, "h": h, "z": z, "o": o, "slope": slope, "dz": dz, "dh": dh}


def marks(report):
    return {(i.symbol, i.index): i.status for i in report.items}


def sheet(answers, **keys):
    return read_answers(json.dumps({"answers": answers, **keys}))


# --- L_k and f'(u) ------------------------------------------------------------------------------


def test_the_loss_terms_of_the_seed_are_minus_ln_o1_and_0_and_sum_to_l():
    s = seed_by_hand()
    terms = [-np.log(s["o"][0]), 0.0]
    report = mark(sheet({"L_k": terms, "L": float(sum(terms))}))
    assert set(marks(report).values()) == {"correct"} and len(report.items) == 3
    assert report.items[0].expected == pytest.approx(0.309548, abs=1e-6)


def test_a_wrong_loss_term_is_wrong_and_the_loss_from_it_carried():
    report = mark(sheet({"L_k": [0.4, 0.0], "L": 0.4}))
    assert marks(report) == {("L_k", (1,)): "wrong", ("L_k", (2,)): "correct", ("L", ()): "carried"}
    carried = report.items[-1]
    assert carried.follow_through == pytest.approx(0.4, abs=1e-12)
    assert carried.note == "consistent with your L_k_1 = 0.4"


def test_a_wrong_derivative_carries_into_dl_du():
    """The seed answer's own slip: ELU'(u) taken as 1 everywhere, so dL/du = dL/dh."""
    s = seed_by_hand()
    report = mark(sheet({"f'(u)": [1.0, 1.0, 1.0, 1.0], "dL/du": s["dh"].tolist()}))
    got = marks(report)
    assert got.pop(("f'(u)", (2,))) == "wrong" and got.pop(("dL/du", (2,))) == "carried"
    assert set(got.values()) == {"correct"}  # u_1, u_3, u_4 are >= 0: ELU' = 1 is right there
    right = mark(sheet({"f'(u)": s["slope"].tolist()}))
    assert set(marks(right).values()) == {"correct"}
    assert right.items[1].expected == pytest.approx(np.exp(-1.5), abs=1e-15)


def test_softmax_has_no_derivative_to_answer():
    with pytest.raises(AnswerError, match='unknown symbol "g\'\\(z\\)"'):
        sheet({"g'(z)": [0.1, 0.2]})
    sigmoid = preset("tutorial")  # sigmoid outputs: g'(z) is there
    assert sigmoid.activations[-1].name == "sigmoid"
    data = {"problem": sigmoid.to_dict(), "answers": {"g'(z)": [0.25, 0.25]}}
    assert len(mark(read_answers(json.dumps(data))).items) == 2


# --- δ and its convention -------------------------------------------------------------------------


def han_and_kamber():
    """A 2-2-2 sigmoid network with squared error, as Han & Kamber work it: the error term
    δ = o(1 - o)(o* - o) at the output, δ = h(1 - h) w^T δ below, and w <- w + η δ h."""
    v = np.array([[0.2, -0.3], [0.4, 0.1]])
    w = np.array([[-0.3, 0.2], [0.1, -0.2]])
    x, t, eta = np.array([1.0, 0.0]), np.array([1.0, 0.0]), 0.9
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    u = v @ x
    h = sig(u)
    z = w @ h
    o = sig(z)
    delta_z = o * (1 - o) * (t - o)
    delta_u = h * (1 - h) * (w.T @ delta_z)
    problem = Problem.from_dict(
        {
            "layers": [2, 2, 2],
            "activations": ["sigmoid", "sigmoid"],
            "loss": "squared_error",
            "x": x.tolist(),
            "target": t.tolist(),
            "weights": [v.tolist(), w.tolist()],
            "learning_rate": eta,
        }
    )
    answers = {
        "u": u.tolist(),
        "h": h.tolist(),
        "z": z.tolist(),
        "o": o.tolist(),
        "delta_z": delta_z.tolist(),
        "delta_u": delta_u.tolist(),
        "w_new": (w + eta * np.outer(delta_z, h)).tolist(),
        "v_new": (v + eta * np.outer(delta_u, x)).tolist(),
    }
    return problem, answers


def test_a_textbooks_error_term_is_right_with_its_convention_declared():
    problem, answers = han_and_kamber()
    text = {"problem": problem.to_dict(), "answers": answers}
    declared = mark(read_answers(json.dumps({**text, "conventions": {"delta": "-dL/du"}})))
    assert set(marks(declared).values()) == {"correct"} and len(declared.items) == 20
    delta = next(i for i in declared.items if i.symbol == "delta_z")
    assert delta.given == pytest.approx(answers["delta_z"][0], abs=1e-15)
    assert delta.expected == pytest.approx(answers["delta_z"][0], rel=1e-12)  # as they write it
    plain = mark(read_answers(json.dumps(text)))  # δ read as dL/du: the signs are wrong
    assert {i.symbol for i in plain.items if i.status != "correct"} == {"delta_z", "delta_u"}


def test_a_delta_and_its_gradient_are_one_answer():
    with pytest.raises(AnswerError, match="answered twice"):
        sheet({"dL/dz": [0, 0], "delta_z": [0, 0]})
    with pytest.raises(AnswerError, match=r'conventions\.delta is "minus"'):
        sheet({}, conventions={"delta": "minus"})


# --- digits -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "true", "min_decimals", "right"),
    [
        ("-0.82", -0.825, 2, True),  # half a unit of the last decimal, through rounding
        ("0.80", 0.7983, 2, True),
        ("0.8", 0.7983, 2, False),  # one decimal, where two are asked for
        ("0.8", 0.7983, 1, True),
        ("2", 2.0, 2, True),  # exactly right needs no decimals
        ("0.79", 0.7983, 2, False),
        ("1.5e-3", 0.00149, 4, True),
    ],
)
def test_digits_as_written(written, true, min_decimals, right):
    tol = Tolerance(min_decimals=min_decimals)
    assert bool(tol.right(float(written), true, decimals_of(written))) is right


@pytest.mark.parametrize(
    ("written", "status"),
    [("-0.78", "correct"), ("-0.780", "wrong"), ("-0.777", "correct"), ("-0.7770", "wrong")],
)
def test_a_sheets_decimals_are_read_as_its_text_writes_them(written, status):
    """h_2 = e^-1.5 - 1 = -0.776870: right to two or three decimals, not to three or four."""
    assert np.expm1(-1.5) == pytest.approx(-0.776870, abs=1e-6)
    tolerance = '"tolerance": {"mode": "digits", "min_decimals": 2}'
    text = f'{{{tolerance}, "answers": {{"h": [2, {written}, 4.7, 0.2]}}}}'
    report = mark(read_answers(text))
    assert report.items[1].status == status and report.items[1].given == float(written)


@given(st.integers(-(10**6), 10**6), st.integers(0, 6))
def test_a_number_rounded_to_its_decimals_is_right_for_any_value_it_rounds_from(k, d):
    written = f"{k / 10**d:.{d}f}"
    for true in (float(written) - 0.49 * 10**-d, float(written) + 0.49 * 10**-d):
        assert Tolerance(min_decimals=d).right(float(written), true, decimals_of(written))
    off = float(written) + 0.51 * 10**-d
    assert not Tolerance(min_decimals=d).right(float(written), off, decimals_of(written))


def test_a_sheets_bad_tolerance_is_refused():
    for bad in ({"mode": "digits", "min_decimals": -1}, {"atol": -1}, {"mode": "sig"}, [1]):
        with pytest.raises(AnswerError, match="tolerance is not"):
            sheet({}, tolerance=bad)


def test_the_command_line_marks_by_digits(tmp_path):
    path = tmp_path / "sheet.json"
    path.write_text('{"answers": {"u": [2, -1.50, 4.70, 0.3], "L": 0.30}}')
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "nnviz", "check", str(path), *a], capture_output=True, text=True
    )
    out = run("--tolerance", "digits", "--min-decimals", "1", "--format", "json")
    report = json.loads(out.stdout)
    assert report["tolerance"] == {"mode": "digits", "min_decimals": 1}
    # "2" is exactly u_1, so needs no decimals; u_4 = 0.3 is 0.1 off; L = 0.30 is 0.0095 off
    # the true 0.3095, but right to its two decimals from the student's own u
    assert [i["status"] for i in report["items"]] == ["correct"] * 3 + ["wrong", "carried"]
    u = V @ X
    u[3] = 0.3
    z = W @ np.where(u >= 0, u, np.expm1(np.minimum(u, 0)))
    own = -np.log(np.exp(z[0]) / np.exp(z).sum())
    assert report["items"][-1]["follow_through"] == pytest.approx(own, rel=1e-12)
    bad = run("--tolerance", "digits", "--atol", "0.1")
    assert bad.returncode == 2 and bad.stderr.strip().endswith(
        "--atol and --rtol are for --tolerance abs, not digits"
    )


def test_the_new_symbols_are_named_as_the_spec_names_them():
    def names(problem):
        return {n for q in quantities(problem) for n in (q.name, *q.aliases, *q.deltas)}

    seed = names(preset("seed"))
    assert {"L_k", "f'(u)", "f'(u1)", "delta_u", "delta1", "delta_z", "delta2"} <= seed
    assert not {n for n in seed if n.startswith("g'")}  # softmax: a Jacobian, not g'(z)
    assert {"g'(z)", "f'(u2)"} <= names(preset("tutorial"))
    deep = random_problem(
        [2, 3, 3, 2], [Activation("tanh")] * 2 + [Activation("sigmoid")], "squared_error", False, 1
    )
    assert {"f'(u1)", "f'(u2)", "f'(u3)", "delta1", "delta2", "delta3"} <= names(deep)
    assert not {n for n in names(deep) if n.startswith(("g'", "delta_"))}
