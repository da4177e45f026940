"""Activations and losses: values on paper, derivatives against finite differences."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nnviz.core.functions import ACTIVATIONS, LOSSES, Activation

ELEMENTWISE = [
    Activation("elu", 1.0),
    Activation("elu", 0.5),
    Activation("relu"),
    Activation("leaky_relu", 0.01),
    Activation("sigmoid"),
    Activation("tanh"),
    Activation("identity"),
]
SOFTMAX = Activation("softmax")


def vectors(low=-30.0, high=30.0, max_size=6):
    return arrays(float, st.integers(1, max_size), elements=st.floats(low, high))


@pytest.mark.parametrize(
    "f, u, expected",
    [
        (Activation("elu", 1.0), -1.5, math.exp(-1.5) - 1),
        (Activation("elu", 2.0), -1.0, 2 * (math.exp(-1.0) - 1)),
        (Activation("elu", 1.0), 4.7, 4.7),
        (Activation("relu"), -3.0, 0.0),
        (Activation("relu"), 3.0, 3.0),
        (Activation("leaky_relu", 0.01), -3.0, -0.03),
        (Activation("sigmoid"), 0.0, 0.5),
        (Activation("sigmoid"), 2.0, 1 / (1 + math.exp(-2.0))),
        (Activation("sigmoid"), -2.0, 1 / (1 + math.exp(2.0))),
        (Activation("tanh"), 0.5, math.tanh(0.5)),
        (Activation("identity"), -7.25, -7.25),
    ],
)
def test_values_on_paper(f, u, expected):
    assert f.value(np.array([u]))[0] == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize(
    "f, expected",
    [
        (Activation("elu", 1.0), 1.0),  # the u >= 0 branch at zero, as the seed writes it
        (Activation("leaky_relu", 0.01), 1.0),
        (Activation("relu"), 0.0),  # the one exception the spec names
    ],
)
def test_derivative_at_the_kink(f, expected):
    zero = np.array([0.0])
    assert f.derivative(zero)[0] == expected
    assert f.backprop(zero, f.value(zero), np.array([2.0]))[0] == 2 * expected  # what backward uses
    assert f.backprop(-zero, f.value(-zero), np.array([2.0]))[0] == 2 * expected  # u = -0.0


def test_elu_with_alpha_takes_the_upper_branch_at_zero():
    f = Activation("elu", 0.5)
    u = np.array([-1e-300, 0.0, 1e-300])
    assert f.backprop(u, f.value(u), np.ones(3)).tolist() == [0.5, 1.0, 1.0]


@pytest.mark.parametrize(
    "f, u, expected",
    [
        (Activation("elu", 1.0), -40.0, math.exp(-40.0)),
        (Activation("elu", 2.0), -40.0, 2 * math.exp(-40.0)),
        (Activation("tanh"), 20.0, 4 * math.exp(-40.0) / (1 + math.exp(-40.0)) ** 2),
        (Activation("tanh"), -30.0, 4 * math.exp(-60.0) / (1 + math.exp(-60.0)) ** 2),
        (Activation("sigmoid"), -50.0, math.exp(-50.0) / (1 + math.exp(-50.0)) ** 2),
    ],
)
def test_derivatives_keep_their_digits_far_out(f, u, expected):
    """Tiny, but not zero: 1 - tanh^2 or e^u from 1 + h would round these to 0."""
    u = np.array([u])
    assert f.derivative(u)[0] == pytest.approx(expected, rel=1e-14)
    assert f.backprop(u, f.value(u), np.ones(1))[0] == pytest.approx(expected, rel=1e-14)


def test_unknown_activations_are_refused_and_parameters_default():
    with pytest.raises(ValueError, match="gelu"):
        Activation("gelu")
    assert Activation("elu").parameter == 1.0
    assert Activation("leaky_relu").parameter == 0.01


def test_elu_tiny_negative_keeps_its_digits():
    """expm1, not exp - 1: ELU(-1e-10) is -1e-10 to full precision."""
    assert Activation("elu", 1.0).value(np.array([-1e-10]))[0] == pytest.approx(
        -1e-10 + 5e-21, rel=1e-15
    )


def test_sigmoid_and_friends_are_silent_at_extremes():
    """Pytest turns warnings into errors: no overflow in exp for any finite input."""
    u = np.array([-1e308, -800.0, -40.0, 0.0, 40.0, 800.0, 1e308])
    for f in [*ELEMENTWISE, SOFTMAX]:
        assert np.isfinite(f.value(u[1:-1])).all()
    s = Activation("sigmoid")
    assert s.value(u).tolist() == [0.0, 0.0, pytest.approx(math.exp(-40)), 0.5, 1.0, 1.0, 1.0]
    assert np.isfinite(s.derivative(u)).all()


@settings(max_examples=200)
@given(vectors(-1e150, 1e150, max_size=64))
def test_softmax_is_a_distribution(z):
    o = SOFTMAX.value(z)
    assert np.all(o >= 0) and np.all(o <= 1)
    assert o.sum() == pytest.approx(1.0, abs=1e-12)
    assert o[z.argmax()] == o.max()


@settings(max_examples=200)
@given(vectors(), arrays(float, 6, elements=st.floats(-2, 2)))
def test_backprop_is_the_jacobian_transpose_times_the_gradient(u, g):
    """J^T g against a Jacobian built column by column from central differences."""
    g = g[: u.size]
    h = 1e-6
    for f in [*ELEMENTWISE, SOFTMAX]:
        if f.name in {"elu", "relu", "leaky_relu"} and np.abs(u).min() < 1e-4:
            continue  # a difference across the kink measures no derivative
        jacobian = np.empty((u.size, u.size))
        for i in range(u.size):
            step = np.zeros_like(u)
            step[i] = h
            jacobian[:, i] = (f.value(u + step) - f.value(u - step)) / (2 * h)
        np.testing.assert_allclose(
            f.backprop(u, f.value(u), g), jacobian.T @ g, rtol=1e-6, atol=1e-8
        )
        np.testing.assert_allclose(f.jacobian(u, f.value(u)), jacobian, rtol=1e-6, atol=1e-8)


def reference_terms(name, o, t):
    """L_k, the spec's formulas (section 10) taken literally in terms of the output o."""
    if name == "cross_entropy":
        return [-tk * math.log(ok) for tk, ok in zip(t, o, strict=True)]
    if name == "binary_cross_entropy":
        return [
            -(tk * math.log(ok) + (1 - tk) * math.log(1 - ok)) for tk, ok in zip(t, o, strict=True)
        ]
    return [0.5 * (ok - tk) ** 2 for tk, ok in zip(t, o, strict=True)]


