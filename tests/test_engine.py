"""The engine against derivations written out here, neuron by neuron, and against calculus.

The expected numbers are computed in this file with plain `math`, one scalar at a time, as a
student would on paper. None is copied from the seed's worked answer, which has mistakes.
"""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nnviz.core.engine import backward, forward, gradient_check, iterate, update
from nnviz.core.problem import Problem, preset

TOL = 1e-9

V = [[-1.0, 2.0, 0.0], [0.5, -1.0, 1.0], [1.5, 2.0, -0.4], [0.2, 0.1, 0.3]]
W = [[1.0, 1.0, 0.5, 0.5], [0.3, 0.4, 0.5, 0.1]]
X = [1.0, 1.5, -0.5]
TARGET = [1.0, 0.0]
ETA = 0.1


def seed_by_hand():
    """The seed problem on paper: ELU hidden layer, two-class softmax, cross-entropy."""
    u = [sum(V[j][i] * X[i] for i in range(3)) for j in range(4)]
    h = [uj if uj >= 0 else math.exp(uj) - 1 for uj in u]
    z = [sum(W[k][j] * h[j] for j in range(4)) for k in range(2)]
    # two classes: o_1 = e^z1 / (e^z1 + e^z2) = 1 / (1 + e^(z2 - z1))
    o1 = 1 / (1 + math.exp(z[1] - z[0]))
    o = [o1, 1 - o1]
    loss = math.log(1 + math.exp(z[1] - z[0]))  # -ln o_1, since o*_1 = 1
    do = [-1 / o[0], 0.0]  # dL/do_k = -o*_k / o_k
    dz = [o[k] - TARGET[k] for k in range(2)]
    dw = [[dz[k] * h[j] for j in range(4)] for k in range(2)]
    dh = [sum(dz[k] * W[k][j] for k in range(2)) for j in range(4)]
    du = [dh[j] * (1.0 if u[j] >= 0 else math.exp(u[j])) for j in range(4)]
    dv = [[du[j] * X[i] for i in range(3)] for j in range(4)]
    w_new = [[W[k][j] - ETA * dw[k][j] for j in range(4)] for k in range(2)]
    v_new = [[V[j][i] - ETA * dv[j][i] for i in range(3)] for j in range(4)]
    return dict(
        u=u,
        h=h,
        z=z,
        o=o,
        L=loss,
        do=do,
        dz=dz,
        dw=dw,
        dh=dh,
        du=du,
        dv=dv,
        w_new=w_new,
        v_new=v_new,
    )


def close(actual, expected, tol=TOL):
    np.testing.assert_allclose(
        np.asarray(actual, float), np.asarray(expected, float), rtol=0, atol=tol
    )


@pytest.fixture(scope="module")
def seed():
    return seed_by_hand(), iterate(preset("seed"))


@pytest.mark.parametrize(
    "name, get",
    [
        ("u", lambda p: p.forward.pre[0]),
        ("h", lambda p: p.forward.post[0]),
        ("z", lambda p: p.forward.pre[1]),
        ("o", lambda p: p.forward.post[1]),
        ("L", lambda p: p.forward.loss),
        ("do", lambda p: p.backward.grad_post[1]),
        ("dz", lambda p: p.backward.grad_pre[1]),
        ("dw", lambda p: p.backward.grad_weights[1]),
        ("dh", lambda p: p.backward.grad_post[0]),
        ("du", lambda p: p.backward.grad_pre[0]),
        ("dv", lambda p: p.backward.grad_weights[0]),
        ("w_new", lambda p: p.updated.weights[1]),
        ("v_new", lambda p: p.updated.weights[0]),
    ],
)
def test_seed_every_value(seed, name, get):
    by_hand, result = seed
    close(get(result), by_hand[name])


