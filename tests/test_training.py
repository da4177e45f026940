"""Many iterations: against gradient descent written out here for the seed network alone, and
against the stepper's own engine.iterate, repeated.

What the seed does (found by the loops below, and asserted): with η = 0.1 its loss falls at every
iteration (at all 100,000, of which the tests check 10,000), from 0.309548 to below 0.01 after 15
iterations. With η = 50 it does not diverge: one update makes the output certain and right, the
loss becomes 0 and the gradient with it, and the weights stay where that update put them. Softmax
with cross-entropy has bounded gradients, so the seed diverges only when η itself is near the
limit (η = 1e6: at iteration 1). The seed's network with a linear output and squared error does
diverge with η = 50, at iteration 3.
"""

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine import problems

from nnviz.core import training
from nnviz.core.engine import forward, iterate
from nnviz.core.functions import LOSSES, Activation
from nnviz.core.problem import LIMIT, Problem, preset
from nnviz.core.training import MAX_ITERATIONS, STOPS, train

TOL = 1e-9

# examples/seed-problem.json, written out
SEED_V = np.array([[-1.0, 2.0, 0.0], [0.5, -1.0, 1.0], [1.5, 2.0, -0.4], [0.2, 0.1, 0.3]])
SEED_W = np.array([[1.0, 1.0, 0.5, 0.5], [0.3, 0.4, 0.5, 0.1]])
SEED_X = np.array([1.0, 1.5, -0.5])
SEED_TARGET = np.array([1.0, 0.0])


def seed_descent(eta, iterations, stop_below=-math.inf, output="softmax"):
    """Gradient descent on the seed network, typed out for it alone: an ELU (alpha 1) hidden
    layer, then softmax with cross-entropy, or a linear output with squared error. It stops as
    the spec says: below the threshold before an update, or before an update that would take a
    weight beyond 1e6."""
    v, w = SEED_V.copy(), SEED_W.copy()
    losses = []
    for i in itertools.count(1):
        u = v @ SEED_X
        h = np.where(u >= 0, u, np.exp(np.minimum(u, 0.0)) - 1)
        z = w @ h
        if output == "softmax":
            e = np.exp(z - z.max())
            o = e / e.sum()
            loss = -math.log(o[0])  # o* = [1, 0]
            dz = o - SEED_TARGET
        else:
            loss = 0.5 * ((z - SEED_TARGET) ** 2).sum()
            dz = z - SEED_TARGET
        run = dict(at=i, run=i - 1, loss=losses, v=v, w=w, final=loss)
        if i > iterations:
            return run | dict(stopped="completed")
        if loss < stop_below:
            return run | dict(stopped="threshold")
        dw = np.outer(dz, h)
        du = (w.T @ dz) * np.where(u >= 0, 1.0, np.exp(np.minimum(u, 0.0)))
        dv = np.outer(du, SEED_X)
        v_new, w_new = v - eta * dv, w - eta * dw
        if max(abs(v_new).max(), abs(w_new).max()) > 1e6:
            return run | dict(stopped="diverged", new={"v": v_new, "w": w_new})
        losses.append(loss)
        v, w = v_new, w_new


def largest(new):
    """The weight furthest from 0, as the seed names it (v_ji, w_kj), and its value."""
    symbol = max(new, key=lambda s: abs(new[s]).max())
    row, col = np.unravel_index(abs(new[symbol]).argmax(), new[symbol].shape)
    return f"{symbol}_{row + 1}{col + 1}", new[symbol][row, col]


def seed_with(eta, output="softmax"):
    data = preset("seed").to_dict()
    data["learning_rate"] = eta
    if output != "softmax":
        data["activations"] = [{"name": "elu", "alpha": 1.0}, "identity"]
        data["loss"] = "squared_error"
    return Problem.from_dict(data)


