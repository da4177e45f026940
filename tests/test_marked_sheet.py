"""The examiner's sheets: typed answers saved as a sheet that reads back the same, a blank sheet
for any network, and the marked sheet to print, in Markdown and in LaTeX. The marks they carry
are the seed answer's: 29 correct, 1 carried forward (h_3), 13 wrong."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from latex import compile_latex
from test_cli import nnviz
from test_conventions import X, seed_by_hand

from nnviz.core.functions import Activation
from nnviz.core.networks import random_problem
from nnviz.core.problem import Problem, ProblemError, dumps, preset
from nnviz.teaching import worksheet
from nnviz.teaching.grading import GIVEN, Tolerance, mark, quantities, read_answers, sheet_dict

SEED_SHEET = Path(__file__).resolve().parent.parent / "examples" / "seed-answers.json"


def test_a_sheet_written_out_reads_back_with_the_same_answers_decimals_and_marks():
    text = json.dumps(
        {
            "student": "Ada",
            "conventions": {"delta": "-dL/du"},
            "tolerance": {"mode": "digits", "min_decimals": 2},
            "answers": {"h": [2, -0.78, 4.7, 0.2], "delta_z": [0.27, -0.27], "L": 0.31},
        }
    ).replace("4.7,", "4.70,")
    sheet = read_answers(text)
    written = dumps(sheet_dict(sheet))
    assert '"h": [2, -0.78, 4.70, 0.2]' in written  # 4.70 keeps its zero: digits read it
    assert '"delta_z": [0.27, -0.27]' in written  # δ as written, with its sign
    back = read_answers(written)
    assert back.student == "Ada" and back.delta == "-dL/du" and back.tolerance == sheet.tolerance
    for name, values in sheet.answers.items():
        np.testing.assert_array_equal(back.answers[name], values)
        np.testing.assert_array_equal(back.decimals[name], sheet.decimals[name])
    assert mark(back).to_dict() == mark(sheet).to_dict()


def test_the_seed_answer_written_out_is_marked_as_before():
    sheet = read_answers(SEED_SHEET.read_bytes())
    back = read_answers(dumps(sheet_dict(sheet)))
    assert mark(back).summary() == {"graded": 43, "correct": 29, "carried": 1, "wrong": 13}


@settings(max_examples=20, deadline=None)
@given(
    layers=st.lists(st.integers(1, 4), min_size=3, max_size=5),
    biases=st.booleans(),
    activation=st.sampled_from(["relu", "sigmoid", "tanh", "elu"]),
)
def test_a_blank_sheet_of_any_network_asks_for_every_answer_and_marks_none(
    layers, biases, activation
):
    problem = random_problem(
        layers,
        [Activation(activation)] * (len(layers) - 2) + [Activation("sigmoid")],
        "binary_cross_entropy",
        biases,
        seed=1,
    )
    blank = sheet_dict(read_answers(json.dumps({"answers": {}}), problem), every=True)
    asked = [q for q in quantities(problem) if q.kind not in GIVEN]
    assert list(blank["answers"]) == [q.name for q in asked]
    for q in asked:
        assert np.shape(blank["answers"][q.name]) == q.shape
        assert set(np.ravel(np.array(blank["answers"][q.name], dtype=object))) == {None}
    back = read_answers(dumps(blank))
    assert Problem.from_dict(blank["problem"]).to_json() == problem.to_json()
    assert mark(back).summary()["graded"] == 0


def marked():
    sheet = read_answers(SEED_SHEET.read_bytes())
    return sheet, mark(sheet)


def test_the_marked_sheet_in_markdown_gives_the_score_first_and_each_wrong_answers_working():
    text = worksheet.marked_markdown(*marked())
    lines = text.splitlines()
    assert lines[2] == "**43 answers: 29 correct, 1 carried forward, 13 wrong**"
    assert "- `u_1 = 2`: **✓ correct**" in lines
    assert (
        "- `h_3 = 1.75`: **↻ carried**, expected `4.7000`; from your own answers it is "
        "`1.7500` (`consistent with your u_3 = 1.75`)"
    ) in lines
    at = lines.index("- `h_2 = -0.75`: **✗ wrong**, expected `-0.7769`")
    assert lines[at + 1 : at + 5] == [
        "",
        "  $$",
        r"  h_{2} = \mathrm{ELU}(u_{2}) = \mathrm{ELU}(-1.5) = -0.7769",
        "  $$",
    ]
    assert sum(line.startswith("- `") for line in lines) == 43
    assert text.count("  $$\n") == 2 * 13
    given = json.loads(SEED_SHEET.read_bytes())["answers"]["dL/dv"][1][2]
    hand = seed_by_hand()
    expected = hand["dh"][1] * hand["slope"][1] * X[2]  # dL/du_2 x_3
    assert f"- `dL/dv_23 (h2 ← x3) = {given}`: **✗ wrong**, expected `{expected:.4f}`" in lines


def test_the_marked_sheet_in_latex_has_every_mark(pdflatex, tmp_path):
    text = worksheet.marked_latex(*marked())
    assert text.count(r"\item ") == 43
    assert text.count(r"\textcolor{red}{$\times$ wrong}") == 13
    assert text.count(r"\textcolor{blue}{$\circlearrowright$ carried}") == 1
    assert r"\[ h_{2} = \mathrm{ELU}(u_{2}) = \mathrm{ELU}(-1.5) = -0.7769 \]" in text
    compile_latex(pdflatex, tmp_path, text)


def test_a_hostile_student_name_and_title_compile_as_text(pdflatex, tmp_path):
    sheet = read_answers(
        json.dumps(
            {
                "student": r"\input{/etc/passwd} $x$ 50% & #1 ~ 中",
                "problem": preset("seed").to_dict() | {"title": r"\write18{rm -rf} _^{}"},
                "answers": {"u": [2, -1.5, 4.7, 0.2]},
            }
        )
    )
    text = worksheet.marked_latex(sheet, mark(sheet))
    assert r"\input{" not in text and r"\write18{" not in text
    compile_latex(pdflatex, tmp_path, text)
    md = worksheet.marked_markdown(sheet, mark(sheet))
    assert "$x$" not in md and "\\$x\\$" in md


def test_check_writes_the_marked_sheet_to_print(tmp_path):
    run = nnviz("check", str(SEED_SHEET), "--format", "markdown")
    assert run.returncode == 0 and run.stderr == ""
    assert run.stdout == worksheet.marked_markdown(*marked())
    run = nnviz("check", str(SEED_SHEET), "--format", "latex", "--tolerance", "digits")
    sheet = read_answers(SEED_SHEET.read_bytes())
    digits = mark(sheet, tolerance=Tolerance(min_decimals=0))
    assert rf"\noindent\textbf{{{digits.headline()}}}\\" in run.stdout.splitlines()
    assert run.stdout == worksheet.marked_latex(replace(sheet, tolerance=digits.tolerance), digits)


@pytest.mark.parametrize(
    "file, says",
    [
        ("seed-answers.json", "an answer sheet, not a problem: mark it in Check answers"),
        ("solution", "a solution, not a problem: open the problem it was solved from"),
    ],
)
def test_an_answer_sheet_or_a_solution_opened_as_a_problem_says_what_it_is(tmp_path, file, says):
    path = tmp_path / "file.json"
    if file == "solution":
        path.write_text(nnviz("solve", "--format", "json").stdout)
    else:
        path.write_bytes(SEED_SHEET.read_bytes())
    with pytest.raises(ProblemError, match=f"^this is {says}"):
        Problem.from_json(path.read_bytes())
    run = nnviz("solve", str(path))
    assert run.returncode == 2 and run.stderr.startswith(f"nnviz: {path}: this is {says}")