def test_seed_matches_the_briefs_rounded_values(seed):
    """The forward values the project brief states, at the precision it states them."""
    _, p = seed
    close(p.forward.pre[0], [2, -1.5, 4.7, 0.2], 1e-12)
    close(p.forward.post[0], [2, -0.77687, 4.7, 0.2], 5e-6)
    close(p.forward.pre[1], [3.67313, 2.65925], 5e-6)
    close(p.forward.post[1], [0.733778, 0.266222], 5e-7)
    close(p.forward.loss, 0.309548, 5e-7)
    assert p.backward.grad_biases is None and p.updated.biases is None


def test_seed_is_not_the_students_answer(seed):
    """The worked answer wrote h_2 = u_2 = -0.75; ELU of a negative u is e^u - 1."""
    _, p = seed
    assert p.forward.post[0][1] == pytest.approx(math.exp(-1.5) - 1, abs=1e-15)
    assert abs(p.forward.post[0][1] - (-0.75)) > 0.02


def tutorial_by_hand():
    """The classic 2-2-2 example: sigmoid everywhere, squared error, with biases."""
    sig = lambda a: 1 / (1 + math.exp(-a))  # noqa: E731
    x, t, eta = [0.05, 0.10], [0.01, 0.99], 0.5
    v, b1 = [[0.15, 0.20], [0.25, 0.30]], [0.35, 0.35]
    w, b2 = [[0.40, 0.45], [0.50, 0.55]], [0.60, 0.60]
    u = [v[j][0] * x[0] + v[j][1] * x[1] + b1[j] for j in range(2)]
    h = [sig(a) for a in u]
    z = [w[k][0] * h[0] + w[k][1] * h[1] + b2[k] for k in range(2)]
    o = [sig(a) for a in z]
    loss = sum(0.5 * (t[k] - o[k]) ** 2 for k in range(2))
    do = [o[k] - t[k] for k in range(2)]
    dz = [do[k] * o[k] * (1 - o[k]) for k in range(2)]
    dw = [[dz[k] * h[j] for j in range(2)] for k in range(2)]
    dh = [dz[0] * w[0][j] + dz[1] * w[1][j] for j in range(2)]
    du = [dh[j] * h[j] * (1 - h[j]) for j in range(2)]
    dv = [[du[j] * x[i] for i in range(2)] for j in range(2)]
    return dict(
        u=u,
        h=h,
        z=z,
        o=o,
        L=loss,
        do=do,
        dz=dz,
        dw=dw,
        dh=dh,
        du=du,
        dv=dv,
        db1=du,
        db2=dz,
        v_new=[[v[j][i] - eta * dv[j][i] for i in range(2)] for j in range(2)],
        w_new=[[w[k][j] - eta * dw[k][j] for j in range(2)] for k in range(2)],
        b1_new=[b1[j] - eta * du[j] for j in range(2)],
        b2_new=[b2[k] - eta * dz[k] for k in range(2)],
    )


def test_tutorial_every_value():
    e, p = tutorial_by_hand(), iterate(preset("tutorial"))
    f, b, new = p.forward, p.backward, p.updated
    close(f.pre[0], e["u"])
    close(f.post[0], e["h"])
    close(f.pre[1], e["z"])
    close(f.post[1], e["o"])
    close(f.loss, e["L"])
    close(b.grad_post[1], e["do"])
    close(b.grad_pre[1], e["dz"])
    close(b.grad_weights[1], e["dw"])
    close(b.grad_biases[1], e["db2"])
    close(b.grad_post[0], e["dh"])
    close(b.grad_pre[0], e["du"])
    close(b.grad_weights[0], e["dv"])
    close(b.grad_biases[0], e["db1"])
    close(new.weights[0], e["v_new"])
    close(new.weights[1], e["w_new"])
    close(new.biases[0], e["b1_new"])
    close(new.biases[1], e["b2_new"])


