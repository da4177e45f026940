"""Strict numbers in every grid (the weights, the answers, the quiz): 1e7, -1.5E-3 and a decimal
comma are read as written; anything else is refused by the cell's name, never misread."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from fragments import edit_cell
from hypothesis import given
from hypothesis import strategies as st
from shown import shown
from streamlit.testing.v1 import AppTest

from nnviz.core.notation import read_number
from nnviz.core.problem import preset
from nnviz.teaching.grading import read_answers
from nnviz.ui.check import answer_key
from nnviz.ui.grid import as_written
from nnviz.ui.quiz import quiz_key

APP = str(Path(__file__).resolve().parent.parent / "app.py")
EXPECTED = "expected a number such as 0.25, -1.5e-3 or 0,25"


@pytest.mark.parametrize(
    "typed, value",
    [
        ("1e7", 1e7),
        ("-1.5E-3", -0.0015),
        ("1,5", 1.5),
        ("0,3095", 0.3095),
        ("0,500", 0.5),  # no thousands start with 0
        ("1,5e-3", 0.0015),
        ("−2", -2.0),  # the board's minus, as the app writes it
        (" +3 ", 3.0),
        (".5", 0.5),
        ("5.", 5.0),
    ],
)
def test_numbers_as_students_type_them(typed, value):
    assert read_number(typed) == value


@pytest.mark.parametrize(
    "typed, why",
    [
        ("1,500", 'is "1,500", which could be 1.500 or 1500; write it with a decimal point'),
        ("-2,250", 'is "-2,250", which could be -2.250 or -2250; write it with a decimal point'),
        ("1.234,5", f'is "1.234,5"; {EXPECTED}'),
        ("1,2,3", f'is "1,2,3"; {EXPECTED}'),
        ("1 000", f'is "1 000"; {EXPECTED}'),
        ("1_000", f'is "1_000"; {EXPECTED}'),
        ("nan", f'is "nan"; {EXPECTED}'),
        ("inf", f'is "inf"; {EXPECTED}'),
        ("0x10", f'is "0x10"; {EXPECTED}'),
        ("١٢", f'is "١٢"; {EXPECTED}'),  # Arabic-Indic digits, which float() takes
        ("", f"is empty; {EXPECTED}"),
        ("1e400", 'is "1e400", too large for any number'),
        ("9" * 40, f'is "{"9" * 20}…"; {EXPECTED}'),
    ],
)
def test_anything_else_is_refused_saying_why(typed, why):
    if typed == "9" * 40:  # 40 nines are a number: a long non-number is clipped in the message
        typed = "9" * 39 + "x"
        why = f'is "{"9" * 20}…"; {EXPECTED}'
    with pytest.raises(ValueError) as e:
        read_number(typed)
    assert str(e.value) == why


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_double_written_in_full_reads_back_exactly(x):
    assert read_number(repr(x)) == x
    assert read_number(repr(x).replace("-", "−")) == x
    assert read_number(as_written([x])[0, 0]) == x  # as a grid of answers shows it


@given(st.text(alphabet="0123456789.,-+eE −", max_size=12))
def test_a_number_is_read_as_written_or_refused_never_misread(text):
    try:
        value = read_number(text)
    except ValueError:
        return
    plain = text.strip().replace("−", "-").replace(",", ".")
    assert math.isfinite(value) and value == float(plain)


def test_answers_are_shown_as_written():
    cells = as_written(np.array([[0.8, np.nan, 2.0, 1e-05, 0.733778]]), [[2, 0, 0, 5, 6]])
    assert cells.tolist() == [["0.80", "", "2", "1e-05", "0.733778"]]


# --- the weight grids ---------------------------------------------------------------------------


@pytest.fixture
def at():
    app = AppTest.from_file(APP, default_timeout=30).run()
    assert not app.exception
    return app


def errors(at) -> list[str]:
    return [shown(e.value) for e in at.error]


@pytest.mark.parametrize(
    "typed, value", [("-1.5E-3", -0.0015), ("1,5", 1.5), ("0,3095", 0.3095), ("−2", -2.0)]
)
def test_a_weight_is_read_as_typed(at, typed, value):
    edit_cell(at, "weights0", 1, "x1", typed)
    assert not errors(at)
    assert at.session_state["lecture"].problem.weights[0][1, 0] == value


def test_1e7_is_ten_million_and_so_out_of_range_not_17(at):
    edit_cell(at, "weights0", 1, "x1", "1e7")
    assert errors(at) == [
        "v_21 (row h2, column x1) = 1e+07 is out of range; expected at most 1e+06 in size. "
        "The last good values are still in use."
    ]
    assert at.session_state["lecture"].problem.weights[0][1, 0] == 0.5


@pytest.mark.parametrize(
    "name, column, typed, message",
    [
        (
            "weights0",
            "x1",
            "1,500",
            'v_21 (row h2, column x1) is "1,500", which could be 1.500 or 1500; write it with '
            "a decimal point",
        ),
        ("x", "x2", "1.5.1", f'x_2 is "1.5.1"; {EXPECTED}'),
        ("learning_rate", "η", "0,1,0", f'η is "0,1,0"; {EXPECTED}'),
    ],
)
def test_a_cell_that_is_no_number_is_named_and_nothing_changes(at, name, column, typed, message):
    before = at.session_state["lecture"].problem
    edit_cell(at, name, 1 if name == "weights0" else 0, column, typed)
    assert errors(at) == [f"{message}. The last good values are still in use."]
    assert at.session_state["lecture"].problem.to_json() == before.to_json()


def test_a_cell_typed_back_as_shown_keeps_every_digit(at):
    for _ in range(11):  # iteration 2: the weights have many digits, the grid shows four
        at.button(key="next").click().run()
    v21 = at.session_state["lecture"].problem.weights[0][1, 0]
    assert f"{v21:.4f}" != repr(v21)
    edit_cell(at, "weights0", 1, "x1", f"{v21:.4f}")
    assert at.session_state["lecture"].problem.weights[0][1, 0] == v21


# --- the answers and the quiz -------------------------------------------------------------------


def check_tab(at):
    at.session_state["tab"] = "Check answers"
    at.run()
    assert not at.exception
    return at


def type_answers(at, name, cells: dict):
    at.session_state[answer_key(name, at.session_state["marking"].rev, preset("seed"))] = {
        "edited_rows": {0: cells},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception


def marks(at) -> dict[str, str]:
    out = {}
    for frame in at.dataframe:
        df = frame.value
        if "mark" in getattr(df, "columns", []):
            out.update(zip(df["answer"], (m.split()[-1] for m in df["mark"])))
    return out


def summary(at):
    return next(s.value for s in at.subheader if "answers:" in s.value)


def test_typed_answers_with_decimal_commas_are_marked_and_a_bad_one_is_named(at):
    check_tab(at)
    type_answers(at, "o", {"o1": "0,7338", "o2": "0,266222"})
    assert marks(at) == {"o_1": "correct", "o_2": "correct"}
    type_answers(at, "u", {"h1": "2", "h2": "1,500", "h3": "4.7"})
    assert errors(at) == [
        'u_2 is "1,500", which could be 1.500 or 1500; write it with a decimal point. It '
        "is left out of the marking until it is a number."
    ]
    assert summary(at) == "4 answers: 4 correct, 0 carried forward, 0 wrong"  # u_2 left blank


def test_a_weight_shaped_answer_is_named_by_its_neurons(at):
    check_tab(at)
    type_answers(at, "dL/dv", {"← x1": "-0.1864", "← x3": "abc"})
    assert marks(at) == {"dL/dv_11 (h1 ← x1)": "correct"}
    assert errors(at) == [
        f'dL/dv_13 (h1 ← x3) is "abc"; {EXPECTED}. It is left out of the marking until it is a '
        "number."
    ]
    grid = next(g for g in at.data_editor if g.key.startswith("answer_dL/dv_"))
    assert list(grid.value.index) == ["h1", "h2", "h3", "h4"]
    assert list(grid.value.columns) == ["← x1", "← x2", "← x3"]
    assert (grid.value.iloc[1:] == "").all().all()  # blanks as blanks, not "None"


def test_digits_are_read_from_what_was_typed(at):
    """h_2 = ELU(-1.5) = -0.77687: -0.78 is right to its 2 decimals, not within 1e-3."""
    check_tab(at)
    type_answers(at, "h", {"h2": "-0,78", "h3": "4.70"})
    assert marks(at) == {"h_2": "wrong", "h_3": "correct"}
    at.radio(key="tolerance_r0").set_value(True).run()
    assert marks(at) == {"h_2": "correct", "h_3": "correct"}
    at.number_input(key="decimals_r0").set_value(3).run()
    assert marks(at) == {"h_2": "wrong", "h_3": "correct"}  # too few decimals, unless exact


def test_digits_read_the_boards_minus_and_the_marks_show_what_was_typed(at):
    """h_2 = -0.77687: −1.2 has one decimal, and is wrong; −0.78 is right to its two."""
    check_tab(at)
    at.radio(key="tolerance_r0").set_value(True).run()
    type_answers(at, "h", {"h2": "−1.2", "h4": "0.20"})
    assert marks(at) == {"h_2": "wrong", "h_4": "correct"}
    table = next(f.value for f in at.dataframe if "mark" in getattr(f.value, "columns", []))
    assert list(table["given"]) == ["-1.2", "0.20"]  # 0.20 as written, its zero kept
    type_answers(at, "h", {"h2": "−0.78"})
    assert marks(at) == {"h_2": "correct"}


def test_a_sheet_is_marked_by_its_own_tolerance_and_convention(at):
    """Han & Kamber's δ = -dL/du, to 2 decimals: δ_z = o* - o = [0.27, -0.27]."""
    check_tab(at)
    sheet = read_answers(
        json.dumps(
            {
                "conventions": {"delta": "-dL/du"},
                "tolerance": {"mode": "digits", "min_decimals": 2},
                "answers": {"delta_z": [0.27, -0.27], "o": [0.73, 0.27]},
            }
        )
    )
    at.session_state["marking"].load(sheet, "Loaded mine.json.")
    at.run()
    assert at.radio(key="tolerance_r1").value is True
    assert at.number_input(key="decimals_r1").value == 2
    assert marks(at) == {"o_1": "correct", "o_2": "correct", "delta_z_1": "correct"} | {
        "delta_z_2": "correct"
    }
    at.radio(key="tolerance_r1").set_value(False).run()  # within 1e-3: 0.27 is not 0.2662
    assert marks(at) == {"o_1": "wrong", "o_2": "wrong", "delta_z_1": "carried"} | {
        "delta_z_2": "carried"  # o* - o from the student's own o
    }


