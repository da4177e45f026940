"""One iteration in three phases, as a lecturer teaches it: forward, backward, update.

Weight layer l maps layer l to layer l+1: u = W h_prev (+ b), h = f(u). In the seed's names
layer 0 gives u and h from v, layer 1 gives z and o from w. Every intermediate value is kept,
because the stepper, the worksheet and the grader all show them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnviz.core.problem import Problem

SOLUTION_FORMAT = "nnviz-solution/1"


# Not frozen: a frozen dataclass costs a microsecond more to build, a tenth of a small step.
@dataclass(slots=True)
class Forward:
    pre: tuple[np.ndarray, ...]  # u, then z
    post: tuple[np.ndarray, ...]  # h, then o
    loss_terms: np.ndarray  # L_k, what each output adds to L
    loss: float


@dataclass(slots=True)
class Backward:
    grad_post: tuple[np.ndarray, ...]  # dL/dh, then dL/do
    slopes: tuple[np.ndarray | None, ...]  # f'(u), then g'(z); None for a layer that mixes
    grad_pre: tuple[np.ndarray, ...]  # dL/du, then dL/dz
    grad_weights: tuple[np.ndarray, ...]  # dL/dv, then dL/dw
    grad_biases: tuple[np.ndarray, ...] | None


@dataclass(slots=True)
class Iteration:
    """Everything one iteration computes, and the problem it leaves for the next one."""

    problem: Problem
    forward: Forward
    backward: Backward
    updated: Problem

    def to_dict(self) -> dict:
        """The solution format (shared spec, section 2), at full precision."""
        f, b, new = self.forward, self.backward, self.updated
        layers = []
        for l in range(len(f.pre)):
            layer = {
                "pre": f.pre[l].tolist(),
                "post": f.post[l].tolist(),
                "grad_post": b.grad_post[l].tolist(),
                "grad_pre": b.grad_pre[l].tolist(),
                "grad_weights": b.grad_weights[l].tolist(),
            }
            if b.grad_biases is not None:
                layer["grad_biases"] = b.grad_biases[l].tolist()
            layer["weights_new"] = new.weights[l].tolist()
            if new.biases is not None:
                layer["biases_new"] = new.biases[l].tolist()
            layers.append(layer)
        return {
            "format": SOLUTION_FORMAT,
            "problem": self.problem.to_dict(),
            "loss": f.loss,
            "output": f.post[-1].tolist(),
            "layers": layers,
        }


# --- the operations of an iteration: the engine and the grader's student world both use these


def pre_activation(problem: Problem, l: int, h) -> np.ndarray:
    """u = W h (+ b) of weight layer l."""
    u = problem.weights[l] @ h
    return u if problem.biases is None else u + problem.biases[l]


def activation(problem: Problem, l: int, u) -> np.ndarray:
    """h = f(u); the output layer's through its loss (log-softmax for cross-entropy)."""
    f = problem.activations[l]
    return problem.loss.output(u, f) if l == len(problem.weights) - 1 else f.value(u)


def slope(problem: Problem, l: int, u) -> np.ndarray | None:
    """f'(u) of weight layer l's activation; None for one that mixes its neurons (softmax),
    whose derivative is a Jacobian."""
    f = problem.activations[l]
    return None if f.mixes else f.derivative(u)


def fused(problem: Problem) -> bool:
    """Whether the loss is made for the output layer: softmax + cross-entropy, sigmoid + binary
    cross-entropy. Then dL/dz = o - o*."""
    return problem.loss.output_activation == problem.activations[-1].name


def output_delta(problem: Problem, z, o, grad_o, g, z_gave_o: bool = True) -> np.ndarray:
    """dL/dz: o - o* where the loss is made for the output layer, else back through the output
    layer: dL/do g'(z), or its Jacobian where it mixes. A student's own o is not f(z): then
    o - o* is taken from o alone."""
    if fused(problem):
        return problem.loss.output_delta(z if z_gave_o else None, o, problem.target)
    return pre_gradient(problem, len(problem.weights) - 1, z, o, grad_o, g)


def pre_gradient(problem: Problem, l: int, u, h, grad_h, f_prime) -> np.ndarray:
    """dL/du = dL/dh f'(u), elementwise; through the Jacobian where the layer mixes."""
    if f_prime is None:
        return problem.activations[l].backprop(u, h, grad_h)
    return grad_h * f_prime


def hidden_gradient(problem: Problem, l: int, delta) -> np.ndarray:
    """dL/dh of the layer below weight layer l: W^T dL/du."""
    return problem.weights[l].T @ delta


def weight_gradient(delta, h) -> np.ndarray:
    """dL/dW = dL/du h^T."""
    return delta[:, None] * h


def descent(value, gradient, eta: float) -> np.ndarray:
    """One step of gradient descent: value - eta gradient."""
    return value - eta * gradient


# --- the iteration ------------------------------------------------------------------------------


def forward(problem: Problem) -> Forward:
    pre, post = [], []
    h = problem.x
    for l in range(len(problem.weights)):
        u = pre_activation(problem, l, h)
        h = activation(problem, l, u)
        pre.append(u)
        post.append(h)
    terms = problem.loss.terms(pre[-1], post[-1], problem.target)
    return Forward(tuple(pre), tuple(post), terms, problem.loss.total(terms))


