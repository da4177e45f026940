"""What a click reruns, through AppTest: the stepper alone for Next within an iteration, the
stepper, the grids and the sidebar's network when the problem changes.

After a fragment's rerun AppTest's page holds only what was rerun (a browser keeps the rest),
so what the page holds after a click is what the click reran.
"""

import json
from pathlib import Path

import numpy as np
import plotly.io
import pytest
from fragments import edit_cell, whole_page
from seed import SEED_V, SEED_W, TITLES
from shown import shown
from streamlit.testing.v1 import AppTest

from nnviz.core.engine import iterate
from nnviz.core.notation import short
from nnviz.core.problem import Problem, preset
from nnviz.plots.network import figure
from nnviz.teaching.lesson import steps
from nnviz.ui import computed

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def at():
    app = AppTest.from_file(APP, default_timeout=30).run()
    assert not app.exception
    return app


def click(at, key):
    at.button(key=key).click().run()
    assert not at.exception
    return at


def grids(at) -> dict[str, np.ndarray]:
    """The weight grids on the page, by key, as the text of their cells."""
    return {g.key: g.value.to_numpy(dtype=str) for g in at.data_editor}


def board(values) -> np.ndarray:
    """The cells a grid of these values shows: four decimals at most, as on the board."""
    return np.vectorize(short)(np.atleast_2d(values)).astype(str)


def test_the_first_page_has_everything(at):
    assert set(grids(at)) == {
        f"edit_{name}_r0" for name in ("weights0", "weights1", "x", "target", "learning_rate")
    }
    assert at.selectbox(key="preset") and at.text_input(key="layers_r0")
    assert at.button(key="share") and at.tabs


def test_next_within_an_iteration_reruns_the_stepper_alone(at):
    for k in range(2, 12):
        click(at, "next")
        assert at.subheader[0].value == f"Step {k} of 11: {TITLES[k - 1]}"
        assert at.get("plotly_chart") and at.latex  # the stepper was drawn again
        assert not at.data_editor  # the grids were not
        assert not at.sidebar.selectbox and not at.sidebar.text_input  # nor the sidebar
        assert not at.tabs  # nor the page around them
    assert at.session_state["lecture"].revs == (0, 0, 0)


def test_previous_within_an_iteration_reruns_the_stepper_alone(at):
    click(at, "next")
    click(at, "prev")
    assert at.subheader[0].value == f"Step 1 of 11: {TITLES[0]}"
    assert not at.data_editor and not at.sidebar.selectbox


def test_a_new_iteration_reruns_the_weight_grids_alone_with_the_new_weights(at):
    for _ in range(11):
        click(at, "next")
    assert at.subheader[0].value == f"Step 1 of 11: {TITLES[0]}"
    updated = iterate(preset("seed")).updated
    shown = grids(at)
    assert set(shown) == {"edit_weights0_r1", "edit_weights1_r1"}  # x, o*, η: as they were
    np.testing.assert_array_equal(shown["edit_weights0_r1"], board(updated.weights[0]))
    np.testing.assert_array_equal(shown["edit_weights1_r1"], board(updated.weights[1]))
    assert not np.array_equal(shown["edit_weights0_r1"], board(SEED_V))
    assert not at.sidebar.text_input and not at.tabs  # the network's boxes, the page: the same

    click(at, "prev")  # back across the update: the grids show the weights before it
    assert set(grids(at)) == {"edit_weights0_r2", "edit_weights1_r2"}
    np.testing.assert_array_equal(grids(at)["edit_weights0_r2"], board(SEED_V))
    np.testing.assert_array_equal(grids(at)["edit_weights1_r2"], board(SEED_W))


def test_a_move_to_an_iteration_with_other_inputs_renews_their_grids(at):
    for _ in range(11):
        click(at, "next")
    edit_cell(at, "x", 0, "x1", 2.0)  # iteration 2's x alone
    click(at, "prev")
    assert at.session_state["lecture"].problem.x[0] == 1.0
    assert grids(at)["edit_x_r1"][0, 0] == "1.0"  # a new grid, with iteration 1's x
    assert not at.sidebar.text_input  # the same network: its boxes were not sent


def test_a_move_to_an_iteration_with_another_activation_renews_the_network_boxes(at):
    for _ in range(11):
        click(at, "next")
    whole_page(at)
    at.selectbox(key="act0_r0").set_value("sigmoid").run()  # iteration 2's hidden layer alone
    assert not at.exception
    click(at, "prev")  # iteration 1, still ELU
    assert at.sidebar.selectbox(key="act0_r2").value == "elu"


def test_a_new_iteration_clears_a_bad_cell_with_its_message(at):
    edit_cell(at, "x", 0, "x2", "abc")
    assert at.error
    for _ in range(11):
        click(at, "next")
    assert not at.error and at.session_state["lecture"].edit_error is None
    assert "edit_x_r1" in grids(at)  # a new x grid, without the bad cell
    assert (grids(at)["edit_x_r1"] == board(preset("seed").x)).all()


def test_an_edit_applies_in_its_callback_and_reruns_the_stepper_and_the_grids(at):
    click(at, "next")  # step 2: u = v x
    edit_cell(at, "weights0", 1, "x1", 2.0)
    problem = at.session_state["lecture"].problem
    assert problem.weights[0][1, 0] == 2.0
    assert at.latex[2].value.strip("$\n").endswith(r"(1.0)(-0.5) = 0.0")  # u_2 with v_21 = 2
    assert grids(at)["edit_weights0_r0"][1, 0] == "2.0"
    assert not at.sidebar.selectbox and not at.tabs  # the sidebar and the page were not rerun
    click(at, "next")  # the edit stays in force while the stepper alone reruns
    assert at.session_state["lecture"].problem is problem


