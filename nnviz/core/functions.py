"""Activations and losses: value, derivative and blackboard formula, in one table.

Each is written so that it stays finite and silent for any finite input: ELU uses expm1 on
its negative part only, the sigmoid never exponentiates a positive number, and the losses
that pair with softmax or sigmoid are computed from the pre-activation (log-softmax, softplus),
so a probability that rounds to 0 or 1 never reaches a logarithm.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# e^690 is about 1e300: the size at which 1/o and e^z are reported when they would overflow
_LOG_CEILING = 690.0
_TINY = math.exp(-_LOG_CEILING)


def _softplus(a):
    """ln(1 + e^a) without overflow."""
    return np.logaddexp(0.0, a)


def _log_softmax(z):
    """ln softmax(z) = s - ln sum e^s with s = z - max z: shifted first, so that the sum is
    taken of numbers at most 0 and a logit of 1e18 loses nothing to rounding; logaddexp keeps
    ln(1 + tiny) exact where o_k is within rounding of 1."""
    s = z - np.maximum.reduce(z)
    return s - np.logaddexp.reduce(s)


@dataclass(frozen=True)
class ActivationFunction:
    """One activation function, whole: what the engine computes, what the board writes, and
    what the sidebar offers. Adding one to ACTIVATIONS is all it takes."""

    name: str  # in problem files
    title: str  # in step titles: ELU
    board: str  # in equations: \mathrm{ELU}
    value: Callable  # (u, parameter) -> h
    derivative: Callable | None  # (u, parameter) -> f'(u); None for one that mixes its neurons
    latex: str  # its formula; ALPHA stands for the parameter
    derivative_latex: str
    parameter: tuple[str, float] | None = None  # its name in files, and its default
    output_only: bool = False  # softmax: a probability over the outputs
    kinked: bool = False  # not differentiable at u = 0: a finite difference there is a chord
    backprop: Callable | None = None  # (u, h, dL/dh) -> dL/du, for one that mixes its neurons
    jacobian: Callable | None = None  # (u, h) -> dh/du, for one that mixes its neurons


def _elu(u, a):
    negative = np.expm1(np.minimum(u, 0.0))
    return np.maximum(u, 0.0) + (negative if a == 1.0 else a * negative)  # 1.0 * saved


def _elu_derivative(u, a):
    if a == 1.0:  # ELU'(u) = e^min(u, 0): the u >= 0 branch gives e^0 = 1
        return np.exp(np.minimum(u, 0.0))
    return np.where(u >= 0, 1.0, a * np.exp(np.minimum(u, 0.0)))


def _sigmoid(u, a):
    e = np.exp(-np.abs(u))
    return np.where(u >= 0, 1.0, e) / (1.0 + e)


def _sigmoid_derivative(u, a):
    e = np.exp(-np.abs(u))
    return e / (1.0 + e) ** 2


def _tanh_derivative(u, a):  # 1 - tanh^2 u, written so that it does not round to 0 for large |u|
    e = np.exp(-2.0 * np.abs(u))
    return 4.0 * e / (1.0 + e) ** 2


def _softmax(u, a):
    e = np.exp(u - np.maximum.reduce(u))
    return e / np.add.reduce(e)


ACTIVATIONS: dict[str, ActivationFunction] = {
    f.name: f
    for f in (
        ActivationFunction(
            "elu",
            "ELU",
            r"\mathrm{ELU}",
            _elu,
            _elu_derivative,
            r"\mathrm{ELU}(u) = "
            r"\begin{cases} u & u \ge 0 \\ ALPHA\,(e^{u} - 1) & u < 0 \end{cases}",
            r"\mathrm{ELU}'(u) = \begin{cases} 1 & u \ge 0 \\ ALPHA\,e^{u} & u < 0 \end{cases}",
            parameter=("alpha", 1.0),
        ),
        ActivationFunction(
            "relu",
            "ReLU",
            r"\mathrm{ReLU}",
            lambda u, a: np.maximum(u, 0.0),
            lambda u, a: (u > 0).astype(float),
            r"\mathrm{ReLU}(u) = \max(0, u)",
            r"\mathrm{ReLU}'(u) = \begin{cases} 1 & u > 0 \\ 0 & u \le 0 \end{cases}",
            kinked=True,
        ),
        ActivationFunction(
            "leaky_relu",
            "LReLU",
            r"\mathrm{LReLU}",
            lambda u, a: np.where(u >= 0, u, a * u),
            lambda u, a: np.where(u >= 0, 1.0, a),
            r"\mathrm{LReLU}(u) = \begin{cases} u & u \ge 0 \\ ALPHA\,u & u < 0 \end{cases}",
            r"\mathrm{LReLU}'(u) = \begin{cases} 1 & u \ge 0 \\ ALPHA & u < 0 \end{cases}",
            parameter=("negative_slope", 0.01),
            kinked=True,
        ),
        ActivationFunction(
            "sigmoid",
            "σ",
            r"\sigma",
            _sigmoid,
            _sigmoid_derivative,
            r"\sigma(u) = \frac{1}{1 + e^{-u}}",
            r"\sigma'(u) = \sigma(u)\,(1 - \sigma(u))",
        ),
        ActivationFunction(
            "tanh",
            "tanh",
            r"\tanh",
            lambda u, a: np.tanh(u),
            _tanh_derivative,
            r"\tanh(u) = \frac{e^{u} - e^{-u}}{e^{u} + e^{-u}}",
            r"\tanh'(u) = 1 - \tanh^2(u)",
        ),
        ActivationFunction(
            "identity",
            "identity",
            "f",
            lambda u, a: u.copy(),
            lambda u, a: np.ones_like(u),
            r"f(u) = u",
            r"f'(u) = 1",
        ),
        ActivationFunction(
            "softmax",
            "softmax",
            r"\mathrm{softmax}",
            _softmax,
            None,
            r"\mathrm{softmax}(z)_k = \frac{e^{z_k}}{\sum_{k'} e^{z_{k'}}}",
            r"\frac{\partial o_k}{\partial z_{k'}} = o_k\,(\delta_{kk'} - o_{k'})",
            output_only=True,
            # J = diag(h) - h h^T, so J^T g = h * (g - h.g) without building J
            backprop=lambda u, h, g: h * (g - h @ g),
            jacobian=lambda u, h: np.diag(h) - np.outer(h, h),
        ),
    )
}


def activation_names(output: bool = True) -> tuple[str, ...]:
    """The activations a layer may have: any for the output layer, else the hidden ones."""
    return tuple(n for n, f in ACTIVATIONS.items() if output or not f.output_only)


@dataclass(frozen=True)
class Activation:
    """h = f(u) applied to one layer, with its parameter where it has one."""

    name: str
    parameter: float | None = None  # ELU's alpha or leaky ReLU's negative slope

    def __post_init__(self):
        if self.name not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {self.name!r}; expected one of {activation_names()}"
            )
        if self.parameter is None and self.function.parameter:
            object.__setattr__(self, "parameter", self.function.parameter[1])

    @property
    def function(self) -> ActivationFunction:
        return ACTIVATIONS[self.name]

    @property
    def mixes(self) -> bool:
        """Whether each output depends on every input (softmax), not on its own alone."""
        return self.function.derivative is None

    def value(self, u):
        return self.function.value(u, self.parameter)

    def derivative(self, u):
        """f'(u), elementwise. One that mixes its neurons has a Jacobian instead."""
        if self.mixes:
            raise ValueError(f"{self.name} has a Jacobian, not an elementwise derivative")
        return self.function.derivative(u, self.parameter)

    def jacobian(self, u, h):
        """dh/du as a matrix, to show; backprop never builds it."""
        if self.mixes:
            return self.function.jacobian(u, h)
        return np.diag(self.derivative(u))

    def backprop(self, u, h, grad_h):
        """dL/du = J^T dL/dh, where J = dh/du is this layer's Jacobian."""
        if self.mixes:
            return self.function.backprop(u, h, grad_h)
        return grad_h * self.function.derivative(u, self.parameter)

    @property
    def latex(self) -> str:
        return self._with_parameter(self.function.latex)

    @property
    def derivative_latex(self) -> str:
        return self._with_parameter(self.function.derivative_latex)

    def _with_parameter(self, latex: str) -> str:
        """The formula with its parameter written in; a factor of 1 is left out."""
        if self.parameter is None:
            return latex
        factor = "" if self.parameter == 1 else f"{self.parameter:g}\\,"
        return latex.replace("ALPHA\\,", factor).replace("ALPHA", f"{self.parameter:g}")

    def to_json(self):
        if self.parameter is None:
            return self.name
        return {"name": self.name, self.function.parameter[0]: self.parameter}

    def __str__(self):
        if self.parameter is None:
            return self.name
        return f"{self.name} ({self.function.parameter[0]} {self.parameter:g})"