def test_a_wrong_answer_shows_its_working_typeset_and_a_carried_one_its_value(at):
    check_tab(at)
    at.button(key="check_demo").click().run()
    latex = [e.value.strip("$\n") for e in at.latex]
    assert r"h_{2} = \mathrm{ELU}(u_{2}) = \mathrm{ELU}(-1.5) = -0.7769" in latex
    assert len(latex) == 13  # every wrong answer of the seed's has its working
    h = next(
        f.value for f in at.dataframe if "h_3" in list(getattr(f.value, "get", dict)("answer", []))
    )
    row = h[h["answer"] == "h_3"].iloc[0]
    assert row["mark"] == "↻ carried" and row["from your answers"] == "1.7500"
    assert row["expected"] == "4.7000" and row["working"] == "consistent with your u_3 = 1.75"
    assert ":red[✗ wrong: h_2 = -0.75]" in [shown(m.value) for m in at.markdown]


def test_the_quiz_reads_what_was_typed_and_names_a_bad_cell(at):
    at.toggle(key="quiz_mode").set_value(True).run()
    at.button(key="next").click().run()  # predict u = v x
    at.session_state[quiz_key("u", at.session_state["lecture"])] = {
        "edited_rows": {0: {"h1": "2,0", "h2": "-1,5", "h3": "4,7x"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert errors(at) == [f'u_3 is "4,7x"; {EXPECTED}. It is not marked.']
    at.button(key="quiz_check").click().run()
    said = [m.value for m in at.markdown]
    assert "✓ right, u_1: you said 2,0, it is 2.0000" in said
    assert "✓ right, u_2: you said -1,5, it is -1.5000" in said
    assert "Quiz score: 2 of 2 right" in [c.value for c in at.caption]