def stepped(problem, n):
    """engine.iterate, n times: the stepper's own iterations."""
    snapshots = [problem]
    for _ in range(n):
        snapshots.append(iterate(snapshots[-1]).updated)
    return snapshots


def same_parameters(a: Problem, b: Problem) -> bool:
    biases = a.biases is None and b.biases is None
    if not biases and a.biases is not None and b.biases is not None:
        biases = all(np.array_equal(x, y) for x, y in zip(a.biases, b.biases))
    return biases and all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights))


# --- the seed ----------------------------------------------------------------------------------


def test_the_seed_loss_falls_at_every_iteration():
    run = train(preset("seed"), 10_000)
    by_hand = seed_descent(0.1, 10_000)
    assert run.stopped == "completed" and run.message is None and run.iterations_run == 10_000
    assert np.all(np.diff(np.r_[run.loss, run.final_loss]) < 0)
    np.testing.assert_allclose(run.loss, by_hand["loss"], rtol=TOL, atol=TOL)
    np.testing.assert_allclose(run.final.weights[0], by_hand["v"], atol=TOL)
    np.testing.assert_allclose(run.final.weights[1], by_hand["w"], atol=TOL)
    assert run.loss[0] == forward(preset("seed")).loss
    assert run.loss[0] == pytest.approx(0.309548185981, abs=1e-12)
    assert run.final_loss == pytest.approx(by_hand["final"], rel=TOL)
    assert by_hand["final"] == pytest.approx(1.2722e-05, rel=1e-4)


def test_the_seed_falls_below_one_hundredth_after_15_iterations():
    by_hand = seed_descent(0.1, 1000, stop_below=0.01)
    assert (by_hand["stopped"], by_hand["run"]) == ("threshold", 15)
    run = train(preset("seed"), 1000, stop_below=0.01)
    assert run.stopped == "threshold" and run.iterations_run == 15 and len(run.loss) == 15
    assert run.final_loss < 0.01 <= run.loss[-1]
    assert run.final_loss == pytest.approx(by_hand["final"], abs=TOL)
    assert run.final_loss == pytest.approx(0.00996010958688, abs=1e-12)
    np.testing.assert_allclose(run.loss, by_hand["loss"], atol=TOL)
    assert same_parameters(run.final, stepped(preset("seed"), 15)[-1])
    assert run.message == "The loss fell below 0.01 after 15 iterations: L = 0.00996011."
    assert run.recorded.tolist() == list(range(16))


def test_a_start_already_below_the_threshold_makes_no_update():
    run = train(preset("seed"), 10, stop_below=0.5)
    assert run.stopped == "threshold" and run.iterations_run == 0 and run.loss.shape == (0,)
    assert run.final is run.start and run.final_loss == forward(run.start).loss
    assert run.message.startswith("The loss was below 0.5 at the start")


def test_the_seed_with_eta_50_does_not_diverge():
    """One update makes o = [1, 0] exactly: the loss and every gradient are 0 from then on."""
    by_hand = seed_descent(50, 1000)
    assert by_hand["stopped"] == "completed" and by_hand["loss"][1:] == [0.0] * 999
    problem = seed_with(50)
    run = train(problem, 1000)
    assert run.stopped == "completed" and run.iterations_run == 1000
    assert run.final_loss == 0 and np.all(run.loss[1:] == 0)
    assert same_parameters(run.final, iterate(problem).updated)
    np.testing.assert_allclose(run.final.weights[1], by_hand["w"], atol=TOL)
    assert np.abs(run.final.weights[1]).max() == pytest.approx(63.0620730123, abs=1e-9)