def test_tutorial_matches_the_published_walkthrough():
    """Matt Mazur's well-known walkthrough of this network prints these to 9 places."""
    p = iterate(preset("tutorial"))
    assert p.forward.loss == pytest.approx(0.298371109, abs=1e-9)
    assert p.updated.weights[1][0, 0] == pytest.approx(0.35891648, abs=1e-8)
    assert p.updated.weights[0][0, 0] == pytest.approx(0.149780716, abs=1e-9)


def deep_by_hand():
    """2-3-2-1: tanh, then leaky ReLU (slope 0.1), then a sigmoid output with binary
    cross-entropy; with biases."""
    x, t, eta, slope = [0.6, -1.2], 0.25, 0.3, 0.1
    w1, b1 = [[0.5, -0.3], [0.8, 0.2], [-0.6, 0.4]], [0.1, -0.2, 0.05]
    w2, b2 = [[0.7, -0.5, 0.3], [-0.4, 0.9, 0.6]], [0.0, 0.1]
    w3, b3 = [[1.2, -0.8]], [-0.1]
    u1 = [w1[j][0] * x[0] + w1[j][1] * x[1] + b1[j] for j in range(3)]
    h1 = [math.tanh(a) for a in u1]
    u2 = [sum(w2[k][j] * h1[j] for j in range(3)) + b2[k] for k in range(2)]
    h2 = [a if a >= 0 else slope * a for a in u2]
    u3 = w3[0][0] * h2[0] + w3[0][1] * h2[1] + b3[0]
    o = 1 / (1 + math.exp(-u3))
    loss = -(t * math.log(o) + (1 - t) * math.log(1 - o))
    do = -t / o + (1 - t) / (1 - o)
    du3 = do * o * (1 - o)  # the chain rule through sigma'; the engine takes o - o*
    dh2 = [du3 * w3[0][k] for k in range(2)]
    du2 = [dh2[k] * (1.0 if u2[k] >= 0 else slope) for k in range(2)]
    dh1 = [sum(du2[k] * w2[k][j] for k in range(2)) for j in range(3)]
    du1 = [dh1[j] * (1 - h1[j] ** 2) for j in range(3)]
    dw1 = [[du1[j] * x[i] for i in range(2)] for j in range(3)]
    dw2 = [[du2[k] * h1[j] for j in range(3)] for k in range(2)]
    dw3 = [[du3 * h2[k] for k in range(2)]]

    def minus_eta(a, g):
        return (
            [minus_eta(ar, gr) for ar, gr in zip(a, g, strict=True)]
            if isinstance(a[0], list)
            else [ai - eta * gi for ai, gi in zip(a, g, strict=True)]
        )

    return dict(
        problem={
            "layers": [2, 3, 2, 1],
            "activations": ["tanh", {"name": "leaky_relu", "negative_slope": slope}, "sigmoid"],
            "loss": "binary_cross_entropy",
            "x": x,
            "target": [t],
            "weights": [w1, w2, w3],
            "biases": [b1, b2, b3],
            "learning_rate": eta,
        },
        pre=[u1, u2, [u3]],
        post=[h1, h2, [o]],
        L=loss,
        grad_post=[dh1, dh2, [do]],
        grad_pre=[du1, du2, [du3]],
        grad_weights=[dw1, dw2, dw3],
        weights_new=[minus_eta(w1, dw1), minus_eta(w2, dw2), minus_eta(w3, dw3)],
        biases_new=[minus_eta(b1, du1), minus_eta(b2, du2), minus_eta(b3, [du3])],
    )


def test_a_deeper_network_every_value():
    e = deep_by_hand()
    assert e["pre"][1][1] < 0  # the leaky slope is exercised
    p = iterate(Problem.from_dict(e["problem"]))
    close(p.forward.loss, e["L"])
    for l in range(3):
        close(p.forward.pre[l], e["pre"][l])
        close(p.forward.post[l], e["post"][l])
        close(p.backward.grad_post[l], e["grad_post"][l])
        close(p.backward.grad_pre[l], e["grad_pre"][l])
        close(p.backward.grad_weights[l], e["grad_weights"][l])
        close(p.backward.grad_biases[l], e["grad_pre"][l])
        close(p.updated.weights[l], e["weights_new"][l])
        close(p.updated.biases[l], e["biases_new"][l])


