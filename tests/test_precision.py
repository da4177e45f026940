"""nnviz's numbers against a high-precision reference, at logits of every size up to 1e18.

The reference is written out here from the definitions (softmax, ln softmax, the three losses,
each activation and its derivative) and evaluated with mpmath at the very doubles nnviz gets,
so that what is measured is nnviz's own rounding, not the conditioning of its inputs. Nothing
in it calls nnviz.

A value whose true size is below the smallest normal double may come out as 0 or a subnormal:
that is the right double answer, and `assert_close` accepts it.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mpmath import mp, mpf

from nnviz.core.engine import iterate
from nnviz.core.functions import LOSSES, Activation
from nnviz.core.problem import Problem

# 60 digits: 18 go to a logit of 1e18 and 40 are left. The reference never subtracts nearly
# equal numbers where the result matters, since it writes ln(1 + x) as log1p(x), e^u - 1 as
# expm1(u), 1 - tanh^2 as sech^2 and 1 - sigma(u) as 1 / (1 + e^u), all of which mpmath
# evaluates to full precision however small the result (ln(1 + e^-745) = 5e-324, say). Where a
# difference does cancel (J^T g, o - t) its bound is scaled by its terms, and 1e-60 of them is
# nothing beside 1e-12.
DPS = 60
precise = mp.workdps(DPS)  # a decorator; `with` takes a fresh mp.workdps(DPS) each time

RTOL = 1e-12
MIN_NORMAL = np.finfo(float).tiny  # 2.2e-308
CLIP = 690.0  # nnviz reports 1/o and e^z at about e^690 = 4.6e299 where they would overflow
HUGE = 1e299

SIZES = [0.0, 1e-300, 1e-8, 0.5, 1.0, 20.0, 36.0, 40.0, 50.0, 700.0, 710.0, 745.0]
SIZES += [1e3, 1e6, 1e12, 1e15, 1e18]
SCALARS = np.array([-0.0, *SIZES, *(-s for s in SIZES[1:])])

VECTORS = [
    *([s] for s in SCALARS),  # alone: no ln 2 from a neighbour at 0 to hide a tiny loss term
    *([s, 0.0] for s in SCALARS),
    [1e18, 1e18],
    [1e18, 0.0],
    [1e12, 1e12 - 0.5],
    [0.0, -50.0],
    [-1e18, 1e18],
    [1e18, 1e18 - 128.0, 0.0, -1e18],  # 128 is one ulp at 1e18
    [1e15, 1e15 + 0.125, 1e15 - 0.125],  # one ulp at 1e15
    [1e18, 1e18 - 640.0, 1e18 - 768.0],  # within a double's range of e^-745 below the top
    [700.0, 0.0, -700.0],
    [0.0, -700.0, -745.0, -800.0],
    [36.0, 36.0, 0.0, -36.0, 1e-8, -1e-8],
    [1e-300, -1e-300, 0.0],
    [1e6, -1e6, 1e3, -1e3, 0.5, -0.5, 20.0, -20.0],
]
VECTORS = [np.array(v) for v in VECTORS]


def vector_id(v):
    return "[" + ",".join(repr(float(x)) for x in v) + "]"


ELEMENTWISE = [
    Activation("elu", 1.0),
    Activation("elu", 0.5),
    Activation("elu", 2.0),
    Activation("relu"),
    Activation("leaky_relu", 0.01),
    Activation("leaky_relu", 0.2),
    Activation("sigmoid"),
    Activation("tanh"),
    Activation("identity"),
]
SOFTMAX = Activation("softmax")
SIGMOID = Activation("sigmoid")


# --- the reference, from the definitions ----------------------------------------------------------


def _mp(values):
    """Doubles as mpf, exactly (53 bits fit at any precision); reference values as they are."""
    return [_exact(v) for v in values]


def _exact(v):
    return v if isinstance(v, mpf) else mpf(float(v))


@precise
def ref_sigmoid_pair(u):
    """sigma(u) = 1 / (1 + e^-u), and 1 - sigma(u) written as 1 / (1 + e^u), which is the same
    number, so that it does not round to 0 beside 1 at u = 1e18."""
    u = _exact(u)
    return 1 / (1 + mp.exp(-u)), 1 / (1 + mp.exp(u))


@precise
def ref_value(f: Activation, u):
    """f(u) for one pre-activation; softmax takes the whole vector."""
    name, a = f.name, None if f.parameter is None else mpf(f.parameter)
    if name == "softmax":
        u = _mp(u)
        total = mp.fsum(mp.exp(v) for v in u)
        return [mp.exp(v) / total for v in u]
    u = _exact(u)
    if name == "elu":
        return u if u >= 0 else a * mp.expm1(u)
    if name == "relu":
        return max(u, mpf(0))
    if name == "leaky_relu":
        return u if u >= 0 else a * u
    if name == "sigmoid":
        return ref_sigmoid_pair(u)[0]
    if name == "tanh":
        return mp.tanh(u)
    return u  # identity


@precise
def ref_derivative(f: Activation, u):
    """f'(u), with the spec's choices at the kink: ELU'(0) = 1, ReLU'(0) = 0, LReLU'(0) = 1."""
    name, a, u = f.name, None if f.parameter is None else mpf(f.parameter), _exact(u)
    if name == "elu":
        return mpf(1) if u >= 0 else a * mp.exp(u)
    if name == "relu":
        return mpf(1) if u > 0 else mpf(0)
    if name == "leaky_relu":
        return mpf(1) if u >= 0 else a
    if name == "sigmoid":
        s, one_minus_s = ref_sigmoid_pair(u)
        return s * one_minus_s
    if name == "tanh":
        return mp.sech(u) ** 2  # = 1 - tanh^2 u
    return mpf(1)  # identity


