"""The "Check answers" tab through AppTest: the seed demo, typed answers, uploads."""

from pathlib import Path

import pytest
from fragments import edit_cell
from shown import shown
from streamlit.testing.v1 import AppTest

from nnviz.ui.check import answer_key

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def at():
    app = AppTest.from_file(APP, default_timeout=30).run()
    app.session_state["tab"] = "Check answers"  # only the open tab runs
    app.run()
    assert not app.exception
    return app


def summary(at):
    return next(s.value for s in at.subheader if "answers:" in s.value)


def marks(at):
    """Every marking table's rows: {answer: (mark, working)}."""
    out = {}
    for frame in at.dataframe:
        df = frame.value
        if "mark" in getattr(df, "columns", []):
            for _, row in df.iterrows():
                out[row["answer"]] = (row["mark"].split()[-1], row["working"])
    return out


def test_the_seed_demo_loads_with_one_click_and_is_marked(at):
    assert summary(at) == "0 answers: 0 correct, 0 carried forward, 0 wrong"
    at.button(key="check_demo").click().run()
    assert summary(at) == "43 answers: 29 correct, 1 carried forward, 13 wrong"
    got = marks(at)
    assert got["h_3"] == ("carried", "consistent with your u_3 = 1.75")
    assert got["u_2"] == (
        "wrong",
        "u_2 = v_21 x_1 + v_22 x_2 + v_23 x_3 = (0.5)(1.0) + (-1.0)(1.5) + (1.0)(-0.5) = -1.5",
    )
    assert got["u_1"][0] == "correct"


def test_a_typed_answer_is_marked_and_a_tolerance_moves_it(at):
    at.session_state[answer_key("u", 0, at.session_state["lecture"].problem)] = {
        "edited_rows": {0: {"h1": "2", "h2": "-1.5004", "h3": "4"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    got = marks(at)
    assert [got[f"u_{j}"][0] for j in (1, 2, 3)] == ["correct", "correct", "wrong"]
    at.number_input(key="atol_r0").set_value(0.0001).run()
    at.number_input(key="rtol_r0").set_value(0.0).run()
    assert marks(at)["u_2"][0] == "wrong"


def type_seed_u(at):
    """The seed's true u = v x = [2, -1.5, 4.7, 0.2], typed into the u table."""
    at.session_state[answer_key("u", 0, at.session_state["lecture"].problem)] = {
        "edited_rows": {0: {"h1": "2", "h2": "-1.5", "h3": "4.7", "h4": "0.2"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception


def marked_against(at) -> str:
    lines = (shown(m.value) for m in at.markdown)
    return next(line for line in lines if line.startswith("Marking against:"))


def test_homework_is_marked_against_the_problem_as_set_not_the_iteration_on_screen(at):
    at.session_state["tab"] = "Lecture"
    at.run()
    for _ in range(11):  # into iteration 2, whose weights are the update's
        at.button(key="next").click().run()
    assert at.session_state["lecture"].number == 2
    at.session_state["tab"] = "Check answers"
    at.run()
    type_seed_u(at)
    assert [marks(at)[f"u_{j}"][0] for j in (1, 2, 3, 4)] == ["correct"] * 4
    assert marked_against(at) == (
        "Marking against: the problem as set (Problem 1: 3-4-2, ELU hidden layer, softmax "
        "output), iteration 1."
    )
    at.toggle(key="mark_on_screen").set_value(True).run()  # the weights on screen instead
    assert marked_against(at) == "Marking against: iteration 2 on screen, with its weights."
    # v's third row did not move (dL/dv_3i = 0), so u_3 is still 4.7; the rest moved
    assert [marks(at)[f"u_{j}"][0] for j in (1, 2, 3, 4)] == ["wrong", "wrong", "correct", "wrong"]


def test_a_weight_edit_leaves_the_marking_on_the_problem_as_set(at):
    at.session_state["tab"] = "Lecture"
    at.run()
    edit_cell(at, "weights0", 1, "x1", 2.0)  # v_21 = 2: u_2 on screen is 0.0
    assert at.session_state["lecture"].problem.weights[0][1, 0] == 2.0
    at.session_state["tab"] = "Check answers"
    at.run()
    type_seed_u(at)
    assert marks(at)["u_2"][0] == "correct"
    assert at.toggle(key="mark_on_screen")  # the switch is there, off


def test_a_sheet_loaded_is_marked_against_its_own_problem(at):
    at.button(key="check_demo").click().run()
    assert marked_against(at) == (
        "Marking against: the sheet's own problem (Problem 1: 3-4-2, ELU hidden layer, softmax "
        "output)."
    )
