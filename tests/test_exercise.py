"""The exercise link, for homework: the lecture shows each step's formula and no number worked
out; the Train and Gradient check tabs and the worked-solution downloads are gone; Check answers
gives marks without the expected values or the working."""

import json
from pathlib import Path

import pytest
from shown import shown
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest

from nnviz.core.engine import iterate
from nnviz.core.problem import preset
from nnviz.files.share import MODE, from_query, query
from nnviz.teaching.lesson import steps
from nnviz.ui.check import answer_key

APP = str(Path(__file__).resolve().parent.parent / "app.py")
FORMULAS = 11  # the seed's steps


def opened(params: dict):
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    return at


@pytest.fixture
def homework():
    return opened(query(preset("seed"), 0, 0, exercise=True))


def figure(at) -> dict:
    return {t["name"]: t for t in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]}


def test_an_exercise_link_says_so_and_reads_back():
    params = query(preset("seed"), 3, exercise=True)
    assert params[MODE] == "exercise"
    link = from_query(params)
    assert link.exercise and link.step == 3 and link.notice is None
    assert not from_query(query(preset("seed"), 3)).exercise


def test_a_damaged_mode_still_opens_as_an_exercise():
    link = from_query(query(preset("seed"), 0) | {MODE: "solutions"})
    assert link.exercise
    assert link.notice == (
        'The share link\'s mode is "solutions"; expected "exercise", so it opens as an exercise, '
        "with the solutions hidden."
    )


def test_the_lecture_shows_formulas_and_works_nothing_out(homework):
    at = homework
    assert [t.label for t in at.tabs] == ["Lecture", "Check answers"]
    assert "quiz_mode" not in [t.key for t in at.toggle]  # its answers would show the values
    assert "colour_mode" not in [r.key for r in at.radio]  # gradients' colours would too
    labels = {b.proto.label for b in at.get("download_button")}
    assert not {"Markdown", "LaTeX"} & labels  # the worked solutions
    lesson = steps(iterate(preset("seed")))
    for k in range(1, FORMULAS):
        at.button(key="next").click().run()
        assert not at.exception
        latex = [e.value.strip("$\n") for e in at.latex]
        assert latex == [lesson[k].equations[0]]  # the general formula, and nothing worked out
        neurons = figure(at)["neurons"]["text"]
        assert neurons[3:] == ["h1", "h2", "h3", "h4", "o1", "o2"]  # no value shown
        hover = figure(at)["edge values"]["hovertext"]
        assert all("∂" not in h for h in hover)  # no gradient in the hover
        assert [m.value for m in at.markdown if m.value.startswith("Iteration")] == ["Iteration 1"]
    assert "The worked solution is hidden in an exercise." in [c.value for c in at.caption]


def test_check_answers_gives_the_marks_without_the_solutions(homework):
    at = homework
    at.session_state["tab"] = "Check answers"
    at.run()
    at.session_state[answer_key("u", 0, preset("seed"))] = {
        "edited_rows": {0: {"h1": "2", "h2": "-0.75", "h3": "1.75"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.session_state[answer_key("h", 0, preset("seed"))] = {
        "edited_rows": {0: {"h3": "1.75"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception
    summary = next(s.value for s in at.subheader if "answers:" in s.value)
    assert summary == "4 answers: 1 correct, 1 carried forward, 2 wrong"
    tables = [f.value for f in at.dataframe if "mark" in getattr(f.value, "columns", [])]
    assert [list(t.columns) for t in tables] == [["answer", "given", "mark", "working"]] * 2
    u, h = tables
    assert list(u["working"]) == ["", "", ""]  # no working for a wrong one
    assert list(h["working"]) == ["consistent with your u_3 = 1.75"]
    assert not at.latex  # no formula with the answer in it
    assert "-1.5" not in " ".join(shown(m.value) for m in at.markdown)
    labels = [b.proto.label for b in at.get("download_button")]
    assert {"These answers", "A blank sheet"} <= set(labels)
    assert not {"Marked (Markdown)", "Marked (LaTeX)"} & set(labels)  # they hold the working


def test_share_link_and_exercise_link_in_the_sidebar():
    at = opened({})
    at.button(key="share_exercise").click().run()
    assert at.query_params[MODE] == "exercise"
    caption = next(c.value for c in at.caption if "exercise link" in c.value)
    assert caption.startswith("The address bar now holds an exercise link")
    assert [t.label for t in at.tabs] == ["Lecture", "Train", "Gradient check", "Check answers"]


def double_click(at, key: str) -> None:
    """Two clicks that leave the page before its rerun: the second one arrives as the first."""
    states = WidgetStates()
    states.CopyFrom(at._tree.get_widget_states())
    state = states.widgets.add()
    state.id = at.button(key=key).proto.id
    state.trigger_value = True
    at._run(states)
    at._run(states)


def test_an_exercise_ends_at_the_update_and_keeps_its_link(homework):
    """Past the update the weights on screen would be v_new and w_new: the answer."""
    at = homework
    link = dict(at.query_params)
    for _ in range(FORMULAS - 2):
        at.button(key="next").click().run()
    double_click(at, "next")  # into the update; the second click, past it, is not taken
    assert at.session_state["lecture"].step == FORMULAS - 1
    assert at.button(key="next").disabled
    lecture = at.session_state["lecture"]
    assert lecture.number == 1 and lecture.step == FORMULAS - 1
    assert lecture.problem.to_json() == preset("seed").to_json()
    assert dict(at.query_params) == link  # a reload opens the homework again


def test_the_seed_demo_is_not_offered_in_an_exercise(homework):
    homework.session_state["tab"] = "Check answers"
    homework.run()
    assert "check_demo" not in [b.key for b in homework.button]