@precise
def ref_backprop(f: Activation, u, g):
    """dL/du = J^T g, J = dh/du; for softmax J_kj = o_k (delta_kj - o_j)."""
    g = _mp(g)
    if f.name == "softmax":
        o = ref_value(f, u)
        n = len(o)
        return [sum(o[k] * ((k == j) - o[j]) * g[k] for k in range(n)) for j in range(n)]
    return [ref_derivative(f, uj) * gj for uj, gj in zip(u, g)]


@precise
def ref_log_softmax(z):
    """ln o_k = ln(e^z_k / sum_j e^z_j) = -ln(1 + sum_{j != k} e^(z_j - z_k))."""
    z = _mp(z)
    return [
        -mp.log1p(mp.fsum(mp.exp(zj - zk) for j, zj in enumerate(z) if j != k))
        for k, zk in enumerate(z)
    ]


@precise
def ref_evaluate(loss: str, f: Activation, z, t):
    """(o, L) from the definitions."""
    t = _mp(t)
    if loss == "cross_entropy":  # L = -sum t_k ln o_k, o = softmax(z)
        log_o = ref_log_softmax(z)
        return ref_value(f, z), -mp.fsum(tk * v for tk, v in zip(t, log_o))
    if loss == "binary_cross_entropy":  # L = -sum [t ln o + (1 - t) ln(1 - o)], o = sigmoid(z)
        value = -mp.fsum(
            # ln o = -ln(1 + e^-z), ln(1 - o) = -ln(1 + e^z)
            tk * -mp.log1p(mp.exp(-v)) + (1 - tk) * -mp.log1p(mp.exp(v))
            for tk, v in zip(t, _mp(z))
        )
        return [ref_sigmoid_pair(v)[0] for v in z], value
    o = ref_value(f, z) if f.name == "softmax" else [ref_value(f, v) for v in z]
    return o, mp.fsum((ok - tk) ** 2 for ok, tk in zip(o, t)) / 2  # L = 1/2 sum (o - t)^2


