"""The "Check answers" tab through AppTest: the seed demo, typed answers, uploads."""

from pathlib import Path

import pytest
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
        "edited_rows": {0: {"1": 2.0, "2": -1.5004, "3": 4.0}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    got = marks(at)
    assert [got[f"u_{j}"][0] for j in (1, 2, 3)] == ["correct", "correct", "wrong"]
    at.number_input(key="atol").set_value(0.0001).run()
    at.number_input(key="rtol").set_value(0.0).run()
    assert marks(at)["u_2"][0] == "wrong"
