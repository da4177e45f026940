"""Quiz mode through AppTest: the new values stay hidden until predicted, then are marked."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from nnviz.ui.quiz import quiz_key

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def test_the_quiz_hides_marks_and_reveals():
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.toggle(key="quiz_mode").set_value(True).run()
    at.button(key="next").click().run()  # u = v x
    latex = [e.value for e in at.latex]
    assert len(latex) == 1 and "u_j = \\sum_i v_{ji} x_i" in latex[0]  # the numbers hidden
    lecture = at.session_state["lecture"]
    at.session_state[quiz_key("u", lecture)] = {
        "edited_rows": {0: {"1": 2.0, "2": -0.75}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at.button(key="quiz_check").click().run()
    assert not at.exception
    shown = [m.value for m in at.markdown]
    assert "✅ u_1: you said 2, it is 2.0000" in shown
    assert "❌ u_2: you said -0.75, it is -1.5000" in shown  # v_21 x_1 + ... = -1.5
    assert "Quiz score: 1 of 2 right" in [c.value for c in at.caption]
    assert any("= -1.5" in e.value for e in at.latex)  # revealed once answered
    at.button(key="next").click().run()  # h = ELU(u): a new question, the score kept
    assert "Quiz score: 1 of 2 right" in [c.value for c in at.caption]
    assert len(at.latex) == 1
