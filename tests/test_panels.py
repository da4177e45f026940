"""The Train and Gradient check tabs, driven by AppTest: clicks, and what the page then says.

The expected numbers come from the plain NumPy loop over the seed problem in seed.py, not
from nnviz.
"""

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest
from fragments import edit_cell
from seed import SEED_V, SEED_W, TITLES, descend, loss_and_gradients
from shown import shown
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def at():
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception
    return app


def run(at):
    at.run()
    assert not at.exception
    return at


def tab(at, name):
    """Open a tab: only the open one runs (st.tabs with on_change="rerun")."""
    at.session_state["tab"] = name
    return run(at)


def edit(at, name, row, column, value):
    """A grid edit, as the browser sends it: the row, the column and the new value."""
    edit_cell(at, name, row, column, value)
    assert not at.exception
    return at


def train(at, n, stop_below=None):
    tab(at, "Train")
    at.number_input(key="train_iterations").set_value(n)
    if stop_below is not None:
        at.checkbox(key="train_stop").check()
        run(at)
        at.number_input(key="train_threshold").set_value(stop_below)
    at.button(key="train_run").click()
    return run(at)


def chart(at, key):
    return next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if key in c.proto.id)


def values(trace, axis):
    value = trace[axis]
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value, dtype=float)


def gradient_table(at):
    return next(d.value for d in at.dataframe if "parameter" in d.value.columns)


def test_a_training_run_reports_the_loss_it_reached(at):
    losses, final, *_ = descend(1000)
    train(at, 1000)
    assert shown(at.success[0].value) == (
        f"1,000 updates: L went from {losses[0]:.6g} to {final:.6g}."
    )
    assert f"{losses[0]:.6g}" == "0.309548"
    curve = chart(at, "train_loss")["data"][0]
    drawn = values(curve, "x").astype(int)  # 1001 points, thinned to a screen's width
    assert len(drawn) == 1000 and drawn[0] == 0 and drawn[-1] == 1000
    np.testing.assert_allclose(values(curve, "y"), np.array([*losses, final])[drawn], rtol=1e-9)


def test_log_scale_switches_the_loss_axis(at):
    train(at, 50)
    assert chart(at, "train_loss")["layout"]["yaxis"]["type"] == "linear"
    at.toggle(key="train_log").set_value(True)
    run(at)
    assert chart(at, "train_loss")["layout"]["yaxis"]["type"] == "log"


def test_the_weight_and_output_trajectories_are_drawn_per_weight(at):
    train(at, 20)
    paths = {t["name"]: t for t in chart(at, "train_weights")["data"]}
    assert len(paths) == 12 + 8
    _, _, v, w, _ = descend(20)
    assert values(paths["v_21"], "y")[0] == 0.5
    assert values(paths["v_21"], "y")[-1] == pytest.approx(v[1, 0], abs=1e-12)
    assert values(paths["w_24"], "y")[-1] == pytest.approx(w[1, 3], abs=1e-12)
    outputs = {t["name"]: t for t in chart(at, "train_outputs")["data"]}
    assert set(outputs) == {"o_1", "o_2", "target 0", "target 1"}
    assert values(outputs["o_1"], "y")[0] == pytest.approx(0.733778, abs=1e-6)


def test_stop_below_a_threshold_says_where_it_stopped(at):
    losses, *_ = descend(100_000)
    expected = next(i for i, loss in enumerate(losses) if loss < 0.05)
    train(at, 100_000, stop_below=0.05)
    lecture_problem = at.session_state["training"]
    assert lecture_problem.iterations_run == expected
    assert shown(at.success[0].value).startswith(f"{expected:,} updates:")


def test_apply_continues_the_stepper_from_the_trained_weights(at):
    _, _, v, w, _ = descend(100)
    train(at, 100)
    at.button(key="train_apply").click()
    run(at)
    assert at.session_state["tab"] == "Lecture"  # Apply goes on in the lecture
    assert at.subheader[0].value == f"Step 1 of 11: {TITLES[0]}"
    assert "Iteration 101" in " ".join(m.value for m in at.markdown)
    assert "Applied 100 iterations of training" in shown(at.info[0].value)
    problem = at.session_state["lecture"].problem
    np.testing.assert_allclose(problem.weights[0], v, atol=1e-12)
    np.testing.assert_allclose(problem.weights[1], w, atol=1e-12)
    at.button(key="prev").click()
    run(at)
    assert at.subheader[0].value == f"Step 11 of 11: {TITLES[-1]}"
    assert "Iteration 1 " in " ".join(m.value for m in at.markdown) + " "
    np.testing.assert_array_equal(at.session_state["lecture"].problem.weights[0], SEED_V)