@precise
def ref_loss_gradient(loss: str, f: Activation, z, t):
    """dL/do at the exact o = f(z): -t/o, -t/o + (1 - t)/(1 - o), or o - t."""
    t = _mp(t)
    if loss == "cross_entropy":
        return [-tk / ok for tk, ok in zip(t, ref_value(f, z))]
    if loss == "binary_cross_entropy":
        pairs = [ref_sigmoid_pair(v) for v in z]
        return [-tk / o + (1 - tk) / one_minus_o for tk, (o, one_minus_o) in zip(t, pairs)]
    o = ref_value(f, z) if f.name == "softmax" else [ref_value(f, v) for v in z]
    return [ok - tk for ok, tk in zip(o, t)]


@precise
def ref_step(problem: Problem):
    """One training step of a bias-free network, by the chain rule, at the problem's doubles."""
    h, pre, post = _mp(problem.x), [], []
    for w, f in zip(problem.weights, problem.activations):
        u = [mp.fsum(mpf(float(wji)) * hi for wji, hi in zip(row, h)) for row in w]
        h = ref_value(f, u) if f.name == "softmax" else [ref_value(f, v) for v in u]
        pre.append(u)
        post.append(h)
    loss_name, out = problem.loss.name, problem.activations[-1]
    _, loss = ref_evaluate(loss_name, out, pre[-1], problem.target)
    grad_o = ref_loss_gradient(loss_name, out, pre[-1], problem.target)
    if loss_name == "binary_cross_entropy":
        # J^T dL/do with J = o(1 - o): taken apart here so that 1 - o is the exact 1/(1 + e^z)
        pairs = [ref_sigmoid_pair(v) for v in pre[-1]]
        t = _mp(problem.target)
        delta = [-tk * omo + (1 - tk) * o for tk, (o, omo) in zip(t, pairs)]
    else:
        delta = ref_backprop(out, pre[-1], grad_o)
    inputs = [_mp(problem.x), *post[:-1]]
    grad_post, grad_pre = [grad_o], [delta]
    grad_w = [[[d * hi for hi in inputs[-1]] for d in delta]]
    for l in range(len(pre) - 2, -1, -1):
        w = problem.weights[l + 1]
        grad_h = [
            mp.fsum(mpf(float(w[k][j])) * delta[k] for k in range(len(delta)))
            for j in range(w.shape[1])
        ]
        delta = ref_backprop(problem.activations[l], pre[l], grad_h)
        grad_post.insert(0, grad_h)
        grad_pre.insert(0, delta)
        grad_w.insert(0, [[d * hi for hi in inputs[l]] for d in delta])
    eta = mpf(problem.learning_rate)
    new = [
        [[mpf(float(wij)) - eta * gij for wij, gij in zip(row, grow)] for row, grow in zip(w, g)]
        for w, g in zip(problem.weights, grad_w)
    ]
    return {
        "pre": pre,
        "post": post,
        "loss": loss,
        "grad_post": grad_post,
        "grad_pre": grad_pre,
        "grad_weights": grad_w,
        "weights_new": new,
    }


# --- comparison -----------------------------------------------------------------------------------


@precise
def assert_close(got, ref, rtol=RTOL, scale=None, what=""):
    """|got - ref| <= rtol (|ref| + scale), elementwise, where scale (default 0) is the size of
    the rounded terms that a sum or difference is made of. Where the true value is below the
    smallest normal double, 0 or a subnormal is right."""
    got, ref = np.atleast_1d(np.asarray(got, dtype=float)).ravel(), _flatten(ref)
    scale = [0] * len(ref) if scale is None else _flatten(scale)
    assert len(got) == len(ref), what
    for k, (g, r, s) in enumerate(zip(got, ref, scale)):
        assert math.isfinite(g), f"{what}[{k}] = {g}, expected {mp.nstr(r, 17)}"
        if abs(r) < MIN_NORMAL and abs(g) < MIN_NORMAL:
            continue
        err = abs(mpf(float(g)) - r)
        ok = bool(err <= rtol * (abs(r) + abs(s)))
        assert ok, (
            f"{what}[{k}] = {g!r}, expected {mp.nstr(r, 20)}: "
            f"relative error {mp.nstr(err / abs(r), 3) if r else 'inf'}"
        )


