"""The training figures: every point drawn is a value of the run, under the right name."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from nnviz.core.engine import iterate
from nnviz.core.networks import random_problem
from nnviz.core.problem import preset
from nnviz.core.training import train
from nnviz.plots.curves import (
    MAX_LINES,
    MAX_POINTS,
    loss_curve,
    output_paths,
    thinned,
    weight_paths,
)


@given(st.integers(1, 10**6))
def test_thinned_keeps_the_ends_in_order_within_the_budget(n):
    kept = thinned(n)
    assert kept[0] == 0 and kept[-1] == n - 1
    assert np.all(np.diff(kept) > 0) and len(kept) == min(n, MAX_POINTS)


def test_the_loss_curve_is_the_run_and_its_final_loss():
    run = train(preset("seed"), 30)
    fig = loss_curve(run, log=True)
    (line,) = fig.data
    np.testing.assert_array_equal(line.x, np.arange(31))
    np.testing.assert_array_equal(line.y, [*run.loss, run.final_loss])
    assert fig.layout.yaxis.type == "log" and fig.layout.xaxis.title.text == "updates made"
    assert loss_curve(run).layout.yaxis.type == "linear"


def test_each_weight_is_drawn_under_its_blackboard_name_through_every_step():
    seed = preset("seed")
    run = train(seed, 3)
    paths = {t.name: t for t in weight_paths(run).data}
    assert len(paths) == 20 and list(paths)[:2] == ["v_11", "v_12"]
    p = seed
    for i in range(4):
        assert paths["v_21"].y[i] == p.weights[0][1, 0]
        assert paths["w_24"].y[i] == p.weights[1][1, 3]
        p = iterate(p).updated


def test_a_wide_layer_draws_its_first_weights_and_says_so():
    big = random_problem([10, 20, 2], preset("seed").activations, "cross_entropy", True, 1)
    fig = weight_paths(train(big, 2))
    titles = [a.text for a in fig.layout.annotations]
    assert titles == [f"weights v: the first {MAX_LINES} of 220", "weights w and biases"]
    assert len(fig.data) == MAX_LINES + 2 * 20 + 2


def test_the_outputs_follow_the_run_with_the_targets_dotted():
    run = train(preset("seed"), 5)
    traces = {t.name: t for t in output_paths(run).data}
    assert set(traces) == {"o_1", "o_2", "target 0", "target 1"}
    np.testing.assert_array_equal(traces["o_1"].y, run.outputs[:, 0])
    assert traces["o_1"].y[0] == iterate(preset("seed")).forward.post[-1][0]
    assert list(traces["target 1"].y) == [1.0, 1.0]
