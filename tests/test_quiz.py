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
        "edited_rows": {0: {"h1": "2", "h2": "-0.75"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at.button(key="quiz_check").click().run()
    assert not at.exception
    shown = [m.value for m in at.markdown]
    # in words as well as marks: an emoji renders as an empty box where no emoji font is
    assert "✓ right, u_1: you said 2, it is 2.0000" in shown
    assert "✗ wrong, u_2: you said -0.75, it is -1.5000" in shown  # v_21 x_1 + ... = -1.5
    assert "Quiz score: 1 of 2 right" in [c.value for c in at.caption]
    assert any("= -1.5" in e.value for e in at.latex)  # revealed once answered
    at.button(key="next").click().run()  # h = ELU(u): a new question, the score kept
    assert "Quiz score: 1 of 2 right" in [c.value for c in at.caption]
    assert len(at.latex) == 1


def loss_line(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("Iteration "))


def test_the_quiz_gives_nothing_away_beside_reset_or_in_the_downloads():
    at = AppTest.from_file(APP, default_timeout=30).run()

    def downloads():
        return {b.proto.label for b in at.get("download_button")}

    assert {"Markdown", "LaTeX"} <= downloads()  # the worked solutions, before the quiz
    at.toggle(key="quiz_mode").set_value(True).run()
    assert "PNG" in downloads() and not {"Markdown", "LaTeX"} & downloads()
    assert "The worked solution is hidden while the quiz is on." in [c.value for c in at.caption]
    for _ in range(5):  # step 6: predict L
        at.button(key="next").click().run()
    assert at.subheader[0].value == "Step 6 of 11: The loss L"
    assert loss_line(at) == "Iteration 1"  # not "· loss L = 0.3095"
    at.button(key="quiz_check").click().run()  # nothing typed: the values are shown
    assert loss_line(at) == "Iteration 1 · loss L = 0.3095"
    for _ in range(6):  # into iteration 2: its L is asked again at its step 6
        at.button(key="next").click().run()
    assert at.session_state["lecture"].number == 2 and loss_line(at) == "Iteration 2"
    at.toggle(key="quiz_mode").set_value(False).run()
    assert loss_line(at).startswith("Iteration 2 · loss L = ")