def _flatten(values):
    if isinstance(values, list | tuple):
        return [x for v in values for x in _flatten(v)]
    return [_exact(values)]


def assert_huge(got, ref, weight, what=""):
    """A gradient that is beyond a double (or past e^690) is reported at about 1e300: finite,
    of the true sign, and at least weight * 1e299 in size, but no bigger than the truth."""
    assert math.isfinite(got), what
    assert (got > 0) == (ref > 0) and got != 0, f"{what} = {got}, expected {mp.nstr(ref, 5)}"
    assert weight * HUGE <= abs(got) <= abs(ref) * (1 + RTOL), f"{what} = {got}"


# --- losses: o and L ------------------------------------------------------------------------------


def distributions(n):
    """Every one-hot target, the uniform one and a skewed one."""
    out = [np.eye(n)[k] for k in range(n)] + [np.full(n, 1.0 / n)]
    if n > 1:
        skew = np.arange(1.0, n + 1)
        out.append(skew / skew.sum())
    return out


def bce_targets(n):
    return [np.zeros(n), np.ones(n), np.full(n, 0.3), np.arange(n) % 2.0, np.linspace(0, 1, n)]


@pytest.mark.parametrize("z", VECTORS, ids=vector_id)
def test_cross_entropy_o_and_loss(z):
    """Both are well conditioned in the doubles nnviz gets: ln o_k = (z_k - max z) - lse, two
    numbers <= 0 added, and the loss terms -t_k ln o_k are all >= 0, so a relative 1e-12 holds.
    o_k = e^(ln o_k) turns a relative error d of ln o_k into |ln o_k| d, at most 745 d where o_k
    is a normal double, still far inside 1e-12."""
    for t in distributions(z.size):
        o, value = LOSSES["cross_entropy"].evaluate(z, SOFTMAX, t)
        ref_o, ref_loss = ref_evaluate("cross_entropy", SOFTMAX, z, t)
        assert_close(o, ref_o, what=f"o at t={t}")
        assert_close(value, ref_loss, what=f"L at t={t}")


@pytest.mark.parametrize("z", VECTORS, ids=vector_id)
def test_binary_cross_entropy_o_and_loss(z):
    """o = sigmoid(z) is one exp and one division of exact |z|; each loss term t softplus(-z) +
    (1 - t) softplus(z) is >= 0, so both take a relative 1e-12."""
    for t in bce_targets(z.size):
        o, value = LOSSES["binary_cross_entropy"].evaluate(z, SIGMOID, t)
        ref_o, ref_loss = ref_evaluate("binary_cross_entropy", SIGMOID, z, t)
        assert_close(o, ref_o, what=f"o at t={t}")
        assert_close(value, ref_loss, what=f"L at t={t}")


@pytest.mark.parametrize(
    "f", [SOFTMAX, SIGMOID, Activation("tanh"), Activation("identity")], ids=str
)
@pytest.mark.parametrize("z", VECTORS, ids=vector_id)
def test_squared_error_o_and_loss(f, z):
    """o takes a relative 1e-12. L = 1/2 sum (o - t)^2 is a sum of squares, but o - t cancels
    where o is near t: a relative error d in o moves a term by |o - t| |o| d, so the bound is
    scaled by sum |o - t| (|o| + |t|)."""
    n = z.size
    for t in [np.eye(n)[0], np.full(n, 1.0 / n), np.full(n, -0.5), np.full(n, 1e18)]:
        o, value = LOSSES["squared_error"].evaluate(z, f, t)
        ref_o, ref_loss = ref_evaluate("squared_error", f, z, t)
        assert_close(o, ref_o, what=f"o at t={t}")
        scale = sum(abs(ok - tk) * (abs(ok) + abs(tk)) for ok, tk in zip(ref_o, t))
        assert_close(value, ref_loss, scale=scale, what=f"L at t={t}")


