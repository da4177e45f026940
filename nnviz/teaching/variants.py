"""Variants of a problem for a class: the template's network with other numbers, one per student
(shared spec, section 11). Pure, no files: `generate` writes what this draws.

Every variant keeps the template's layers, activations, loss, biases (or none), learning rate and
kind of target, and draws new inputs, weights, biases and targets as whole multiples of 10^-D.
Only integers come out of the random generator (NumPy's `default_rng(seed)`: PCG64 and its
integer sampling depend on no platform's floating point), and each number is that integer
divided by 10^D, one correctly rounded division. So a seed gives the same variants, bit for bit,
on every machine (with the same NumPy: NumPy keeps the right to change a stream between
releases, and a test pins this one).

A variant must be easy to mark. Near a kink, an answer rounded either way may sit on the other
branch of the derivative; near certainty, the loss and its gradients are a matter of rounding.
So a draw that breaks a rule is drawn again: the rows of a layer's weights (and biases) that
give a pre-activation too near a kink, or the whole output layer where softmax puts more than
0.99 on one output; and the whole variant where that does not settle, where a value of its
worked step leaves the format's range, or where it repeats an earlier variant. The attempts are
capped, so that a template that cannot keep the rules is refused, saying which rule it keeps
breaking.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from nnviz.core.engine import Iteration, iterate
from nnviz.core.functions import Activation
from nnviz.core.notation import element_name, layer_symbols
from nnviz.core.problem import LIMIT, MAX_TITLE, Problem

MAX_COUNT = 10_000
MAX_DECIMALS = 4
KINK_MARGIN = 0.05  # no pre-activation this close to a kink
MAX_PROBABILITY = 0.99  # no output probability above this
# A pre-activation of a ReLU network is a short decimal: one exactly 0.05 from the kink is
# refused whatever the rounding of its computation, on any machine.
_SLACK = 1e-9
ROW_ATTEMPTS = 50  # redraws of a layer's bad rows before the whole variant is drawn again
VARIANT_ATTEMPTS = 100  # whole draws for one variant before the template is refused
PROBABILITY_OUTPUTS = ("softmax", "sigmoid")

KINK, PROBABILITY, RANGE, REPEAT = "kink", "probability", "range", "repeat"
REASONS = {
    KINK: f"a pre-activation within {KINK_MARGIN:g} of a kink",
    PROBABILITY: f"an output probability above {MAX_PROBABILITY:g}",
    RANGE: f"a value beyond {LIMIT:.0e} in size".replace("e+0", "e"),
    REPEAT: "a repeat of an earlier variant",
}


class VariantError(ValueError):
    """A template that cannot give the variants asked for. The message is one line."""


@dataclass(frozen=True)
class Variant:
    number: int  # 1-based, as its title and its file names say
    problem: Problem
    iteration: Iteration  # its worked step, which the rules were checked on


@dataclass(frozen=True)
class Drawn:
    variants: tuple[Variant, ...]
    redrawn: Counter  # how often each rule (a key of REASONS) made a redraw


def kinks(activation: Activation) -> tuple[float, ...]:
    """Where the activation's derivative jumps: u = 0 for ReLU and leaky ReLU (the functions
    table marks them `kinked`), and for ELU with alpha != 1, whose slope is 1 on the right and
    alpha on the left. ELU with alpha = 1 has none: its slope e^u meets 1 at 0, so a value near
    0 is marked the same on either branch."""
    if activation.function.kinked:
        return (0.0,)
    if activation.name == "elu" and activation.parameter != 1.0:
        return (0.0,)
    return ()


def broken_rule(p: Iteration) -> tuple[str, str] | None:
    """The first rule the worked step breaks, as (reason, what and where), or None."""
    problem = p.problem
    symbols = layer_symbols(problem.layers)
    for l, (u, act) in enumerate(zip(p.forward.pre, problem.activations)):
        for kink in kinks(act):
            near = np.flatnonzero(np.abs(u - kink) <= KINK_MARGIN + _SLACK)
            if near.size:
                name = element_name(symbols[l].pre, (int(near[0]) + 1,))
                return KINK, f"{name} = {u[near[0]]:.6g}, near the kink of {act.name} at {kink:g}"
    o = p.forward.post[-1]
    if problem.activations[-1].name in PROBABILITY_OUTPUTS and np.any(o > MAX_PROBABILITY):
        k = int(np.argmax(o))
        return PROBABILITY, f"{element_name(symbols[-1].post, (k + 1,))} = {o[k]:.6g}"
    for name, value in _values(p):
        a = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(a)) or np.any(np.abs(a) > LIMIT):
            return RANGE, f"{name} leaves the range of the format"
    return None


def _values(p: Iteration):
    """Every number of the worked step, by what it is."""
    f, b, new = p.forward, p.backward, p.updated
    yield "the loss", f.loss
    for l in range(len(f.pre)):
        yield f"pre-activation {l + 1}", f.pre[l]
        yield f"activation {l + 1}", f.post[l]
        yield f"dL/dh of layer {l + 1}", b.grad_post[l]
        yield f"dL/du of layer {l + 1}", b.grad_pre[l]
        yield f"dL/dW of layer {l + 1}", b.grad_weights[l]
        yield f"the new weights of layer {l + 1}", new.weights[l]
        if new.biases is not None:
            yield f"the new biases of layer {l + 1}", new.biases[l]


def title(template: Problem, number: int) -> str:
    """'<template title> — variant 7', the template's title cut short where both would pass
    the format's 200 characters."""
    base = template.heading
    suffix = f" — variant {number}"
    if len(base) + len(suffix) > MAX_TITLE:
        base = base[: MAX_TITLE - len(suffix) - 1].rstrip() + "…"
    return base + suffix


