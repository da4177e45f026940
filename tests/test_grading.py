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

from nnviz.core.problem import preset
from nnviz.teaching.grading import AnswerError, mark, read_answers

ROOT = Path(__file__).resolve().parent.parent
SHEET = ROOT / "examples" / "seed-answers.json"
V = np.array([[-1.0, 2.0, 0.0], [0.5, -1.0, 1.0], [1.5, 2.0, -0.4], [0.2, 0.1, 0.3]])
W = np.array([[1.0, 1.0, 0.5, 0.5], [0.3, 0.4, 0.5, 0.1]])
X, T, ETA = np.array([1.0, 1.5, -0.5]), np.array([1.0, 0.0]), 0.1


def seed_world(u=None, o=None):
    """The seed step by the blackboard formulas; u or o may be forced, as a student's would."""
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
