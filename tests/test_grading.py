"""Marking answer sheets: right, wrong, or carried forward from the student's own answers.

The correct values are derived here with NumPy formulas written out for the seed network; the
student's values come from the seed's worked answer (examples/seed-answers.json), which is
exactly what is being marked, never what anything is checked against.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nnviz.core.problem import preset
from nnviz.teaching.grading import AnswerError, Tolerance, mark, read_answers

ROOT = Path(__file__).resolve().parent.parent
SHEET = ROOT / "examples" / "seed-answers.json"
V = np.array([[-1.0, 2.0, 0.0], [0.5, -1.0, 1.0], [1.5, 2.0, -0.4], [0.2, 0.1, 0.3]])
W = np.array([[1.0, 1.0, 0.5, 0.5], [0.3, 0.4, 0.5, 0.1]])
X, T, ETA = np.array([1.0, 1.5, -0.5]), np.array([1.0, 0.0]), 0.1


def seed_world(u=None, o=None, v=V, w=W, x=X):
    """The seed step by the blackboard formulas (or the seed's network with other weights and
    input); u or o may be forced, as a student's would."""
    V, W, X = v, w, x
    u = V @ X if u is None else u
    h = np.where(u >= 0, u, np.exp(np.minimum(u, 0)) - 1)
    z = W @ h
    o = np.exp(z) / np.exp(z).sum() if o is None else o
    dz = o - T
    dw = np.outer(dz, h)
    dh = W.T @ dz
    du = dh * np.where(u >= 0, 1.0, np.exp(np.minimum(u, 0)))
    dv = np.outer(du, X)
    return {
        "u": u,
        "h": h,
        "z": z,
        "o": o,
        "L": -np.sum(T * np.log(o)),
        "dL/dz": dz,
        "dL/dw": dw,
        "dL/dh": dh,
        "dL/du": du,
        "dL/dv": dv,
        "w_new": W - ETA * dw,
        "v_new": V - ETA * dv,
    }


def marks(report):
    return {(i.symbol, i.index): i.status for i in report.items}


def test_the_seed_answer_is_marked_as_an_examiner_would():
    truth = seed_world()
    given = json.loads(SHEET.read_text())["answers"]
    report = mark(read_answers(SHEET.read_bytes()))
    expected = {}
    for symbol, values in given.items():
        for index, value in np.ndenumerate(np.asarray(values, float)):
            right = abs(value - truth[symbol][index]) <= max(1e-3, 1e-3 * abs(truth[symbol][index]))
            expected[(symbol, tuple(i + 1 for i in index))] = "correct" if right else "wrong"
    # the one slip carried forward: h_3 = ELU(u_3) with the student's own u_3 = 1.75
    assert expected[("h", (3,))] == "wrong" and given["u"][2] == given["h"][2] == 1.75
    expected[("h", (3,))] = "carried"
    assert marks(report) == expected
    assert [k for k, v in expected.items() if v == "wrong"] == [
        ("u", (2,)),
        ("u", (3,)),
        ("h", (2,)),
        ("z", (1,)),
        ("o", (1,)),
        ("L", ()),
        ("dL/dw", (1, 1)),
        ("dL/dw", (2, 1)),
        ("dL/dv", (2, 3)),
        ("dL/dv", (4, 2)),
        ("w_new", (1, 3)),
        ("w_new", (2, 1)),
        ("w_new", (2, 4)),
    ]
    assert report.summary() == {"graded": 43, "correct": 29, "carried": 1, "wrong": 13}


