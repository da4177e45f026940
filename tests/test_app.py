"""The Streamlit app, driven by AppTest (no browser): clicks, edits and what the page shows.

Expected numbers are worked out here by hand from the seed problem, never taken from the
student's worked answer.
"""

import base64
import json
import math
from pathlib import Path

import numpy as np
import pytest
from fragments import edit_cell, whole_page
from seed import TITLES
from shown import shown
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")
SEED_V = [[-1.0, 2.0, 0.0], [0.5, -1.0, 1.0], [1.5, 2.0, -0.4], [0.2, 0.1, 0.3]]
SEED_W = [[1.0, 1.0, 0.5, 0.5], [0.3, 0.4, 0.5, 0.1]]


@pytest.fixture
def at():
    app = AppTest.from_file(APP, default_timeout=30).run()
    assert not app.exception
    return app


def heading(at):
    return at.subheader[0].value


def latex(at):
    return [e.value.strip("$\n") for e in at.latex]


def text(at):
    return " ".join(shown(m.value) for m in at.markdown)


def click(at, key, times=1):
    for _ in range(times):
        at.button(key=key).click().run()
        assert not at.exception
    return at


def chart(at):
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return {t["name"]: t for t in spec["data"]}


def array(value):
    """A Plotly array from the chart's JSON: a list, or base64 bytes with a dtype."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value)


def edit(at, name, row, column, value):
    edit_cell(at, name, row, column, value)
    assert not at.exception


def seed_by_hand(v21=0.5):
    """The seed's forward pass and dL/dv_21, for a given v_21, two classes written out."""
    u2 = v21 * 1.0 - 1.0 * 1.5 + 1.0 * -0.5
    h2 = u2 if u2 >= 0 else math.exp(u2) - 1
    z1, z2 = 2 + h2 + 0.5 * 4.7 + 0.5 * 0.2, 0.6 + 0.4 * h2 + 0.5 * 4.7 + 0.1 * 0.2
    o2 = 1 / (1 + math.exp(z1 - z2))
    loss = math.log(1 + math.exp(z2 - z1))
    du2 = o2 * (0.4 - 1.0) * (1.0 if u2 >= 0 else math.exp(u2))  # dL/dh_2 f'(u_2)
    return u2, h2, loss, du2 * 1.0  # dL/dv_21 = dL/du_2 x_1


def test_the_default_app_shows_the_seed_network(at):
    assert heading(at) == "Step 1 of 11: The setup"
    assert "Problem 1: 3-4-2, ELU hidden layer, softmax output" in text(at)
    assert "Iteration 1" in text(at)
    assert r"x = \begin{bmatrix} 1.0 & 1.5 & -0.5 \end{bmatrix}^T" in latex(at)[1]
    values = array(chart(at)["edge values"]["marker"]["color"])
    np.testing.assert_array_equal(values, np.concatenate([np.ravel(SEED_V), np.ravel(SEED_W)]))


def test_next_walks_the_lecture_with_the_right_numbers_at_each_step(at):
    u2, h2, loss, dv21 = seed_by_hand()
    seen = [heading(at)]
    for k in range(2, 12):
        click(at, "next")
        seen.append(heading(at))
        shown = " ".join(latex(at))
        if k == 2:
            assert f"= {u2:.1f}" in latex(at)[2]
        if k == 3:
            assert rf"\mathrm{{ELU}}(-1.5) = {h2:.4f}" in shown and f"{h2:.4f}" == "-0.7769"
            assert "= -0.75" not in shown
        if k == 6:
            assert f"= {loss:.4f}" in latex(at)[1] and f"{loss:.4f}" == "0.3095"
            assert f"loss L = {loss:.4f}" in text(at)
        if k == 10:
            assert f"= {dv21:.4f}" in next(e for e in latex(at) if "v_{21}} =" in e)
    assert seen == [f"Step {k} of 11: {t}" for k, t in enumerate(TITLES, 1)]
    click(at, "next")
    assert heading(at) == "Step 1 of 11: The setup" and "Iteration 2" in text(at)