def test_a_bad_edit_reruns_the_stepper_with_its_message(at):
    edit_cell(at, "x", 0, "x2", None)
    assert [shown(e.value) for e in at.error] == [
        "x_2 is empty; expected a number such as 0.25, -1.5e-3 or 0,25. The last good values "
        "are still in use."
    ]
    click(at, "next")  # still in the grid, still said
    assert len(at.error) == 1
    edit_cell(at, "x", 0, "x2", 1.5)  # put right: said no more
    assert not at.error and at.session_state["lecture"].problem.x[1] == 1.5


def test_reset_renews_the_grids_and_the_network(at):
    edit_cell(at, "weights0", 1, "x1", 2.0)
    click(at, "reset")
    assert at.session_state["lecture"].problem.weights[0][1, 0] == 0.5
    assert grids(at)["edit_weights0_r1"][1, 0] == "0.5"
    assert at.text_input(key="layers_r1").value == "3-4-2"


def test_a_sidebar_change_redraws_the_whole_page(at):
    whole_page(at)
    at.selectbox(key="preset").set_value("tutorial").run()
    assert not at.exception
    assert at.tabs and at.subheader[0].value == f"Step 1 of 11: {TITLES[0]}"
    assert "edit_biases0_r1" in grids(at)  # the 2-2-2 example has biases


def test_sessions_on_the_same_problem_share_its_pass_and_a_changed_one_does_not(at):
    other = AppTest.from_file(APP, default_timeout=30).run()
    mine, theirs = (a.session_state[computed.SESSION].shown for a in (at, other))
    assert mine is theirs  # the seed, computed once for both
    edit_cell(other, "weights0", 1, "x1", 2.0)
    edited = other.session_state[computed.SESSION].shown
    assert edited is not mine and edited.p.problem.weights[0][1, 0] == 2.0
    assert at.session_state[computed.SESSION].shown.p.problem.weights[0][1, 0] == 0.5


def test_the_process_finds_a_problem_by_its_whole_json_only():
    seed = preset("seed")
    again = Problem.from_dict(seed.to_dict())
    assert computed._find(again) is computed._find(seed)
    data = seed.to_dict()
    data["weights"][0][1][0] = 0.5 + 1e-15  # one weight apart in its last digits
    assert computed._find(Problem.from_dict(data)) is not computed._find(seed)
    data = seed.to_dict()
    data["title"] = "mine"
    assert computed._find(Problem.from_dict(data)) is not computed._find(seed)


def test_a_large_network_is_not_shared_by_the_process():
    data = preset("seed").to_dict()
    big = Problem.from_dict(
        {
            "layers": [64, 64, 64, 2],
            "activations": ["tanh", "tanh", "softmax"],
            "loss": "cross_entropy",
            "x": [0.1] * 64,
            "target": [1.0, 0.0],
            "weights": [[[0.01] * 64] * 64] * 2 + [[[0.01] * 64] * 2],
            "biases": None,
            "learning_rate": data["learning_rate"],
        }
    )
    assert big.parameters > computed.SHARED_UP_TO
    assert computed._find(big) is not computed._find(big)


@pytest.mark.parametrize(("k", "mode"), [(0, "weight"), (7, "gradient"), (10, "update")])
def test_a_kept_figure_sends_what_the_figure_draws_and_is_not_changed_by_its_reader(k, mode):
    """st.plotly_chart and the exports turn a figure into its dict; a kept figure makes that
    dict once, without Plotly's objects, and hands out copies whose top and layout a reader
    may change."""
    seed = preset("seed")
    kept = computed._find(seed).figure(k, mode)
    p = iterate(seed)
    drawn = figure(p, steps(p)[k], mode)
    sent = json.loads(plotly.io.to_json(kept, validate=False))
    assert sent == json.loads(plotly.io.to_json(drawn, validate=False))
    html = kept.to_html()  # as an export makes it: it reads the figure as Streamlit does
    for text in sent["data"][-1]["hovertext"]:  # the neurons', "h1 ∂L/∂u=-0.1864" and others
        # as Plotly's JSON engine writes it: "/" may be \u002f, and ∂ \u2202 without orjson
        written = {json.dumps(text, ensure_ascii=ascii) for ascii in (True, False)}
        assert any(w in html or w.replace("/", "\\u002f") in html for w in written), text
    first = kept.to_dict()
    first["layout"]["height"] = 1
    first["data"].clear()
    assert json.loads(plotly.io.to_json(kept, validate=False)) == sent


def _page_without_the_stepper():
    import streamlit as st

    from nnviz.core.problem import preset
    from nnviz.ui.app import _redraw
    from nnviz.ui.state import Lecture

    st.session_state.setdefault("lecture", Lecture([preset("seed")]))
    st.session_state.runs = st.session_state.get("runs", 0) + 1
    st.button("Next", key="next", on_click=_redraw, args=((-1, -1, -1),))  # all renewed


def test_a_redraw_of_fragments_not_on_the_page_reruns_the_whole_page():
    # A whole run cut short by a click can leave the stepper unregistered when the next click's
    # callback asks for it; Streamlit then raises, and the page would show only an error.
    at = AppTest.from_function(_page_without_the_stepper, default_timeout=30).run()
    click(at, "next")
    assert at.session_state["runs"] == 2 and at.button(key="next")