# --- losses: dL/do --------------------------------------------------------------------------------


@pytest.mark.parametrize("z", VECTORS, ids=vector_id)
def test_cross_entropy_gradient(z):
    """dL/do_k = -t_k / o_k, one division by an o_k good to 745 eps: relative 1e-12. Where o_k
    is below e^-690 it is reported at about 1e300 instead (documented)."""
    loss = LOSSES["cross_entropy"]
    for t in distributions(z.size):
        o, _ = loss.evaluate(z, SOFTMAX, t)
        grad = loss.gradient(z, o, t)
        ref_o = ref_value(SOFTMAX, z)
        ref = ref_loss_gradient("cross_entropy", SOFTMAX, z, t)
        for k in range(z.size):
            what = f"dL/do[{k}] at t={t}"
            if t[k] == 0:
                assert grad[k] == 0, what
            elif ref_o[k] > mp.exp(-CLIP) * (1 + 1e-9):
                assert_close(grad[k], ref[k], what=what)
            else:
                assert_huge(grad[k], ref[k], t[k], what)


@pytest.mark.parametrize("z", VECTORS, ids=vector_id)
def test_binary_cross_entropy_gradient(z):
    """dL/do = -t (1 + e^-z) + (1 - t)(1 + e^z): a difference, so the bound is scaled by the
    size of its two terms. Past |z| = 690 the exponential is held at e^690 (documented): the
    value is then huge, finite and of the true sign, or exact where that term has weight 0."""
    loss = LOSSES["binary_cross_entropy"]
    for t in bce_targets(z.size):
        grad = loss.gradient(z, SIGMOID.value(z), t)
        ref = ref_loss_gradient("binary_cross_entropy", SIGMOID, z, t)
        for k in range(z.size):
            what = f"dL/do[{k}] at z={z[k]}, t={t[k]}"
            with mp.workdps(DPS):
                zk, tk = mpf(z[k]), mpf(t[k])
                scale = abs(tk * (1 + mp.exp(-zk))) + abs((1 - tk) * (1 + mp.exp(zk)))
            clipped_weight = (1 - t[k]) if z[k] >= CLIP else t[k] if z[k] <= -CLIP else 0.0
            if clipped_weight == 0:
                assert_close(grad[k], ref[k], scale=scale, what=what)
            else:
                assert_huge(grad[k], ref[k], clipped_weight, what)


@pytest.mark.parametrize("f", [SOFTMAX, SIGMOID, Activation("identity")], ids=str)
def test_squared_error_gradient(f):
    """dL/do = o - t at the o given: one rounded subtraction, scaled by |o| + |t|."""
    for z in VECTORS:
        for t in distributions(z.size):
            o = f.value(z)
            with mp.workdps(DPS):
                ref = [mpf(ok) - mpf(tk) for ok, tk in zip(o, t)]
                scale = [abs(mpf(ok)) + abs(mpf(tk)) for ok, tk in zip(o, t)]
            assert_close(LOSSES["squared_error"].gradient(z, o, t), ref, scale=scale)


# --- activations ----------------------------------------------------------------------------------