def test_the_seed_diverges_at_once_with_the_largest_eta():
    problem = seed_with(1e6)
    by_hand = seed_descent(1e6, 10)
    assert (by_hand["stopped"], by_hand["at"]) == ("diverged", 1)
    run = train(problem, 10)
    assert run.stopped == "diverged" and run.iterations_run == 0 and run.loss.shape == (0,)
    assert run.final is problem and run.final_loss == forward(problem).loss
    assert run.recorded.tolist() == [0] and run.weights[0].shape == (1, 4, 3)
    name, value = largest(by_hand["new"])
    assert run.message.startswith(
        f"The run diverged at iteration 1: after its update {name} = {value:.2g} is out of "
        "range; expected at most 1e+06 in size. "
    )


def test_a_linear_output_diverges_at_iteration_3_with_eta_50():
    by_hand = seed_descent(50, 100, output="linear")
    assert (by_hand["stopped"], by_hand["at"]) == ("diverged", 3)
    problem = seed_with(50, output="linear")
    run = train(problem, 100)
    assert run.stopped == "diverged" and run.iterations_run == 2
    np.testing.assert_allclose(run.loss, by_hand["loss"], rtol=TOL)
    assert run.final_loss == pytest.approx(by_hand["final"], rel=TOL)
    assert same_parameters(run.final, stepped(problem, 2)[-1])
    assert max(np.abs(w).max() for w in run.final.weights) <= LIMIT
    Problem.from_dict(run.final.to_dict())  # still a problem that can be saved and loaded

    name, value = largest(by_hand["new"])
    assert run.message == (
        f"The run diverged at iteration 3: after its update {name} = {value:.2g} is out of "
        "range; expected at most 1e+06 in size. The weights before it are kept; lower η."
    )
    assert (name, f"{value:.2g}") == ("w_13", "-8.1e+06")


def test_a_loss_that_overflows_stops_the_run_before_it():
    """Out of the format (x = 1e160), so that the loss, not a weight, goes first: one update
    of -1e-5 makes z = -1e155 and L = inf."""
    problem = Problem(
        (1, 1),
        (Activation("identity"),),
        LOSSES["squared_error"],
        np.array([1e160]),
        np.array([0.0]),
        (np.array([[1e-150]]),),
        None,
        1e-175,
    )
    with np.errstate(over="ignore"):
        run = train(problem, 5)
    assert run.stopped == "diverged" and run.iterations_run == 0 and run.final is problem
    assert math.isfinite(run.final_loss)
    assert run.message == (
        "The run diverged at iteration 1: after its update the loss would be inf. "
        "The weights before it are kept; lower η."
    )


def test_a_start_out_of_range_is_refused():
    seed = preset("seed")
    v = seed.weights[0].copy()
    v[1, 0] = 2e6
    refused = r"cannot start training: v_21 = 2e\+06 is out of range; expected at most 1e\+06"
    with pytest.raises(ValueError, match=refused):
        train(seed.with_parameters([v, seed.weights[1]], None), 10)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"iterations": 0}, "iterations is 0; expected a whole number from 1 to 100000"),
        ({"iterations": -1}, "iterations is -1; expected"),
        ({"iterations": MAX_ITERATIONS + 1}, "iterations is 100001; expected"),
        ({"iterations": 1.5}, "iterations is 1.5; expected"),
        ({"iterations": True}, "iterations is True; expected"),
        ({"iterations": "10"}, "iterations is '10'; expected"),
        ({"iterations": 10, "stop_below": math.nan}, "stop_below is nan; expected a finite"),
        ({"iterations": 10, "stop_below": math.inf}, "stop_below is inf; expected a finite"),
        ({"iterations": 10, "stop_below": "0.1"}, "stop_below is '0.1'; expected a finite"),
        ({"iterations": 10, "progress_every": 0}, "progress_every is 0; expected"),
    ],
)
def test_bad_arguments_are_refused_in_one_line(arguments, message):
    with pytest.raises(ValueError) as refusal:
        train(preset("seed"), **arguments)
    assert str(refusal.value).startswith(message) and "\n" not in str(refusal.value)