def reference_loss(name, o, t):
    return sum(reference_terms(name, o, t))


OUTPUT = {
    "cross_entropy": SOFTMAX,
    "binary_cross_entropy": Activation("sigmoid"),
    "squared_error": Activation("tanh"),
}


@settings(max_examples=200)
@given(st.sampled_from(sorted(LOSSES)), vectors(-8, 8), st.data())
def test_losses_match_their_formulas_and_gradients(name, z, data):
    loss, f = LOSSES[name], OUTPUT[name]
    t = data.draw(arrays(float, z.size, elements=st.floats(0, 1)))
    if name == "cross_entropy":
        t = np.zeros_like(z)
        t[data.draw(st.integers(0, z.size - 1))] = 1.0
    o, value = loss.evaluate(z, f, t)
    np.testing.assert_allclose(o, f.value(z), rtol=1e-14, atol=0)
    assert value == pytest.approx(reference_loss(name, o, t), rel=1e-12, abs=1e-12)
    terms = loss.terms(z, o, t)
    np.testing.assert_allclose(terms, reference_terms(name, o, t), rtol=1e-12, atol=1e-12)
    assert loss.total(terms) == value
    np.testing.assert_allclose(loss.terms(None, o, t), terms, rtol=1e-9, atol=1e-12)  # from o
    # dL/do by central differences of the formula in o; ln o and ln(1 - o) need a step that
    # is small beside o and 1 - o
    for k in range(z.size):
        h = {"squared_error": 1e-6, "cross_entropy": 1e-5 * o[k]}.get(
            name, 1e-5 * min(o[k], 1 - o[k])
        )
        up, down = o.copy(), o.copy()
        up[k] += h
        down[k] -= h
        numeric = (reference_loss(name, up, t) - reference_loss(name, down, t)) / (2 * h)
        assert loss.gradient(z, o, t)[k] == pytest.approx(numeric, rel=1e-5, abs=1e-6)


def test_fused_pairs_give_o_minus_target():
    """The seed's hint, dL/dz = o - o*, is J^T dL/do for softmax with cross-entropy, and for
    sigmoid with binary cross-entropy."""
    z, t = np.array([0.3, -1.2, 2.0]), np.array([0.2, 0.3, 0.5])
    for name in ("cross_entropy", "binary_cross_entropy"):
        f = OUTPUT[name]
        o, _ = LOSSES[name].evaluate(z, f, t)
        via_jacobian = f.backprop(z, o, LOSSES[name].gradient(z, o, t))
        np.testing.assert_allclose(via_jacobian, o - t, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("z", [-30.0, -12.0, 12.0, 30.0])
def test_binary_cross_entropy_gradient_far_out(z):
    """dL/do = -o*/o + (1 - o*)/(1 - o), with 1/o = 1 + e^-z and 1/(1 - o) = 1 + e^z."""
    t = 0.3
    o = Activation("sigmoid").value(np.array([z]))
    expected = -t * (1 + math.exp(-z)) + (1 - t) * (1 + math.exp(z))
    got = LOSSES["binary_cross_entropy"].gradient(np.array([z]), o, np.array([t]))[0]
    assert got == pytest.approx(expected, rel=1e-12)


def test_binary_cross_entropy_gradient_saturates_finite():
    z, t = np.array([-800.0, 800.0]), np.array([1.0, 0.0])
    grad = LOSSES["binary_cross_entropy"].gradient(z, Activation("sigmoid").value(z), t)
    assert np.isfinite(grad).all() and grad[0] < -1e299 and grad[1] > 1e299


def test_cross_entropy_of_a_vanishing_probability_is_finite():
    z, t = np.array([-1000.0, 1000.0]), np.array([1.0, 0.0])
    o, value = LOSSES["cross_entropy"].evaluate(z, SOFTMAX, t)
    assert o[0] == 0.0 and value == 2000.0
    grad = LOSSES["cross_entropy"].gradient(z, o, t)
    assert np.isfinite(grad).all() and grad[0] < -1e299 and grad[1] == 0


def test_every_function_has_its_formula():
    for name, function in ACTIVATIONS.items():
        f = Activation(name, 1.0 if function.parameter else None)
        assert f.latex and f.derivative_latex
    assert r"\ln" in LOSSES["cross_entropy"].latex
    assert all(loss.gradient_latex.startswith(r"\frac{\partial") for loss in LOSSES.values())
    assert "ALPHA" not in Activation("elu", 0.5).latex and "0.5" in Activation("elu", 0.5).latex