def backward(problem: Problem, fwd: Forward) -> Backward:
    pre, post = fwd.pre, fwd.post
    inputs = (problem.x, *post[:-1])
    grad_o = problem.loss.gradient(pre[-1], post[-1], problem.target)
    g = slope(problem, len(pre) - 1, pre[-1])
    delta = output_delta(problem, pre[-1], post[-1], grad_o, g)
    # built from the output back, then turned round
    grad_post, slopes, grad_pre = [grad_o], [g], [delta]
    grad_weights = [weight_gradient(delta, inputs[-1])]
    for l in range(len(pre) - 2, -1, -1):
        grad_h = hidden_gradient(problem, l + 1, delta)
        f_prime = slope(problem, l, pre[l])
        delta = pre_gradient(problem, l, pre[l], post[l], grad_h, f_prime)
        grad_post.append(grad_h)
        slopes.append(f_prime)
        grad_pre.append(delta)
        grad_weights.append(weight_gradient(delta, inputs[l]))
    grad_pre.reverse()
    grad_biases = None if problem.biases is None else tuple(grad_pre)  # dL/db = dL/du
    return Backward(
        tuple(grad_post[::-1]),
        tuple(slopes[::-1]),
        tuple(grad_pre),
        tuple(grad_weights[::-1]),
        grad_biases,
    )


def update(problem: Problem, bwd: Backward) -> Problem:
    """Gradient descent: every parameter moves by -eta times its gradient."""
    eta = problem.learning_rate
    weights = [descent(w, g, eta) for w, g in zip(problem.weights, bwd.grad_weights)]
    biases = None
    if problem.biases is not None:
        biases = [descent(b, g, eta) for b, g in zip(problem.biases, bwd.grad_biases)]
    return problem.with_parameters(weights, biases)


def iterate(problem: Problem) -> Iteration:
    """One iteration of gradient descent: the forward pass, the loss, the backward pass and the
    update."""
    fwd = forward(problem)
    bwd = backward(problem, fwd)
    return Iteration(problem, fwd, bwd, update(problem, bwd))


@dataclass(frozen=True, slots=True)
class ParameterCheck:
    kind: str  # "weights" or "biases"
    layer: int  # 0-based weight layer
    index: tuple[int, ...]  # 0-based, (to, from) for a weight
    analytic: float
    numeric: float
    # |analytic - numeric| / max(|analytic|, |numeric|); None where both are within the rounding
    # noise of zero, as a zero gradient is: a relative error of noise against 0 says nothing
    relative_error: float | None
    passed: bool


def gradient_check(problem: Problem, h: float = 1e-4, rtol: float = 1e-6) -> list[ParameterCheck]:
    """Finite differences against backprop, for every weight and bias.

    The five-point central difference, (-L(p+2h) + 8 L(p+h) - 8 L(p-h) + L(p-2h)) / 12h, is
    exact up to h^4 terms, so a fairly large h keeps rounding small. A parameter passes when the
    two agree within rtol, or within the rounding noise of the quotient itself (about
    10 eps |L| / h), which is all a finite difference can resolve of a gradient near zero.
    """
    fwd = forward(problem)
    bwd = backward(problem, fwd)
    checks = []
    for kind in ("weights", "biases") if problem.biases is not None else ("weights",):
        grads = bwd.grad_weights if kind == "weights" else bwd.grad_biases
        for l, g in enumerate(grads):
            for index in np.ndindex(g.shape):
                analytic = float(g[index])
                # Nudges that straddle the kink of an ELU at u = 0 need a finer h to agree.
                for step in (h, h / 100):
                    numeric, passed, noise = _compare(problem, kind, l, index, step, analytic, rtol)
                    if passed:
                        break
                diff, scale = abs(analytic - numeric), max(abs(analytic), abs(numeric))
                relative = None if scale <= noise else diff / scale
                checks.append(ParameterCheck(kind, l, index, analytic, numeric, relative, passed))
    return checks


def _compare(problem, kind, l, index, h, analytic, rtol) -> tuple[float, bool, float]:
    at = [_nudged_loss(problem, kind, l, index, k * h) for k in (-2, -1, 1, 2)]
    numeric = (at[0] - 8 * at[1] + 8 * at[2] - at[3]) / (12 * h)
    noise = 10 * np.finfo(float).eps * max(abs(at[1]), abs(at[2]), 1.0) / h
    diff, scale = abs(analytic - numeric), max(abs(analytic), abs(numeric))
    return numeric, bool(diff <= max(rtol * scale, noise)), noise


def _nudged_loss(problem: Problem, kind: str, l: int, index, h: float) -> float:
    """The loss with one parameter moved by h."""
    params = list(getattr(problem, kind))
    params[l] = params[l].copy()
    params[l][index] += h
    if kind == "weights":
        return forward(problem.with_parameters(params, problem.biases)).loss
    return forward(problem.with_parameters(problem.weights, params)).loss