# --- the history -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["seed", "tutorial"])
def test_every_iteration_is_recorded_when_it_fits(name):
    problem = preset(name)
    run = train(problem, 100)
    snapshots = stepped(problem, 100)
    n, k = 101, problem.layers[-1]
    assert run.loss.shape == (100,) and run.recorded.tolist() == list(range(n))
    assert run.outputs.shape == (n, k)
    assert [w.shape for w in run.weights] == [(n, *w.shape) for w in problem.weights]
    if problem.biases is None:
        assert run.biases is None
    else:
        assert [b.shape for b in run.biases] == [(n, *b.shape) for b in problem.biases]
    for r, p in enumerate(snapshots):
        assert all(np.array_equal(w[r], pw) for w, pw in zip(run.weights, p.weights))
        if p.biases is not None:
            assert all(np.array_equal(b[r], pb) for b, pb in zip(run.biases, p.biases))
        assert np.array_equal(run.outputs[r], forward(p).post[-1])
    assert same_parameters(run.final, snapshots[-1])
    assert np.array_equal(run.loss, [forward(p).loss for p in snapshots[:-1]])
    assert run.final_loss == forward(snapshots[-1]).loss


def wide_and_deep():
    rng = np.random.default_rng(7)
    return Problem.from_dict(
        {
            "layers": [64] * 8,
            "activations": ["tanh"] * 6 + ["identity"],
            "loss": "squared_error",
            "x": rng.uniform(-1, 1, 64).tolist(),
            "target": rng.uniform(-1, 1, 64).tolist(),
            "weights": [rng.normal(0, 0.15, (64, 64)).tolist() for _ in range(7)],
            "biases": [rng.normal(0, 0.1, 64).tolist() for _ in range(7)],
            "learning_rate": 0.01,
        }
    )


def assert_thinned(run, snapshots):
    """Every row a snapshot of engine.iterate; evenly spaced but for the final weights."""
    recorded = run.recorded.tolist()
    assert recorded[0] == 0 and recorded[-1] == run.iterations_run
    stride = recorded[1] - recorded[0]
    assert stride > 1 and recorded[:-1] == list(range(0, recorded[-2] + 1, stride))
    for r, i in enumerate(recorded):
        assert all(np.array_equal(w[r], pw) for w, pw in zip(run.weights, snapshots[i].weights))
        biases = zip(run.biases or (), snapshots[i].biases or ())
        assert all(np.array_equal(b[r], pb) for b, pb in biases)
        assert np.array_equal(run.outputs[r], forward(snapshots[i]).post[-1])


def test_a_big_network_keeps_a_thinned_history_within_the_budget():
    """29,184 floats an iteration: 34 rows fill the budget, for 1,000 iterations as for
    100,000 (the arrays are sized once, from the budget)."""
    problem = wide_and_deep()
    run = train(problem, 1000)
    assert run.stopped == "completed" and run.loss.shape == (1000,)
    arrays = [run.recorded, run.outputs, *run.weights, *run.biases]
    assert sum(a.base.nbytes if a.base is not None else a.nbytes for a in arrays) <= (
        8 * training.HISTORY_FLOATS
    )
    rows = training.HISTORY_FLOATS // 29_184
    assert rows == 34 and rows // 2 <= len(run.recorded) <= rows + 1
    assert_thinned(run, stepped(problem, 1000))


def test_a_run_that_stops_early_keeps_a_fine_history(monkeypatch):
    """The stride doubles as the run goes, so an early stop is not left with two rows."""
    problem = preset("tutorial")
    monkeypatch.setattr(training, "HISTORY_FLOATS", 9 * (1 + 2 + 8 + 4))  # nine rows
    run = train(problem, 100_000, stop_below=forward(stepped(problem, 37)[-1]).loss * 1.000001)
    assert run.stopped == "threshold" and run.iterations_run == 37
    assert run.recorded.tolist() == [0, 8, 16, 24, 32, 37]
    assert_thinned(run, stepped(problem, 37))