def test_the_phases_compose_into_a_step():
    problem = preset("seed")
    fwd = forward(problem)
    new = update(problem, backward(problem, fwd))
    for a, b in zip(new.weights, iterate(problem).updated.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    assert new.learning_rate == problem.learning_rate and new.x is problem.x


def test_update_leaves_the_old_problem_alone():
    problem = preset("seed")
    before = [w.copy() for w in problem.weights]
    iterate(problem)
    for a, b in zip(problem.weights, before, strict=True):
        np.testing.assert_array_equal(a, b)


# --- random networks ---------------------------------------------------------------------------

HIDDEN = ["elu", "relu", "leaky_relu", "sigmoid", "tanh", "identity"]
KINKED = {"elu", "relu", "leaky_relu"}  # not differentiable at u = 0 (ELU with alpha != 1)


@st.composite
def problems(draw, magnitude=2.0, max_layers=5, max_width=5):
    layers = draw(st.lists(st.integers(1, max_width), min_size=2, max_size=max_layers))
    depth = len(layers) - 1
    loss = draw(st.sampled_from(["cross_entropy", "binary_cross_entropy", "squared_error"]))
    output = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}.get(loss) or draw(
        st.sampled_from([*HIDDEN, "softmax"])
    )
    hidden = draw(st.lists(st.sampled_from(HIDDEN), min_size=depth - 1, max_size=depth - 1))
    activations = []
    for name in [*hidden, output]:
        if name == "elu":
            name = {"name": "elu", "alpha": draw(st.floats(0.1, 2.0))}
        elif name == "leaky_relu":
            name = {"name": "leaky_relu", "negative_slope": draw(st.floats(0.0, 0.5))}
        activations.append(name)
    value = st.floats(-magnitude, magnitude)

    def vec(n, elements=value):
        return draw(st.lists(elements, min_size=n, max_size=n))

    if loss == "cross_entropy":
        raw = [1.0 + r for r in vec(layers[-1], st.floats(0, 10))]
        target = [r / sum(raw) for r in raw]
        target[-1] = 1.0 - sum(target[:-1])
        assume(all(t >= 0 for t in target))
    elif loss == "binary_cross_entropy":
        target = vec(layers[-1], st.floats(0.0, 1.0))
    else:
        target = vec(layers[-1])
    with_biases = draw(st.booleans())
    return Problem.from_dict(
        {
            "layers": layers,
            "activations": activations,
            "loss": loss,
            "x": vec(layers[0]),
            "target": target,
            "weights": [[vec(layers[l]) for _ in range(layers[l + 1])] for l in range(depth)],
            "biases": [vec(n) for n in layers[1:]] if with_biases else None,
            "learning_rate": draw(st.floats(0.01, 1.0)),
        }
    )


def smooth_here(problem, margin=1e-2):
    """No pre-activation of a kinked activation sits near its kink."""
    fwd = forward(problem)
    return all(
        np.abs(u).min() > margin for u, f in zip(fwd.pre, problem.activations) if f.name in KINKED
    )


@settings(max_examples=150, deadline=None)
@given(problems())
def test_gradients_equal_finite_differences(problem):
    assume(smooth_here(problem))
    checks = gradient_check(problem)
    assume(any(abs(c.analytic) > 1e-6 for c in checks))  # else there is nothing to compare
    assert len(checks) == sum(w.size for w in problem.weights) + (
        0 if problem.biases is None else sum(b.size for b in problem.biases)
    )
    # what a central difference at gradient_check's h can resolve: rounding of L, over h
    noise = 10 * np.finfo(float).eps * max(abs(forward(problem).loss), 1.0) / 1e-4
    for c in checks:
        assert c.passed, c
        if c.relative_error is None:  # both within rounding of zero
            assert max(abs(c.analytic), abs(c.numeric)) <= 2 * noise, (c, noise)
        elif abs(c.analytic) > 1e-3 and noise < 1e-7 * abs(c.analytic):  # rounding aside
            assert c.relative_error <= 1e-6, (c, noise)