def test_prev_and_reset_across_an_iteration(at):
    click(at, "next", 11)
    lecture = at.session_state["lecture"]
    assert lecture.iteration == 1
    _, _, _, dv21 = seed_by_hand()
    assert lecture.problem.weights[0][1, 0] == pytest.approx(0.5 - 0.1 * dv21, abs=1e-12)
    click(at, "prev")
    assert heading(at) == "Step 11 of 11: The update of w and v" and "Iteration 1" in text(at)
    assert at.session_state["lecture"].problem.weights[0][1, 0] == 0.5
    click(at, "next")
    assert "Iteration 2" in text(at)
    click(at, "next", 3)
    click(at, "reset")
    assert heading(at) == "Step 1 of 11: The setup" and "Iteration 1" in text(at)
    assert at.session_state["lecture"].problem.weights[0][1, 0] == 0.5


def test_an_edit_of_v21_changes_u2_and_everything_downstream(at):
    edit(at, "weights0", 1, "x1", 2.0)
    u2, _, loss, _ = seed_by_hand(2.0)
    assert u2 == 0.0
    click(at, "next")
    assert latex(at)[2].endswith(f"(1.0)(-0.5) = {u2:.1f}")
    click(at, "next", 4)
    assert f"= {loss:.4f}" in latex(at)[1]
    assert f"{loss:.4f}" != "0.3095"


def test_an_edit_survives_the_update_and_never_snaps_back(at):
    edit(at, "weights0", 1, "x1", 2.0)
    click(at, "next", 11)
    _, _, _, dv21 = seed_by_hand(2.0)
    expected = 2.0 - 0.1 * dv21
    assert at.session_state["lecture"].problem.weights[0][1, 0] == pytest.approx(
        expected, abs=1e-12
    )
    at.run()  # another rerun must not re-apply the old edit over the updated weights
    click(at, "next")
    assert at.session_state["lecture"].problem.weights[0][1, 0] == pytest.approx(
        expected, abs=1e-12
    )
    assert f"{expected:.4f}" in latex(at)[2]  # step 2 shows the updated v_21 at work


@pytest.mark.parametrize(
    "value, message",
    [
        (
            None,
            "v_21 (row h2, column x1) is empty; expected a number such as 0.25, -1.5e-3 or 0,25",
        ),
        (
            1e308,
            "v_21 (row h2, column x1) = 1e+308 is out of range; expected at most 1e+06 in size",
        ),
    ],
)
def test_a_bad_edit_is_named_and_the_last_good_state_stays(at, value, message):
    click(at, "next")
    edit(at, "weights0", 1, "x1", value)
    assert [shown(e.value) for e in at.error] == [
        f"{message}. The last good values are still in use."
    ]
    assert latex(at)[2].endswith(r"(1.0)(-0.5) = -1.5")  # still computed from v_21 = 0.5
    assert at.session_state["lecture"].problem.weights[0][1, 0] == 0.5
    edit(at, "weights0", 1, "x1", 2.0)
    assert not at.error and latex(at)[2].endswith(r"(1.0)(-0.5) = 0.0")


def test_a_target_that_is_not_a_distribution_is_named(at):
    edit(at, "target", 0, "o1", 0.5)
    assert "o* sums to 0.5; cross_entropy needs a distribution" in shown(at.error[0].value)


def test_the_chart_colours_follow_the_signs(at):
    traces = chart(at)
    for name, t in traces.items():
        if not name.startswith("edges"):
            continue
        centre = float(name.split()[1])
        red, _, blue = (int(c) for c in t["line"]["color"][4:-1].split(","))
        assert (red > blue) if centre < 0 else (blue > red) if centre > 0 else red == blue
        assert np.isnan(array(t["x"])[2::3]).all()