@dataclass(frozen=True)
class Loss:
    """L(o, o*), whole: its formulas, the output activation it is made for (that pairing gives
    dL/dz = o - o*), and how to compute it. Each computation is given z where z gave this o, so
    that it stays finite for any logits, or z None where o is a student's own, not f(z): then it
    is taken from o, as the student computes it. Adding one to LOSSES is all it takes."""

    name: str
    output_activation: str | None
    latex: str
    gradient_latex: str  # dL/do_k
    from_z: Callable  # (z, o, o*) -> L_k, the terms that sum to L, one an output
    from_o: Callable  # (o, o*) -> L_k
    gradient_from_z: Callable  # (z, o, o*) -> dL/do
    gradient_from_o: Callable  # (o, o*) -> dL/do
    delta_from_z: Callable | None = None  # (z, o, o*) -> dL/dz, for its output activation
    log_output: Callable | None = None  # z -> ln o, where o is best computed through its log

    def output(self, z, activation: Activation):
        """o = f(z); through ln o where the loss computes it so, so that o and L agree."""
        return np.exp(self.log_output(z)) if self.log_output else activation.value(z)

    def terms(self, z, o, target) -> np.ndarray:
        """L_k: the part of L that each output contributes; they sum to L."""
        if z is None:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.asarray(self.from_o(o, target), dtype=float)
        return np.asarray(self.from_z(z, o, target), dtype=float)

    def value(self, z, o, target) -> float:
        return self.total(self.terms(z, o, target))

    @staticmethod
    def total(terms) -> float:
        """L from its terms."""
        return float(np.add.reduce(terms))

    def evaluate(self, z, activation: Activation, target):
        """o = output(z) and L = value(z, o, o*)."""
        o = self.output(z, activation)
        return o, self.value(z, o, target)

    def gradient(self, z, o, target):
        """dL/do. Where it is beyond a double (o* > 0 and o rounds to 0) it is reported at
        about 1e300 in size rather than as infinity."""
        if z is None:
            with np.errstate(divide="ignore", invalid="ignore"):
                return self.gradient_from_o(o, target)
        return self.gradient_from_z(z, o, target)

    def output_delta(self, z, o, target):
        """dL/dz = o - o* with the output activation it is made for; from z, it stays exact
        where o is within rounding of its target."""
        return o - target if z is None else self.delta_from_z(z, o, target)


