"""Worked answers written as text (spec section 10): the seed's own document as it is, and
spellings of our own making, each read into the answers it states and marked. The expected
values are the blackboard's, worked out here."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nnviz.core.problem import preset
from nnviz.teaching.grading import Tolerance, mark, read_answers
from nnviz.teaching.reading import read_text

ROOT = Path(__file__).resolve().parent.parent
V = np.array([[-1.0, 2.0, 0.0], [0.5, -1.0, 1.0], [1.5, 2.0, -0.4], [0.2, 0.1, 0.3]])
W = np.array([[1.0, 1.0, 0.5, 0.5], [0.3, 0.4, 0.5, 0.1]])
X, T = np.array([1.0, 1.5, -0.5]), np.array([1.0, 0.0])
U = V @ X  # [2, -1.5, 4.7, 0.2]
H = np.where(U >= 0, U, np.expm1(np.minimum(U, 0)))
Z = W @ H
O = np.exp(Z) / np.exp(Z).sum()
DZ = O - T
DW = np.outer(DZ, H)


def seed_document() -> str:
    """The seed's worked answer, as the exam's student wrote it (mistakes and all), shipped
    with the presets byte for byte."""
    return (ROOT / "examples" / "seed-answer.txt").read_text()


def statuses(report):
    return {(i.symbol, i.index): i.status for i in report.items}


def test_the_seed_document_as_it_is_gives_the_same_marks_as_its_json_sheet():
    reading = read_text(seed_document(), preset("seed"))
    sheet = read_answers((ROOT / "examples" / "seed-answers.json").read_bytes())
    assert set(reading.sheet.answers) == set(sheet.answers)
    for name, value in sheet.answers.items():
        np.testing.assert_array_equal(reading.sheet.answers[name], value, err_msg=name)
    report = mark(reading.sheet)
    assert report.summary() == {"graded": 43, "correct": 29, "carried": 1, "wrong": 13}
    assert reading.headline() == "Read 43 numbers, for 9 quantities, from the text"
    assert next(i for i in report.items if i.status == "carried").symbol == "h"
    assert statuses(report) == statuses(mark(sheet))
    # what it left out: the problem's own numbers, each named
    assert {why for _, _, why in reading.skipped} == {
        f"{s} is part of the problem" for s in ("x", "o*", "v", "w", "η")
    }


def row(a) -> str:
    return ", ".join(f"{v:.6f}" for v in np.ravel(a))


def latex(m) -> str:
    return " \\\\ ".join(" & ".join(f"{v:.6f}" for v in r) for r in np.atleast_2d(m))


def bmatrix(m, kind="bmatrix") -> str:
    return rf"\begin{{{kind}}} {latex(m)} \end{{{kind}}}"


DW_ROWS = f"[{row(DW[0])}; {row(DW[1])}]"
SPELLINGS = {  # text: the symbol it answers
    f"u = [{row(U)}]": "u",  # plain text
    f"The pre-activations are $u = [{row(U)}]^T$.": "u",  # Markdown, inline
    rf"$$\vec{{h}} = {bmatrix(H[:, None], 'pmatrix')}$$": "h",
    r"\[ z = \left[ " + row(Z).replace(", ", r" \ ") + r" \right]^T \]": "z",
    rf"$$o = g(z) = \frac{{e^{{z_k}}}}{{\sum e^{{z}}}} = [{row(O)}]$$": "o",
    rf"$$\therefore \frac{{\partial L}}{{\partial z}} = \vec{{o}} - \vec{{o}}^* = [{row(DZ)}]$$": (
        "dL/dz"
    ),
    rf"$$\frac{{\partial \mathcal{{L}}}}{{\partial w}} = {bmatrix(DW)}$$": "dL/dw",
    f"dL/dw = {DW_ROWS}": "dL/dw",
    (
        r"\begin{align} w_{\text{new}} &= w - \eta \frac{dL}{dw} \\ &= "
        + bmatrix(W - 0.1 * DW)
        + r" \end{align}"
    ): "w_new",
    rf"$$\mathcal{{L}} = -\ln o_1 = {-np.log(O[0]):.6f}$$": "L",
    rf"$\mathcal{{L}}_k = [{-np.log(O[0]):.6f}, 0]$": "L_k",
}


@pytest.mark.parametrize(("text", "symbol"), SPELLINGS.items())
def test_a_spelling_is_read_and_marked_right(text, symbol):
    reading = read_text(text, preset("seed"))
    assert [r.symbol for r in reading.read] == [symbol], reading
    report = mark(reading.sheet)
    assert report.items and {i.status for i in report.items} == {"correct"}, report.items


def test_a_chain_goes_on_over_lines_that_begin_with_equals():
    values = json.dumps(np.outer(np.ones(4), X).tolist())
    text = r"$$\frac{\partial L}{\partial v} = \delta x^T$$" + f"\n$$= {values}$$"
    reading = read_text(text, preset("seed"))
    assert [r.symbol for r in reading.read] == ["dL/dv"]
    np.testing.assert_array_equal(reading.sheet.answers["dL/dv"], np.outer(np.ones(4), X))


def test_one_element_at_a_time():
    reading = read_text("u_1 = 2\nu_2 = -1.5\n$v_{21}$ = 9\n$u_{3} = 4.70$", preset("seed"))
    u = reading.sheet.answers["u"]
    np.testing.assert_array_equal(u, [2.0, -1.5, 4.7, np.nan])
    assert statuses(mark(reading.sheet)) == {("u", (k,)): "correct" for k in (1, 2, 3)}
    assert reading.sheet.decimals["u"][2] == 2  # 4.70, as written
    assert reading.headline() == "Read 3 numbers, for 1 quantity, from the text"
    assert read_text("L = 0.3", preset("seed")).headline() == (
        "Read 1 number, for 1 quantity, from the text"
    )


def test_what_cannot_be_taken_is_said_and_the_rest_is_marked():
    text = "u = [1, 2, 3]\nq = 4\nh = [2, -0.78, 4.7, 0.2]\nh = [1, 1, 1, 1]\nf(u) = e^u"
    reading = read_text(text, preset("seed"))
    assert [(line, why) for line, _, why in reading.skipped] == [
        (1, "3 numbers in 3; u is 4"),
        (2, "not a quantity of this network"),
        (4, "h was read already (line 3); this one is left out"),
    ]
    report = mark(reading.sheet, tolerance=Tolerance(min_decimals=2))
    assert statuses(report) == {("h", (k,)): "correct" for k in (1, 2, 3, 4)}


def test_a_text_that_is_not_text_is_refused_on_the_command_line(tmp_path):
    bad = tmp_path / "answer.tex"
    bad.write_bytes(b"\xff\xfe\x00u = 1")
    run = subprocess.run(
        [sys.executable, "-m", "nnviz", "check", str(bad)], capture_output=True, text=True
    )
    assert run.returncode == 2 and run.stderr.strip().endswith("the file is not UTF-8 text")
    assert "Traceback" not in run.stderr


def test_the_command_line_says_what_it_read_before_the_marks(tmp_path):
    path = tmp_path / "answer.md"
    path.write_text(f"# Homework\n\n$u = [{row(U)}]$ and $L = 0.35$\n\nx = [1, 2, 3]\n")
    run = subprocess.run(
        [sys.executable, "-m", "nnviz", "check", str(path)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "Read 5 numbers, for 2 quantities, from the text:"
    assert lines[1].startswith("  line 3    u = [2.000000, -1.500000")
    assert lines[2] == "  line 3    L = 0.35"
    assert lines[3:5] == ["Skipped:", "  line 5    x = [1, 2, 3]: x is part of the problem"]
    assert "5 answers: 4 correct, 0 carried forward, 1 wrong" in lines
    as_json = subprocess.run(
        [sys.executable, "-m", "nnviz", "check", str(path), "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert json.loads(as_json.stdout)["summary"]["graded"] == 5
    assert as_json.stderr.startswith("Read 5 numbers, for 2 quantities, from the text:")


def test_a_sheet_without_a_problem_is_marked_against_the_one_given(tmp_path):
    tutorial = tmp_path / "tutorial.json"
    tutorial.write_text(preset("tutorial").to_json())
    sheet = tmp_path / "sheet.json"
    sheet.write_text('{"answers": {"u": [0.3775, 0.3925]}}')
    run = subprocess.run(
        [sys.executable, "-m", "nnviz", "check", str(sheet), "--problem", str(tutorial)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert "2 answers: 2 correct" in run.stdout


def test_a_deeper_networks_generic_names():
    from nnviz.core.functions import Activation
    from nnviz.core.networks import random_problem

    deep = random_problem(
        [2, 3, 3, 2], [Activation("tanh")] * 2 + [Activation("sigmoid")], "squared_error", False, 4
    )
    text = "u1 = [1, 2, 3]\n$$u_2 = [0.5, 0.5, 0.5]$$\n$$W_{1}^{new} = [1, 2; 3, 4; 5, 6]$$"
    reading = read_text(text, deep)
    assert [r.symbol for r in reading.read] == ["u1", "u2", "W1_new"]
    np.testing.assert_array_equal(reading.sheet.answers["W1_new"], [[1, 2], [3, 4], [5, 6]])