@pytest.mark.parametrize("f", ELEMENTWISE, ids=str)
def test_activation_values_and_derivatives(f):
    """Each value and derivative is an exact operation, one libm call (exp, expm1, tanh) or a
    short product and quotient of one, at an exact argument (|u|, 2|u|, min(u, 0)), and each is
    well conditioned there: relative 1e-12, with no cancellation to allow for (ELU uses expm1,
    tanh' is 4 e^-2|u| / (1 + e^-2|u|)^2, not 1 - tanh^2)."""
    assert_close(f.value(SCALARS), [ref_value(f, u) for u in SCALARS], what=f"{f}(u)")
    derivative = [ref_derivative(f, u) for u in SCALARS]
    assert_close(f.derivative(SCALARS), derivative, what=f"{f}'(u)")
    g = np.linspace(-3.0, 2.0, SCALARS.size)
    assert_close(f.backprop(SCALARS, f.value(SCALARS), g), ref_backprop(f, SCALARS, g))


@pytest.mark.parametrize("z", VECTORS, ids=vector_id)
def test_softmax_value_and_backprop(z):
    """o_k = e^(z_k - max z) / sum: relative 1e-12 (see the cross-entropy test). J^T g =
    o (g - o.g) subtracts o.g from g_k: the bound is scaled by o_k (|g_k| + sum_j o_j |g_j|)."""
    o = SOFTMAX.value(z)
    ref_o = ref_value(SOFTMAX, z)
    assert_close(o, ref_o, what="softmax(z)")
    n = z.size
    grads = [np.ones(n), np.linspace(-2.0, 3.0, n), np.eye(n)[0] * 1e6, -np.eye(n)[-1] / 3]
    for g in grads:
        with mp.workdps(DPS):
            dot = mp.fsum(abs(ok * mpf(gk)) for ok, gk in zip(ref_o, g))
            scale = [ok * (abs(mpf(gk)) + dot) for ok, gk in zip(ref_o, g)]
        got = SOFTMAX.backprop(z, o, g)
        assert_close(got, ref_backprop(SOFTMAX, z, g), scale=scale, what=f"J^T g at g={g}")


# --- the engine, end to end -----------------------------------------------------------------------


def chain(output, loss, x=1000.0, last=(1000.0, 1000.0), target=(1.0, 0.0)):
    """The 1-1-1-1-1-2 identity network: x times 1000 four times, then two logits."""
    return Problem.from_dict(
        {
            "layers": [1, 1, 1, 1, 1, 2],
            "activations": ["identity"] * 4 + [output],
            "loss": loss,
            "x": [x],
            "target": list(target),
            "weights": [[[1000.0]]] * 4 + [[[last[0]], [last[1]]]],
            "biases": None,
            "learning_rate": 0.1,
        }
    )


def assert_step_matches_reference(problem):
    """Every value of one step against the reference: relative 1e-12, for these networks have no
    sum of terms of opposite sign but W5^T dL/dz, whose terms are exact. dL/do beyond a double
    is checked as reported at about 1e300."""
    p, ref = iterate(problem), ref_step(problem)
    fwd, bwd, depth = p.forward, p.backward, len(problem.weights)
    for l in range(depth):  # forward first, so that a failure names its first wrong value
        assert_close(fwd.pre[l], ref["pre"][l], what=f"pre[{l}]")
        assert_close(fwd.post[l], ref["post"][l], what=f"post[{l}]")
    assert_close(fwd.loss, ref["loss"], what="L")
    for k, (g, r) in enumerate(zip(bwd.grad_post[-1], ref["grad_post"][-1])):
        if abs(r) > HUGE:
            assert_huge(g, r, 1.0, f"dL/do[{k}]")
        else:
            assert_close(g, r, what=f"dL/do[{k}]")
    for l in reversed(range(depth)):
        assert_close(bwd.grad_pre[l], ref["grad_pre"][l], what=f"grad_pre[{l}]")
        assert_close(bwd.grad_weights[l], ref["grad_weights"][l], what=f"grad_weights[{l}]")
        if l < depth - 1:
            assert_close(bwd.grad_post[l], ref["grad_post"][l], what=f"grad_post[{l}]")
    for l in range(depth):  # w - eta g: scaled by |w|, since |w| + |w - eta g| >= |eta g|
        with mp.workdps(DPS):
            scale = [[abs(mpf(w)) for w in row] for row in problem.weights[l].tolist()]
        assert_close(p.updated.weights[l], ref["weights_new"][l], scale=scale, what=f"new W[{l}]")
    return p