@settings(max_examples=150, deadline=None)
@given(problems(), st.floats(1e-6, 1e-5))
def test_a_small_step_does_not_raise_the_loss(problem, eta):
    assume(smooth_here(problem))
    problem = Problem.from_dict({**problem.to_dict(), "learning_rate": eta})
    p = iterate(problem)
    squared = sum((g**2).sum() for g in p.backward.grad_weights)
    if p.backward.grad_biases is not None:
        squared += sum((g**2).sum() for g in p.backward.grad_biases)
    assume(eta * squared > 1e-11 * max(1.0, p.forward.loss))  # a fall that rounding can't hide
    after = forward(p.updated).loss
    # to first order the loss falls by eta |g|^2; allow half of that, and float rounding
    assert after <= p.forward.loss - 0.5 * eta * squared + 1e-13 * max(1.0, p.forward.loss)


def test_gradient_check_catches_a_wrong_gradient(monkeypatch):
    """The check can fail: break backprop's ELU derivative and it reports it."""
    from nnviz.core import functions

    def wrong(self, u):
        return np.ones_like(u)  # as if ELU'(u) were 1 everywhere: the seed answer's own slip

    monkeypatch.setattr(functions.Activation, "derivative", wrong)
    failed = [c for c in gradient_check(preset("seed")) if not c.passed]
    assert {(c.layer, c.index[0]) for c in failed} == {(0, 1)}  # v_2i, where u_2 < 0


# --- extremes ----------------------------------------------------------------------------------


def all_arrays(p):
    f, b = p.forward, p.backward
    yield from f.pre + f.post + b.grad_post + b.grad_pre + b.grad_weights
    yield from b.grad_biases or ()
    yield from p.updated.weights
    yield from p.updated.biases or ()


@settings(max_examples=100, deadline=None)
@given(problems(magnitude=1000.0, max_layers=8, max_width=12), st.data())
def test_huge_weights_and_inputs_stay_finite(problem, data):
    """Weights of ±1000 and inputs of ±1e3: every value finite, and (pytest turns warnings
    into errors) no overflow or invalid-value warning."""
    signs = st.sampled_from([-1000.0, 1000.0])
    weights = [
        np.array(data.draw(st.lists(signs, min_size=w.size, max_size=w.size))).reshape(w.shape)
        for w in problem.weights
    ]
    problem = problem.with_parameters(weights, problem.biases)
    p = iterate(problem)
    assert math.isfinite(p.forward.loss)
    for a in all_arrays(p):
        assert np.isfinite(a).all()


@pytest.mark.parametrize(
    "hidden, loss, output",
    [
        ("identity", "squared_error", "identity"),
        ({"name": "leaky_relu", "negative_slope": 1e6}, "squared_error", "softmax"),
        ({"name": "elu", "alpha": 1e6}, "cross_entropy", "softmax"),
        ("relu", "binary_cross_entropy", "sigmoid"),
        ("tanh", "squared_error", "tanh"),
    ],
)
def test_the_limits_of_the_format_stay_finite(hidden, loss, output):
    """8 layers of 64 with every input, weight and bias at +-1e6 and eta = 1e6, the most the
    format allows: still every value finite and no warning."""
    rng = np.random.default_rng(3)

    def signs(*shape):
        return (1e6 * rng.choice([-1.0, 1.0], size=shape)).tolist()

    problem = Problem.from_dict(
        {
            "layers": [64] * 8,
            "activations": [hidden] * 6 + [output],
            "loss": loss,
            "x": signs(64),
            "target": np.eye(64)[0].tolist(),
            "weights": [signs(64, 64) for _ in range(7)],
            "biases": [signs(64) for _ in range(7)],
            "learning_rate": 1e6,
        }
    )
    p = iterate(problem)
    assert math.isfinite(p.forward.loss)
    for a in all_arrays(p):
        assert np.isfinite(a).all()