# --- the draw ---------------------------------------------------------------------------------


def draw(template: Problem, count: int, seed: int, decimals: int = 1) -> Drawn:
    """`count` variants of `template`, each keeping the rules, all different."""
    if not 1 <= count <= MAX_COUNT:
        raise VariantError(f"count is {count}; expected a whole number from 1 to {MAX_COUNT}")
    if not 0 <= decimals <= MAX_DECIMALS:
        raise VariantError(f"decimals is {decimals}; expected 0 to {MAX_DECIMALS}")
    out = template.activations[-1]
    if out.mixes and template.layers[-1] == 1:
        raise VariantError(
            f"the output layer is {out.name} of one neuron, whose output is always 1: above "
            f"{MAX_PROBABILITY:g}, so no variant keeps the rules; give it two outputs or more"
        )
    return _Drawer(template, np.random.default_rng(seed), decimals).draw(count)


ONE_HOT, BINARY, DISTRIBUTION, FRACTIONS, VALUES = (
    "one-hot",
    "binary",
    "distribution",
    "fractions",
    "values",
)


def target_kind(template: Problem) -> str:
    """What kind of target the template has, which every variant keeps: one-hot (a class),
    binary (each output 0 or 1), a distribution (cross-entropy's soft target), fractions (each
    in [0, 1]) or values (a regression's, in the template's range)."""
    t = template.target
    binary = bool(np.all((t == 0) | (t == 1)))
    one_hot = binary and t.sum() == 1 and t.size > 1
    if template.loss.name == "cross_entropy":
        return ONE_HOT if binary else DISTRIBUTION
    if one_hot:
        return ONE_HOT
    if binary:
        return BINARY
    if template.loss.name == "binary_cross_entropy" or bool(np.all((t >= 0) & (t <= 1))):
        return FRACTIONS
    return VALUES