def test_identity_chain_at_1e18_cross_entropy():
    """z = [1e18, 1e18]: o = [1/2, 1/2] and L = ln 2, where z - logaddexp.reduce(z) once gave
    o = [1, 1], L = 0 and dL/dW5 = [0, 1e15]."""
    p = assert_step_matches_reference(chain("softmax", "cross_entropy"))
    assert p.forward.pre[-1].tolist() == [1e18, 1e18]
    assert p.forward.post[-1].tolist() == [0.5, 0.5]
    assert p.forward.loss == pytest.approx(math.log(2), rel=1e-12)
    assert p.backward.grad_pre[-1].tolist() == [-0.5, 0.5]
    np.testing.assert_allclose(p.backward.grad_weights[-1], [[-5e14], [5e14]], rtol=1e-12)
    for g in p.backward.grad_weights[:-1]:  # W5^T dL/dz = 1000 (-0.5) + 1000 (0.5) = 0
        assert g.tolist() == [[0.0]]


def test_identity_chain_at_1e18_squared_error():
    """softmax + squared error: L = 1/4, dL/do = o - t, dL/dz = o (g - o.g) = [-1/4, 1/4]."""
    p = assert_step_matches_reference(chain("softmax", "squared_error"))
    assert p.forward.post[-1].tolist() == [0.5, 0.5]
    assert p.forward.loss == pytest.approx(0.25, rel=1e-12)
    assert p.backward.grad_pre[-1].tolist() == [-0.25, 0.25]
    np.testing.assert_allclose(p.backward.grad_weights[-1], [[-2.5e14], [2.5e14]], rtol=1e-12)


def test_identity_chain_at_1e18_binary_cross_entropy():
    """sigmoid + BCE, t = [1, 0]: o = [1, 1], L = softplus(1e18) = 1e18, dL/dz = [0, 1], and
    every dL/dW is 1e15 (1000 * 1e12, 1e6 * 1e9, ...). dL/do_2 = 1/(1 - o_2) = 1 + e^1e18 is
    beyond a double, reported at about 1e300."""
    p = assert_step_matches_reference(chain("sigmoid", "binary_cross_entropy"))
    assert p.forward.post[-1].tolist() == [1.0, 1.0]
    assert p.forward.loss == pytest.approx(1e18, rel=1e-12)
    assert p.backward.grad_pre[-1].tolist() == [0.0, 1.0]
    np.testing.assert_allclose(p.backward.grad_weights[-1], [[0.0], [1e15]], rtol=1e-12)
    for g in p.backward.grad_weights[:-1]:
        np.testing.assert_allclose(g, [[1e15]], rtol=1e-12)
    grad_o = p.backward.grad_post[-1]
    assert grad_o[0] == pytest.approx(-1.0, rel=1e-12)
    assert np.isfinite(grad_o[1]) and grad_o[1] > HUGE


@pytest.mark.parametrize(
    "output, loss",
    [
        ("softmax", "cross_entropy"),
        ("softmax", "squared_error"),
        ("sigmoid", "binary_cross_entropy"),
    ],
)
@pytest.mark.parametrize("x", [1000.0, 1.0, 1e-3], ids=["z=1e18", "z=1e15", "z=1e12"])
@pytest.mark.parametrize("last", [(1000.0, 1000.0), (1000.0, -1000.0)], ids=["tied", "opposed"])
@pytest.mark.parametrize("target", [(1.0, 0.0), (0.0, 1.0)], ids=str)
def test_identity_chain_against_reference(output, loss, x, last, target):
    """The same networks at three scales, with tied or opposite logits: with z = [1e18, -1e18]
    and t = [0, 1] the loss is 2e18 and every layer's gradient is nonzero."""
    assert_step_matches_reference(chain(output, loss, x, last, target))