def test_a_diverging_run_stops_at_the_first_bad_iteration_and_keeps_the_weights(at):
    rev = at.session_state["lecture"].network_rev
    at.selectbox(key=f"act1_r{rev}").set_value("identity")
    run(at)
    assert at.session_state["lecture"].problem.loss.name == "squared_error"
    edit(at, "learning_rate", 0, "η", 50.0)
    losses, _, v, w, _ = descend(1000, eta=50.0, linear=True)
    assert len(losses) == 2  # the third update would take w_13 beyond 1e6
    train(at, 1000)
    message = shown(at.error[0].value)
    assert f"iteration {len(losses) + 1}" in message
    run_ = at.session_state["training"]
    assert run_.stopped == "diverged" and run_.iterations_run == len(losses)
    np.testing.assert_allclose(run_.final.weights[0], v, rtol=1e-9)
    np.testing.assert_allclose(run_.final.weights[1], w, rtol=1e-9)


def test_a_run_goes_stale_when_the_network_changes(at):
    train(at, 10)
    tab(at, "Lecture")
    at.button(key="next").click().run()  # a click of its own: it reruns the stepper alone
    tab(at, "Train")
    assert at.success  # stepping does not change the network
    tab(at, "Lecture")
    edit(at, "weights0", 1, "x1", 2.0)
    tab(at, "Train")
    assert "The network changed since this run" in shown(at.info[0].value)


def test_the_gradient_check_proves_every_seed_gradient(at):
    tab(at, "Gradient check")
    headline = shown(at.success[0].value)
    assert re.fullmatch(
        r"All 20 gradients agree with finite differences \(largest relative error "
        r"[0-9.]+e-[0-9]+; 3 are both 0 to round-off\)\.",
        headline,
    ), headline
    table = gradient_table(at)
    _, dv, dw = loss_and_gradients(SEED_V, SEED_W)
    rows = table.set_index("parameter")
    assert list(rows.index[:2]) == ["dL/dv_11", "dL/dv_12"]
    assert rows.loc["dL/dv_21", "backpropagation"] == pytest.approx(dv[1, 0], abs=1e-12)
    assert rows.loc["dL/dw_24", "backpropagation"] == pytest.approx(dw[1, 3], abs=1e-12)
    assert rows.loc["dL/dv_21", "finite differences"] == pytest.approx(dv[1, 0], abs=1e-9)
    # dL/dv_3i is exactly 0 (w_13 = w_23, and softmax ignores a shift): its finite difference
    # is rounding noise, and a relative error of noise against 0 would say nothing
    zero = ["dL/dv_31", "dL/dv_32", "dL/dv_33"]
    assert (rows["agree"].drop(zero) == "✓").all() and (rows.loc[zero, "agree"] == "✓ both 0").all()
    assert not dv[2].any() and rows.loc[zero, "relative error"].isna().all()
    assert (rows.loc[zero, "finite differences"].abs() < 1e-9).all()
    assert (rows["relative error"].drop(zero) < 1e-6).all()


def test_the_gradient_check_headline_leaves_out_gradients_that_are_both_0(at):
    """With v_11 = 3 the issue's page said "largest relative error 1.0e+00", from rows where
    both gradients are 0 to round-off."""
    edit(at, "weights0", 0, "x1", 3.0)
    tab(at, "Gradient check")
    headline = shown(at.success[0].value)
    worst = float(re.search(r"largest relative error ([0-9.e+-]+);", headline).group(1))
    assert worst < 1e-6 and headline.endswith("3 are both 0 to round-off).")
    rows = gradient_table(at).set_index("parameter")
    assert list(rows.index[rows["agree"] == "✓ both 0"]) == ["dL/dv_31", "dL/dv_32", "dL/dv_33"]


def test_the_gradient_check_follows_an_edit(at):
    edit(at, "weights0", 1, "x1", 2.0)
    v = SEED_V.copy()
    v[1, 0] = 2.0
    _, dv, _ = loss_and_gradients(v, SEED_W)
    tab(at, "Gradient check")
    rows = gradient_table(at).set_index("parameter")
    assert rows.loc["dL/dv_21", "backpropagation"] == pytest.approx(dv[1, 0], abs=1e-12)