class _Drawer:
    def __init__(self, template: Problem, rng: np.random.Generator, decimals: int):
        self.template, self.rng, self.unit = template, rng, 10**decimals
        self.layers = template.layers
        self.kind = target_kind(template)
        t = template.target
        low, high = math.floor(min(t.min(), 0.0)), math.ceil(max(t.max(), 1.0))
        self.target_range = (low * self.unit, high * self.unit)
        self.x_scale = self._scale(template.x)
        self.w_scales = [self._scale(w) for w in template.weights]
        self.b_scales = None
        if template.biases is not None:
            self.b_scales = [self._scale(b) for b in template.biases]
        self.redrawn: Counter = Counter()

    def _scale(self, a: np.ndarray) -> int:
        """K: the numbers are drawn from -K to K units of 10^-D, K covering the template's
        largest in size, so that a variant looks like its template; a template of zeros draws
        from -1 to 1."""
        top = float(np.max(np.abs(a)))
        k = math.ceil(top * self.unit * (1 - 1e-12))  # 0.3 * 10 is 3.0000000000000004
        return k if k > 0 else self.unit

    def _integers(self, k: int, shape) -> np.ndarray:
        return self.rng.integers(-k, k, size=shape, endpoint=True, dtype=np.int64)

    def draw(self, count: int) -> Drawn:
        seen, out = set(), []
        for number in range(1, count + 1):
            reasons: Counter = Counter()
            for _ in range(VARIANT_ATTEMPTS):
                drawn = self._candidate(number)
                if isinstance(drawn, str):
                    reasons[drawn] += 1
                    continue
                key, problem = drawn
                broken = broken_rule(iterate(problem))
                if broken is None and key in seen:
                    broken = (REPEAT, "")
                if broken is not None:
                    reasons[broken[0]] += 1
                    self.redrawn[broken[0]] += 1
                    continue
                seen.add(key)
                # through the format's own door, as `solve` reads the file written
                problem = Problem.from_dict(problem.to_dict())
                out.append(Variant(number, problem, iterate(problem)))
                break
            else:
                raise VariantError(self._refusal(number, count, reasons, len(seen)))
        return Drawn(tuple(out), self.redrawn)

    def _refusal(self, number: int, count: int, reasons: Counter, found: int) -> str:
        reason = max(REASONS, key=lambda r: reasons[r])  # the first of REASONS on a tie
        what = f"cannot draw variant {number} of {count} in {VARIANT_ATTEMPTS} attempts"
        hint = {
            KINK: "the template's numbers leave too few pre-activations away from the kinks; "
            "try more --decimals or larger weights",
            PROBABILITY: "the outputs keep near certainty; try smaller weights or inputs",
            RANGE: "the template's numbers are too large for its learning rate",
            REPEAT: f"only {found} different variants came; ask for fewer, or more --decimals",
        }[reason]
        return f"{what}: most were refused for {REASONS[reason]}; {hint}"

    def _candidate(self, number: int):
        """One variant's numbers, layer by layer, redrawing the rows of each layer that break
        a rule: (its key, the problem), or the reason it was given up."""
        template, unit = self.template, self.unit
        x = self._integers(self.x_scale, self.layers[0])
        target = self._target()
        h = x / unit
        weights, biases = [], []
        depth = len(self.layers) - 1
        for l in range(depth):
            shape = (self.layers[l + 1], self.layers[l])
            w = self._integers(self.w_scales[l], shape)
            b = None if self.b_scales is None else self._integers(self.b_scales[l], shape[0])
            for _ in range(ROW_ATTEMPTS):
                u = (w / unit) @ h + (0.0 if b is None else b / unit)
                out = self._activation(l, u)
                bad, reason = self._bad_rows(l, u, out)
                if not bad.any():
                    break
                self.redrawn[reason] += 1
                w[bad] = self._integers(self.w_scales[l], (int(bad.sum()), shape[1]))
                if b is not None:
                    b[bad] = self._integers(self.b_scales[l], int(bad.sum()))
            else:
                return reason
            weights.append(w)
            biases.append(b)
            h = out
        key = b"|".join(
            a.tobytes() for a in (x, target, *weights, *(() if self.b_scales is None else biases))
        )
        problem = Problem(
            template.layers,
            template.activations,
            template.loss,
            x / unit,
            target / unit,
            tuple(w / unit for w in weights),
            None if self.b_scales is None else tuple(b / unit for b in biases),
            template.learning_rate,
            title(template, number),
        )
        return key, problem

    def _activation(self, l: int, u: np.ndarray) -> np.ndarray:
        """As the engine computes it: the output layer through its loss."""
        act = self.template.activations[l]
        if l == len(self.layers) - 2:
            return self.template.loss.output(u, act)
        return act.value(u)

    def _bad_rows(self, l: int, u: np.ndarray, out: np.ndarray) -> tuple[np.ndarray, str]:
        act = self.template.activations[l]
        bad = np.zeros(u.shape, dtype=bool)
        for kink in kinks(act):
            bad |= np.abs(u - kink) <= KINK_MARGIN + _SLACK
        if bad.any():
            return bad, KINK
        if l == len(self.layers) - 2 and act.name in PROBABILITY_OUTPUTS:
            over = out > MAX_PROBABILITY
            bad = np.full(u.shape, bool(over.any())) if act.mixes else over
        if not np.all(np.isfinite(u)) or np.any(np.abs(u) > LIMIT):
            return np.ones(u.shape, dtype=bool), RANGE
        return bad, PROBABILITY

    def _target(self) -> np.ndarray:
        """The target in units of 10^-D, of the template's kind."""
        n, unit, rng = self.layers[-1], self.unit, self.rng
        if self.kind == ONE_HOT:
            t = np.zeros(n, dtype=np.int64)
            t[rng.integers(0, n)] = unit
            return t
        if self.kind == BINARY:
            return rng.integers(0, 1, size=n, endpoint=True, dtype=np.int64) * unit
        if self.kind == DISTRIBUTION:  # n - 1 cuts of 0..unit: counts that sum to it
            cuts = np.sort(rng.integers(0, unit, size=n - 1, endpoint=True, dtype=np.int64))
            return np.diff(np.concatenate([[0], cuts, [unit]]))
        if self.kind == FRACTIONS:
            return rng.integers(0, unit, size=n, endpoint=True, dtype=np.int64)
        low, high = self.target_range
        return rng.integers(low, high, size=n, endpoint=True, dtype=np.int64)


def assign(students: list[str], count: int) -> list[tuple[str, int]]:
    """Each student, in the roster's order, and the number of their variant: round-robin, so
    that with fewer variants than students the variants are shared as evenly as they can be
    and two students next to each other on the roster never share one (unless there is one
    variant)."""
    return [(s, i % count + 1) for i, s in enumerate(students)]