@pytest.mark.parametrize(
    "output, loss, last, target",
    [
        ("sigmoid", "binary_cross_entropy", [[4e-17]], [1.0]),
        ("softmax", "cross_entropy", [[4e-17], [0.0]], [1.0, 0.0]),
    ],
    ids=["bce", "ce"],
)
def test_fused_output_gradient_where_o_rounds_to_its_target(output, loss, last, target):
    """x = 1e6 times 1e6 twice gives h2 = 1e18, and 4e-17 h2 = 40: o_1 = sigma(40) or
    softmax([40, 0])_1 = 1 - e^-40 is within rounding of o*_1 = 1. dL/dz_1 = -e^-40 / (1 + e^-40)
    = -4.25e-18 is a well-conditioned function of z, and h2 = 1e18 makes dL/dW3 = -4.25, which
    moves W3 from 4e-17 to 0.425 in one step."""
    problem = Problem.from_dict(
        {
            "layers": [1, 1, 1, len(target)],
            "activations": ["identity", "identity", output],
            "loss": loss,
            "x": [1e6],
            "target": target,
            "weights": [[[1e6]], [[1e6]], last],
            "biases": None,
            "learning_rate": 0.1,
        }
    )
    p = iterate(problem)
    truth = -math.exp(-40) / (1 + math.exp(-40))
    assert p.backward.grad_pre[-1][0] == pytest.approx(truth, rel=1e-12, abs=0)
    assert p.backward.grad_weights[-1][0, 0] == pytest.approx(truth * 1e18, rel=1e-12)
    assert p.updated.weights[-1][0, 0] == pytest.approx(4e-17 - 0.1 * truth * 1e18, rel=1e-12)
    assert_step_matches_reference(problem)


# --- random logits --------------------------------------------------------------------------------

LOGIT = st.builds(lambda sign, e: sign * 10.0**e, st.sampled_from([-1.0, 1.0]), st.floats(-3, 18))


@st.composite
def logit_vectors(draw):
    """1 to 8 logits of sizes 1e-3 to 1e18, independent, or in a cluster a few units wide."""
    n = draw(st.integers(1, 8))
    if draw(st.booleans()):
        return np.array(draw(st.lists(LOGIT, min_size=n, max_size=n)))
    offsets = draw(st.lists(st.floats(-60, 60), min_size=n, max_size=n))
    return draw(LOGIT) + np.array(offsets)


@st.composite
def logits_and_distribution(draw):
    z = draw(logit_vectors())
    if draw(st.booleans()):
        return z, np.eye(z.size)[draw(st.integers(0, z.size - 1))]
    t = np.array(draw(st.lists(st.floats(0, 1), min_size=z.size, max_size=z.size)))
    return z, (t / t.sum() if t.sum() > 0 else np.full(z.size, 1.0 / z.size))


@settings(max_examples=200, deadline=None)
@given(logits_and_distribution())
def test_cross_entropy_random_logits(zt):
    z, t = zt
    o, value = LOSSES["cross_entropy"].evaluate(z, SOFTMAX, t)
    ref_o, ref_loss = ref_evaluate("cross_entropy", SOFTMAX, z, t)
    assert_close(o, ref_o, what="o")
    assert_close(value, ref_loss, what="L")


@settings(max_examples=200, deadline=None)
@given(logit_vectors(), st.data())
def test_binary_cross_entropy_random_logits(z, data):
    target = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1))
    t = np.array(data.draw(st.lists(target, min_size=z.size, max_size=z.size)))
    o, value = LOSSES["binary_cross_entropy"].evaluate(z, SIGMOID, t)
    ref_o, ref_loss = ref_evaluate("binary_cross_entropy", SIGMOID, z, t)
    assert_close(o, ref_o, what="o")
    assert_close(value, ref_loss, what="L")