def test_the_colour_mode_follows_the_step_unless_chosen(at):
    click(at, "next", 9)  # dL/dv: the backward pass colours by gradient
    gradients = array(chart(at)["edge values"]["marker"]["color"])
    assert gradients[3] == pytest.approx(seed_by_hand()[3], abs=1e-12)  # dL/dv_21
    at.radio(key="colour_mode").set_value("weight").run()
    np.testing.assert_array_equal(
        array(chart(at)["edge values"]["marker"]["color"])[:12], np.ravel(SEED_V)
    )


def test_new_layer_sizes_reinitialise_with_a_notice(at):
    rev = at.session_state["lecture"].network_rev
    at.text_input(key=f"layers_r{rev}").set_value("3-5-2").run()
    assert "drawn again at random" in shown(at.info[0].value)
    assert len(array(chart(at)["edge values"]["marker"]["color"])) == 15 + 10
    rev = at.session_state["lecture"].network_rev
    at.text_input(key=f"layers_r{rev}").set_value("3-x").run()
    assert 'Layer sizes "3-x" were not changed' in shown(at.warning[0].value)
    assert at.session_state["lecture"].problem.layers == (3, 5, 2)


def test_a_deeper_network_gets_the_same_pattern_per_layer(at):
    rev = at.session_state["lecture"].network_rev
    at.text_input(key=f"layers_r{rev}").set_value("2-3-3-2").run()
    assert heading(at) == "Step 1 of 15: The setup"
    click(at, "next", 3)
    assert heading(at) == "Step 4 of 15: u2 = W2 h1"


def test_the_preset_switch_loads_the_2_2_2_example(at):
    at.selectbox(key="preset").set_value("tutorial").run()
    assert "The classic 2-2-2 example" in text(at)
    assert heading(at) == "Step 1 of 11: The setup"
    click(at, "next", 5)
    assert "= 0.2984" in latex(at)[1]  # E_total of the walkthrough, 0.298371109


def test_a_bad_cell_forgotten_by_a_new_iteration_leaves_no_message(at):
    click(at, "next", 10)
    edit(at, "x", 0, "x2", None)
    assert "x_2 is empty" in shown(at.error[0].value)
    click(at, "next")  # the update: new weights, fresh grids showing the good x
    assert not at.error and "Iteration 2" in text(at)


def test_loading_a_preset_brings_no_old_edit_back(at):
    edit(at, "weights0", 1, "x1", 2.0)
    whole_page(at)  # the edit reran the stepper and the grids; the sidebar is still there
    at.selectbox(key="preset").set_value("tutorial").run()
    at.selectbox(key="preset").set_value("seed").run()
    assert "Loaded The seed problem" in shown(at.info[0].value)
    assert at.session_state["lecture"].problem.weights[0][1, 0] == 0.5
    click(at, "next")
    assert latex(at)[2].endswith(r"(1.0)(-0.5) = -1.5")


@pytest.mark.parametrize(
    "name, row, column, value, message",
    [
        ("target", 0, "o2", -0.5, "o*_2 = -0.5 is negative; cross_entropy needs a distribution"),
        ("learning_rate", 0, "η", 0.0, "η = 0; expected a number > 0"),
    ],
)
def test_messages_use_the_names_on_the_page(at, name, row, column, value, message):
    edit(at, name, row, column, value)
    assert shown(at.error[0].value).startswith(message)


def test_a_new_architecture_drops_the_old_title(at):
    rev = at.session_state["lecture"].network_rev
    at.text_input(key=f"layers_r{rev}").set_value("3-5-2").run()
    assert "Problem 1" not in text(at)


def test_a_diverging_update_is_refused_with_a_message(at):
    rev = at.session_state["lecture"].network_rev
    at.selectbox(key=f"act0_r{rev}").set_value("identity").run()
    rev = at.session_state["lecture"].network_rev
    at.selectbox(key=f"act1_r{rev}").set_value("identity").run()  # squared error now
    edit(at, "learning_rate", 0, "η", 1e6)
    click(at, "next", 11)
    assert "Iteration 2 cannot start: after the update" in shown(at.warning[0].value)
    assert "lower η" in shown(at.warning[0].value)
    assert heading(at) == "Step 11 of 11: The update of w and v" and "Iteration 1" in text(at)