@pytest.mark.parametrize(
    "loss, output",
    [
        ("cross_entropy", "softmax"),
        ("binary_cross_entropy", "sigmoid"),
        ("squared_error", "softmax"),
        ("squared_error", "tanh"),
    ],
)
def test_a_confidently_wrong_network_stays_finite(loss, output):
    """The target class gets probability e^-4e6, which rounds to 0: the loss must still be
    the exact, large, finite value, not inf or nan."""
    problem = Problem.from_dict(
        {
            "layers": [2, 2],
            "activations": [output],
            "loss": loss,
            "x": [1000.0, -1000.0],
            "target": [1.0, 0.0],
            "weights": [[[-1000.0, 1000.0], [1000.0, -1000.0]]],
            "learning_rate": 0.1,
        }
    )
    p = iterate(problem)
    for a in all_arrays(p):
        assert np.isfinite(a).all()
    z = p.forward.pre[0]
    assert z[1] - z[0] == 4e6
    if loss == "cross_entropy":
        assert p.forward.loss == 4e6  # -ln o_1 = ln(1 + e^(z2 - z1)) = z2 - z1 here
    if loss == "binary_cross_entropy":
        assert p.forward.loss == 4e6  # softplus(2e6) + softplus(2e6) = 2e6 + 2e6


def test_the_largest_network_the_format_allows():
    """8 layers of 64, every hidden activation, biases: shapes right and backprop proven."""
    rng = np.random.default_rng(7)
    layers = [64] * 8
    hidden = [
        "tanh",
        {"name": "elu", "alpha": 0.7},
        "relu",
        {"name": "leaky_relu", "negative_slope": 0.1},
        "sigmoid",
        "identity",
    ]
    problem = Problem.from_dict(
        {
            "layers": layers,
            "activations": [*hidden, "softmax"],
            "loss": "cross_entropy",
            "x": rng.normal(size=64).tolist(),
            "target": np.eye(64)[5].tolist(),
            "weights": [rng.normal(0, 0.3, (64, 64)).tolist() for _ in range(7)],
            "biases": [rng.normal(0, 0.1, 64).tolist() for _ in range(7)],
            "learning_rate": 0.1,
        }
    )
    p = iterate(problem)
    assert [u.shape for u in p.forward.pre] == [(64,)] * 7
    assert [g.shape for g in p.backward.grad_weights] == [(64, 64)] * 7
    assert [b.shape for b in p.updated.biases] == [(64,)] * 7
    assert p.forward.post[-1].sum() == pytest.approx(1.0, abs=1e-12)
    assert smooth_here(problem, margin=1e-3)
    checks = gradient_check(problem)
    assert len(checks) == 7 * (64 * 64 + 64)
    assert all(c.passed for c in checks), [c for c in checks if not c.passed][:3]


def test_gradient_check_passes_at_the_elu_kink_and_flags_a_relu_one():
    """u_2 = 0 exactly when v_21 = 2: ELU (alpha 1) is smooth enough there for a finer h, while
    ReLU has no derivative at 0, and finite differences rightly disagree with its 0."""
    seed = preset("seed")
    v = seed.weights[0].copy()
    v[1, 0] = 2.0
    assert v[1] @ seed.x == 0.0
    at_kink = seed.with_parameters([v, seed.weights[1]], None)
    assert all(c.passed for c in gradient_check(at_kink))
    data = at_kink.to_dict()
    data["activations"][0] = "relu"
    failed = [c.index for c in gradient_check(Problem.from_dict(data)) if not c.passed]
    assert failed == [(1, 0), (1, 1), (1, 2)]