def _softmax_delta(z, o, target):
    """Only the largest o can be near 1, so 1 - o there is the sum of the rest: at z = 40,
    o = 1 - 4e-18 rounds to 1, yet dL/dz = -4e-18 can multiply an activation of 1e18."""
    delta = o - target
    k = np.argmax(o)
    if o[k] > 0.5:
        delta[k] = (1.0 - target[k]) - (o[:k].sum() + o[k + 1 :].sum())
    return delta


def _sigmoid_delta(z, o, target):
    tail = np.exp(-np.abs(z))  # sigma(-|z|), which is 1 - o for z > 0
    tail = tail / (1.0 + tail)
    return np.where(z > 0, (1.0 - target) - tail, tail - target)


def _bce_gradient(z, o, target):
    """-o*/o + (1 - o*)/(1 - o), with 1/o = 1 + e^-z and 1/(1 - o) = 1 + e^z."""
    zc = np.clip(z, -_LOG_CEILING, _LOG_CEILING)
    return -target * (1.0 + np.exp(-zc)) + (1.0 - target) * (1.0 + np.exp(zc))


def _ce_gradient(z, o, target):
    return target / -np.maximum(o, _TINY)


LOSSES = {
    loss.name: loss
    for loss in (
        Loss(
            "cross_entropy",
            "softmax",
            r"\mathcal{L} = -\sum_k o^*_k \ln o_k",
            r"\frac{\partial \mathcal{L}}{\partial o_k} = -\frac{o^*_k}{o_k}",
            from_z=lambda z, o, t: -(t * _log_softmax(z)),
            from_o=lambda o, t: -np.where(t > 0, t * np.log(o), 0.0),  # o*_k = 0: no term
            gradient_from_z=_ce_gradient,
            gradient_from_o=lambda o, t: _ce_gradient(None, o, t),
            delta_from_z=lambda z, o, t: _softmax_delta(z, o, t),
            log_output=_log_softmax,
        ),
        Loss(
            "binary_cross_entropy",
            "sigmoid",
            r"\mathcal{L} = -\sum_k \left[ o^*_k \ln o_k + (1 - o^*_k) \ln (1 - o_k) \right]",
            r"\frac{\partial \mathcal{L}}{\partial o_k} = "
            r"-\frac{o^*_k}{o_k} + \frac{1 - o^*_k}{1 - o_k}",
            # ln o = -softplus(-z) and ln(1 - o) = -softplus(z) for o = sigmoid(z)
            from_z=lambda z, o, t: t * _softplus(-z) + (1.0 - t) * _softplus(z),
            from_o=lambda o, t: -(t * np.log(o) + (1 - t) * np.log(1 - o)),
            gradient_from_z=_bce_gradient,
            gradient_from_o=lambda o, t: -t / o + (1 - t) / (1 - o),
            delta_from_z=_sigmoid_delta,
        ),
        Loss(
            "squared_error",
            None,
            r"\mathcal{L} = \frac{1}{2} \sum_k (o_k - o^*_k)^2",
            r"\frac{\partial \mathcal{L}}{\partial o_k} = o_k - o^*_k",
            from_z=lambda z, o, t: 0.5 * (o - t) ** 2,
            from_o=lambda o, t: 0.5 * (o - t) ** 2,
            gradient_from_z=lambda z, o, t: o - t,
            gradient_from_o=lambda o, t: o - t,
        ),
    )
}
