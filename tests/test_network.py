"""The network figure: one edge per weight, coloured by sign, and the step's values on nodes."""

import numpy as np
import pytest

from nnviz.core.engine import iterate
from nnviz.core.functions import Activation
from nnviz.core.networks import random_problem
from nnviz.core.problem import preset
from nnviz.plots.network import BINS, COLORSCALE, MIN_WIDTH, default_mode, figure
from nnviz.teaching.lesson import steps

SEED_V = [[-1.0, 2.0, 0.0], [0.5, -1.0, 1.0], [1.5, 2.0, -0.4], [0.2, 0.1, 0.3]]
SEED_W = [[1.0, 1.0, 0.5, 0.5], [0.3, 0.4, 0.5, 0.1]]


@pytest.fixture(scope="module")
def seed():
    p = iterate(preset("seed"))
    return p, steps(p)


def trace(fig, name):
    return next(t for t in fig.data if t.name == name)


def edge_traces(fig):
    return [t for t in fig.data if t.name.startswith("edges")]


def rgb(colour):
    return [int(c) for c in colour[4:-1].split(",")]


def test_one_edge_per_weight_with_its_value(seed):
    p, lesson = seed
    fig = figure(p, lesson[0], "weight")
    values = np.asarray(trace(fig, "edge values").marker.color)
    np.testing.assert_array_equal(values, np.concatenate([np.ravel(SEED_V), np.ravel(SEED_W)]))
    drawn = sum(np.isnan(np.asarray(t.x, float)).sum() for t in edge_traces(fig))
    assert drawn == 12 + 8  # each edge ends with one gap
    assert len(edge_traces(fig)) <= 2 * BINS


def test_colours_follow_the_sign_with_grey_at_zero(seed):
    p, lesson = seed
    fig = figure(p, lesson[0], "weight")
    for t in edge_traces(fig):
        centre = float(t.name.split()[1])
        red, _, blue = rgb(t.line.color)
        if centre < 0:
            assert red > blue, t.name
        elif centre > 0:
            assert blue > red, t.name
        else:
            assert t.line.color == "rgb(189, 189, 189)" and t.line.width == MIN_WIDTH
    marker = trace(fig, "edge values").marker
    assert marker.cmin == -marker.cmax == -2.0 and marker.showscale
    assert marker.colorscale[2] == (0.5, COLORSCALE[2][1])


def test_wider_edges_for_larger_weights(seed):
    p, lesson = seed
    widths = {
        float(t.name.split()[1]): t.line.width for t in edge_traces(figure(p, lesson[0], "weight"))
    }
    ordered = sorted(widths, key=abs)
    assert [widths[c] for c in ordered] == sorted(widths.values())


def test_hover_names_each_weight_and_adds_what_the_lecture_has_computed(seed):
    p, lesson = seed
    hover = lambda k: trace(figure(p, lesson[k], "weight"), "edge values").hovertext  # noqa: E731
    assert hover(0)[3] == "v_21 = 0.5000"
    assert hover(7)[3] == "v_21 = 0.5000" and hover(7)[12] == "w_11 = 1.0000, ∂L/∂w_11 = −0.5324"
    assert hover(9)[3] == "v_21 = 0.5000, ∂L/∂v_21 = −0.0356"
    assert hover(10)[3] == "v_21 = 0.5000, ∂L/∂v_21 = −0.0356, Δ = 0.0036"


def test_the_modes_colour_by_weight_gradient_and_change(seed):
    p, lesson = seed
    gradient = trace(figure(p, lesson[9], "gradient"), "edge values").marker.color
    grads = np.concatenate([g.ravel() for g in p.backward.grad_weights])
    np.testing.assert_array_equal(gradient, grads)
    change = trace(figure(p, lesson[9], "update"), "edge values").marker.color
    np.testing.assert_allclose(change, -0.1 * grads, rtol=1e-12)  # w_new - w, from the engine
    assert [default_mode(s) for s in lesson] == ["weight"] * 6 + ["gradient"] * 4 + ["update"]


def test_a_gradient_not_yet_computed_shows_grey(seed):
    p, lesson = seed
    dv, dw = (g.ravel() for g in p.backward.grad_weights)

    def colours(k):
        return np.asarray(trace(figure(p, lesson[k], "gradient"), "edge values").marker.color)

    np.testing.assert_array_equal(colours(6), np.zeros(20))  # dL/dz: no weight's gradient yet
    np.testing.assert_array_equal(colours(7), np.concatenate([np.zeros(12), dw]))  # dL/dw
    np.testing.assert_array_equal(colours(9), np.concatenate([dv, dw]))  # dL/dv


def test_the_current_layer_is_lit_and_the_rest_faded(seed):
    p, lesson = seed
    fig = figure(p, lesson[1], "weight")  # u = v x: layer 0 lit
    for t in edge_traces(fig):
        xs = np.asarray(t.x, float)
        starts = set(xs[::3])
        assert (t.opacity == 1.0) == (starts == {0.0}), t.name


def test_nodes_show_values_once_revealed(seed):
    p, lesson = seed
    labels = lambda s: trace(figure(p, s, "weight"), "neurons").text  # noqa: E731
    assert labels(lesson[0])[4] == "h2"
    assert labels(lesson[1])[4] == "h2<br>u<br>-1.5"
    assert labels(lesson[2])[4] == "h2<br>h<br>-0.7769"
    assert labels(lesson[6])[7] == "o1<br>∂L/∂z<br>-0.2662"
    assert labels(lesson[8])[4] == "h2<br>∂L/∂u<br>-0.0356"
    assert labels(lesson[0])[0] == "x1<br>1.0"


def test_a_large_network_stays_a_few_traces():
    activations = [Activation("relu"), Activation("relu"), Activation("softmax")]
    p = iterate(random_problem([64] * 4, activations, "cross_entropy", False, seed=2))
    fig = figure(p, steps(p)[3], "gradient")
    assert len(fig.data) <= 2 * BINS + 2
    assert len(trace(fig, "edge values").marker.color) == 3 * 64 * 64
    assert set(trace(fig, "neurons").text) == {""}  # 64 labels a column would be unreadable


def test_every_edge_has_its_own_hover_point(seed):
    p, lesson = seed
    edges = trace(figure(p, lesson[0], "weight"), "edge values")
    points = set(zip(np.round(edges.x, 9), np.round(edges.y, 9), strict=True))
    assert len(points) == 20  # at the midpoints, crossing edges would share one


def test_gradients_are_scaled_to_the_layer_in_the_lesson(seed):
    p, lesson = seed
    marker = trace(figure(p, lesson[9], "gradient"), "edge values").marker  # dL/dv
    assert marker.cmax == pytest.approx(np.abs(p.backward.grad_weights[0]).max())
    marker = trace(figure(p, lesson[10], "gradient"), "edge values").marker  # all lit
    assert marker.cmax == pytest.approx(max(np.abs(g).max() for g in p.backward.grad_weights))