def test_the_check_report_is_the_spec_format():
    run = subprocess.run(
        [sys.executable, "-m", "nnviz", "check", str(SHEET), "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["format"] == "nnviz-check/1"
    assert report["tolerance"] == {"atol": 0.001, "rtol": 0.001}
    assert report["summary"] == {"graded": 43, "correct": 29, "carried": 1, "wrong": 13}
    h3 = next(i for i in report["items"] if i["symbol"] == "h" and i["index"] == [3])
    assert h3 == {
        "symbol": "h",
        "index": [3],
        "given": 1.75,
        "expected": 4.7,
        "status": "carried",
        "follow_through": 1.75,
        "note": "consistent with your u_3 = 1.75",
    }


def test_the_marking_sheet_reads_well():
    run = subprocess.run(
        [sys.executable, "-m", "nnviz", "check", str(SHEET)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = run.stdout.splitlines()
    assert "43 answers: 29 correct, 1 carried forward, 13 wrong" in lines
    assert (
        "  h_3      = 1.75       carried  expected 4.7000, but consistent with your u_3 = 1.75"
        in lines
    )
    u2 = lines.index("  u_2      = -0.75      wrong    expected -1.5000")
    assert lines[u2 + 1] == (
        "             working: u_2 = v_21 x_1 + v_22 x_2 + v_23 x_3 = "
        "(0.5)(1.0) + (-1.0)(1.5) + (1.0)(-0.5) = -1.5"
    )


def full_sheet(world):
    return {k: np.asarray(v).tolist() for k, v in world.items()}


def test_an_error_and_everything_consistent_after_it():
    """Change u_2 and redo everything downstream from it: u_2 is wrong, and every later answer
    that moved with it is carried; the rest stay correct."""
    truth = seed_world()
    u = truth["u"].copy()
    u[1] = -1.0  # the slip: -1.0 instead of -1.5
    student = seed_world(u=u)
    report = mark(read_answers(json.dumps({"answers": full_sheet(student)})))
    got = marks(report)
    assert got[("u", (2,))] == "wrong"
    for symbol, values in student.items():
        for index, value in np.ndenumerate(np.asarray(values)):
            key = (symbol, tuple(i + 1 for i in index))
            moved = abs(value - truth[symbol][index]) > max(1e-3, 1e-3 * abs(truth[symbol][index]))
            if key != ("u", (2,)):
                assert got[key] == ("carried" if moved else "correct"), key
    assert sum(s == "carried" for s in got.values()) >= 10


def rounded_sheet(world: dict, decimals: int, problem: dict | None = None) -> str:
    """A student who works in full precision and writes each answer to `decimals` places,
    as text (2.500 keeps its zeros)."""

    def text(a):
        a = np.asarray(a)
        if a.ndim == 0:
            return f"{float(a):.{decimals}f}"
        return "[" + ", ".join(text(e) for e in a) + "]"

    body = ", ".join(f'"{k}": {text(v)}' for k, v in world.items())
    head = f'"problem": {json.dumps(problem)}, ' if problem else ""
    return "{" + head + '"answers": {' + body + "}}"


def test_a_slip_worked_on_in_full_and_written_to_3_decimals_is_carried_throughout():
    """An examiner does not fail dL/dw_14 = 0.547 because 0.103 times 5.29 is 0.545: the student
    carried more digits of dL/dz_1 than they wrote. Every answer that moved with the slip is
    carried, and every other correct."""
    truth = seed_world()
    u = truth["u"].copy()
    u[1] = 1.5  # the slip: the sign of u_2
    student = seed_world(u=u)
    report = mark(read_answers(rounded_sheet(student, 3)))
    got = marks(report)
    assert got.pop(("u", (2,))) == "wrong"
    for (symbol, index), status in got.items():
        at = tuple(i - 1 for i in index)
        given, right = round(student[symbol][at], 3), truth[symbol][at]
        assert status == ("correct" if abs(given - right) <= 1e-3 else "carried"), (symbol, index)
    # redone from the answers as written, some are further off than the tolerance allows
    carried = [i for i in report.items if i.status == "carried"]
    assert any(abs(i.given - i.follow_through) > 1e-3 * max(1, abs(i.given)) for i in carried)


def test_a_second_slip_among_rounded_answers_is_still_wrong():
    truth = seed_world()
    u = truth["u"].copy()
    u[1] = 1.5
    student = seed_world(u=u)
    student["dL/dw"][0, 3] += 0.02  # and then a slip of 0.02 in dL/dw_14
    student["w_new"] = W - ETA * student["dL/dw"]  # ... worked on
    got = marks(mark(read_answers(rounded_sheet(student, 3))))
    assert got[("dL/dw", (1, 4))] == "wrong"
    assert got[("w_new", (1, 4))] == "carried"
    assert [k for k, s in got.items() if s == "wrong"] == [("u", (2,)), ("dL/dw", (1, 4))]


def test_by_digits_a_carried_answer_still_needs_its_decimals():
    """The leeway for the student's rounding is not leeway in how many decimals they write."""
    truth = seed_world()
    u = truth["u"].copy()
    u[1] = 1.5
    student = seed_world(u=u)
    by_digits = Tolerance(min_decimals=2)
    sheet = rounded_sheet(student, 2)
    got = marks(mark(read_answers(sheet), tolerance=by_digits))
    assert [k for k, s in got.items() if s == "wrong"] == [("u", (2,))]
    assert got[("dL/dw", (1, 3))] == "carried"
    # -0.4 written where -0.3999 follows, give or take 0.01: one decimal is one too few
    right = by_digits.right(np.array([-0.4, -0.4, 2.0]), -0.3999, np.array([1, 2, 0]), 0.01)
    assert right.tolist() == [False, True, False]
    assert by_digits.right(2.0, 2.0, 0, 0.01)  # but 2 for exactly 2 is right however written


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(0, 3),
    st.integers(2, 4),
)
def test_a_slip_worked_on_in_full_is_never_wrong_downstream(seed, j, decimals):
    """Any weights and input of the seed's network, to one decimal, a slip in the sign of one
    u_j, and every answer worked on in full and written to 2, 3 or 4 decimals: within a
    tolerance of one unit in the last place written, only the slip is wrong. (Without the
    student's rounding allowed for, a 2-decimal dL/dz_1 times h_j misses by 0.005 |h_j|.)"""
    rng = np.random.default_rng(seed)
    v, w, x = (np.round(rng.uniform(-2, 2, shape), 1) for shape in ((4, 3), (2, 4), 3))
    truth = seed_world(v=v, w=w, x=x)
    assume(abs(truth["u"][j]) >= 0.5 and np.all(np.abs(truth["u"]) >= 0.05))
    u = truth["u"].copy()
    u[j] = -u[j]
    student = seed_world(u=u, v=v, w=w, x=x)
    assume(max(truth["o"].max(), student["o"].max()) <= 0.99)  # no o written as 0.00, as generate
    problem = {
        "format": "nnviz-problem/1",
        "layers": [3, 4, 2],
        "activations": [{"name": "elu", "alpha": 1.0}, "softmax"],
        "loss": "cross_entropy",
        "x": x.tolist(),
        "target": T.tolist(),
        "weights": [v.tolist(), w.tolist()],
        "learning_rate": ETA,
    }
    unit = 10.0**-decimals
    report = mark(read_answers(rounded_sheet(student, decimals, problem)), unit, unit)
    assert [(i.symbol, i.index) for i in report.items if i.status == "wrong"] == [("u", (j + 1,))]


def test_a_carried_error_passes_through_blanks():
    """A wrong o, no dL/dz, and dL/dw from the student's own o: carried, naming o."""
    o = np.array([0.9, 0.1])
    student = seed_world(o=o)
    sheet = {"answers": {"o": o.tolist(), "dL/dw": student["dL/dw"].tolist()}}
    report = mark(read_answers(json.dumps(sheet)))
    item = next(i for i in report.items if i.symbol == "dL/dw" and i.index == (1, 1))
    assert item.status == "carried"
    assert item.note == "consistent with your o_1 = 0.9"
    assert item.follow_through == pytest.approx((0.9 - 1.0) * 2.0)


def test_generic_names_are_aliases_for_one_hidden_layer():
    sheet = {"answers": {"u1": (V @ X).tolist(), "dL/dW2": seed_world()["dL/dw"].tolist()}}
    report = mark(read_answers(json.dumps(sheet)))
    assert {i.symbol for i in report.items} == {"u", "dL/dw"}
    assert all(i.status == "correct" for i in report.items)


@pytest.mark.parametrize(
    "answers, message",
    [
        (
            {"q": 1},
            'unknown symbol "q"; the valid ones are: x (3), o* (2), v (4, 3), w (2, 4), '
            "u (4), h (4), z (2), o (2), L_k (2), L (scalar), dL/do (2), dL/dz (2) or delta_z",
        ),
        ({"u": [1, 2, 3]}, "u has shape (3); u needs (4)"),
        ({"u": [[1, 2], [3]]}, "u has shape ragged; u needs (4)"),
        ({"dL/dw": [1, 2]}, "dL/dw has shape (2); dL/dw needs (2, 4)"),
        ({"u": [1, "2", 3, 4]}, 'u[1] is "2"; expected a number or null'),
        ({"L": True}, "L is true; expected a number or null"),
        ({"u": [0, 0, 0, 0], "u1": [0, 0, 0, 0]}, "u1 is answered twice"),
    ],
)
def test_bad_sheets_are_refused_naming_the_symbol(answers, message, tmp_path):
    text = json.dumps({"answers": answers})
    with pytest.raises(AnswerError) as caught:
        read_answers(text)
    assert message in str(caught.value)
    path = tmp_path / "sheet.json"
    path.write_text(text)
    run = subprocess.run(
        [sys.executable, "-m", "nnviz", "check", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and run.stdout == "" and run.stderr.count("\n") == 1
    assert message in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize(
    "text, message",
    [
        (b'{"answers": {"L": NaN}}', "L is NaN; expected a number or null"),
        (b'{"answers": {"L": 0.1', "truncated"),
        (b"[1]", "the answer sheet is not a JSON object"),
        (b'{"answers": {"L": 0.1}, "extra": 1}', 'unknown key "extra"'),
        (b'{"answers": {}, "problem": {"layers": [3]}}', "problem: "),
        (b"{" + b" " * 1_000_001 + b"}", "an answer sheet file may be at most 1 MB"),
    ],
    ids=["nan", "truncated", "list", "extra-key", "bad-problem", "over-1-MB"],
)
def test_bad_files_are_refused(text, message, tmp_path):
    path = tmp_path / "sheet.json"
    path.write_bytes(text)
    run = subprocess.run(
        [sys.executable, "-m", "nnviz", "check", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and message in run.stderr and run.stderr.count("\n") == 1


def test_the_problem_in_the_sheet_is_the_one_marked():
    problem = preset("tutorial")
    sheet = {"problem": problem.to_dict(), "answers": {"L": 0.298371109}}
    report = mark(read_answers(json.dumps(sheet)))
    assert marks(report) == {("L", ()): "correct"}