def test_an_early_stop_lets_go_of_the_budget():
    run = train(preset("seed"), MAX_ITERATIONS, stop_below=0.01)
    arrays = [run.recorded, run.outputs, *run.weights]
    assert sum((a.base if a.base is not None else a).nbytes for a in arrays) == 16 * 23 * 8


def test_a_long_run_keeps_at_most_max_rows_of_the_seed():
    run = train(preset("seed"), 10_000)
    assert training.MAX_ROWS // 2 <= len(run.recorded) <= training.MAX_ROWS + 1
    assert_thinned(run, stepped(preset("seed"), 10_000))
    assert run.loss.shape == (10_000,)  # the loss is kept for every iteration


def test_a_loss_below_the_threshold_after_the_last_update_is_a_threshold_stop():
    """15 updates take the seed below 0.01: asked for exactly 15, the run says so too."""
    run = train(preset("seed"), 15, stop_below=0.01)
    assert (run.stopped, run.iterations_run) == ("threshold", 15)
    assert run.final_loss < 0.01 <= run.loss[-1]
    assert run.message.startswith("The loss fell below 0.01 after 15 iterations")


def test_final_is_the_stepper_repeated_bit_for_bit():
    for name in ("seed", "tutorial"):
        run = train(preset(name), 500)
        assert same_parameters(run.final, stepped(preset(name), 500)[-1]), name


def test_to_dict_is_the_training_format():
    run = train(preset("tutorial"), 20, stop_below=0.2)
    data = run.to_dict()
    assert list(data) == ["format", "iterations_run", "stopped", "loss", "final_loss", "problem"]
    assert data["format"] == "nnviz-training/1"
    assert (data["iterations_run"], data["stopped"]) == (run.iterations_run, run.stopped)
    assert data["loss"] == run.loss.tolist() and len(data["loss"]) == data["iterations_run"]
    assert data["final_loss"] == run.final_loss
    again = Problem.from_dict(json.loads(json.dumps(data["problem"], allow_nan=False)))
    assert same_parameters(again, run.final) and again.to_dict() == data["problem"]


def test_progress_is_reported_every_so_often_and_at_the_end():
    calls = []
    train(preset("seed"), 1000, on_progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1000, 1000)]
    calls.clear()
    train(preset("seed"), 1000, 0.01, lambda *a: calls.append(a), progress_every=4)
    assert calls == [(4, 1000), (8, 1000), (12, 1000), (15, 1000)]


# --- any problem -------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    problems(),
    st.integers(1, 25),
    st.one_of(st.none(), st.floats(0.0, 2.0)),
)
def test_any_run_is_the_stepper_repeated(problem, iterations, stop_below):
    run = train(problem, iterations, stop_below)
    assert run.stopped in STOPS and len(run.loss) == run.iterations_run <= iterations
    assert (run.message is None) == (run.stopped == "completed")
    snapshots = stepped(problem, run.iterations_run)
    if run.iterations_run:
        assert run.loss[0] == forward(problem).loss
    assert np.array_equal(run.loss, [forward(p).loss for p in snapshots[:-1]])
    assert run.final_loss == forward(snapshots[-1]).loss
    assert run.recorded.tolist() == list(range(run.iterations_run + 1))
    for r, p in enumerate(snapshots):
        assert all(np.array_equal(w[r], pw) for w, pw in zip(run.weights, p.weights))
        if p.biases is not None:
            assert all(np.array_equal(b[r], pb) for b, pb in zip(run.biases, p.biases))
    if stop_below is not None:  # the threshold is checked before each update
        assert np.all(run.loss >= stop_below)
        if run.stopped == "threshold":
            assert run.final_loss < stop_below
        if run.stopped == "diverged":
            assert run.final_loss >= stop_below
    if run.stopped == "diverged":
        assert run.message.startswith(f"The run diverged at iteration {run.iterations_run + 1}:")
    Problem.from_dict(run.final.to_dict())
