"""The lecture's quantities, in one ordered list: what each is called, which step of the lecture
reveals it, and what it is computed from.

The lesson's steps, the grader (its symbols and its follow-through), the quiz, the worksheets
and the text solution all walk this list, so they cannot disagree about the order. A new step of
the lecture is one more entry in `plan`, and one more builder of its equations in the lesson.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from nnviz.core.engine import Iteration
from nnviz.core.notation import element_name, layer_symbols, neuron_names
from nnviz.core.problem import Problem

ALL, SAME, ROWS, COLUMNS = "all", "same", "rows", "columns"  # how an element depends on an input
# Steps on the way within a step, which the board writes inside another line: the loss's terms
# inside L, and f'(u) inside dL/du. A sheet may answer them; a question sheet or a quiz asks
# for the lines they are part of.
ON_THE_WAY = ("loss_terms", "slope")


@dataclass(frozen=True)
class Quantity:
    """One quantity of the step, e.g. ("pre", 0): u in the seed's letters."""

    key: tuple  # ("x",), ("pre", 0), ("loss",), ("weights_new", 1), ...
    name: str  # as shown: u, dL/dw, v_new (seed letters) or u1, dL/dW2, W1_new
    aliases: tuple[str, ...]  # other names a sheet may use: u1 for u, ...
    shape: tuple[int, ...]
    step: int | None  # the lecture step that reveals it; None for what the problem gives
    inputs: tuple[tuple[tuple, str], ...]  # (key, ALL | SAME | ROWS | COLUMNS) it comes from
    deltas: tuple[str, ...] = ()  # dL/du's other names, δ: delta_u, delta1 (spec section 10)

    @property
    def kind(self) -> str:
        return self.key[0]

    @property
    def layer(self) -> int | None:
        return self.key[1] if len(self.key) > 1 else None


@dataclass(frozen=True)
class Board:
    """One step of the lecture: what the board shows, for the lesson to write out."""

    kind: str  # setup, pre, post, loss, output_delta, grad_weights, grad_hidden, update
    phase: str  # setup, forward, loss, backward, update
    layer: int | None  # the weight layer lit; None for the whole network
    reveals: tuple[tuple, ...]  # the keys of the quantities it works out


@dataclass(frozen=True)
class Plan:
    boards: tuple[Board, ...]
    quantities: tuple[Quantity, ...]  # the given ones, then in the order the boards reveal them


def plan(problem: Problem) -> Plan:
    """The lecture of one training step of `problem`'s network: its shape, and which layers mix
    their neurons (softmax) and whether the loss is made for the output layer."""
    mixing = tuple(a.mixes for a in problem.activations)
    fused = problem.loss.output_activation == problem.activations[-1].name  # dL/dz = o - o*
    return _plan(problem.layers, problem.biases is not None, mixing, fused)


@lru_cache(maxsize=64)
def _plan(layers: tuple[int, ...], biases: bool, mixing: tuple[bool, ...], fused: bool) -> Plan:
    lecture = _Lecture(layers)
    depth = len(layers) - 1
    for key in [("x",), ("target",)] + [
        (kind, l) for l in range(depth) for kind in ("weights", "biases")[: 1 + biases]
    ]:
        lecture.given(key)
    lecture.board("setup", "setup", None)
    for l in range(depth):
        lecture.board("pre", "forward", l, (("pre", l), [(_below(l), ALL)]))
        spread = ALL if mixing[l] else SAME  # each o_k of softmax depends on every z
        lecture.board("post", "forward", l, (("post", l), [(("pre", l), spread)]))
    top = depth - 1
    o, grad_o = ("post", top), ("grad_post", top)
    terms = ("loss_terms",)
    lecture.board("loss", "loss", None, (terms, [(o, SAME)]), (("loss",), [(terms, ALL)]))
    delta = [(o, SAME)] if fused else _through(mixing[top], grad_o, ("slope", top), o)
    lecture.board(
        "output_delta",
        "backward",
        top,
        (grad_o, [(o, SAME)]),
        *_slope(mixing[top], top),  # g'(z), where the output has one (o - o* needs none)
        (("grad_pre", top), delta),
    )
    for l in range(depth - 1, -1, -1):
        delta = ("grad_pre", l)
        entries = [(("grad_weights", l), [(delta, ROWS), (_below(l), COLUMNS)])]
        if biases:
            entries.append((("grad_biases", l), [(delta, SAME)]))
        lecture.board("grad_weights", "backward", l, *entries)
        if l:
            grad_h = ("grad_post", l - 1)
            through = _through(mixing[l - 1], grad_h, ("slope", l - 1), ("post", l - 1))
            lecture.board(
                "grad_hidden",
                "backward",
                l,
                (grad_h, [(delta, ALL)]),
                *_slope(mixing[l - 1], l - 1),
                (("grad_pre", l - 1), through),
            )
    entries = []
    for l in range(depth - 1, -1, -1):
        entries.append((("weights_new", l), [(("grad_weights", l), SAME)]))
        if biases:
            entries.append((("biases_new", l), [(("grad_biases", l), SAME)]))
    lecture.board("update", "update", None, *entries)
    return Plan(tuple(lecture.boards), tuple(lecture.found))


def _below(l: int) -> tuple:
    """The activations that enter weight layer l."""
    return ("x",) if l == 0 else ("post", l - 1)


def _through(mixing: bool, grad_h: tuple, slope: tuple, h: tuple) -> list:
    """What dL/du of a layer depends on: dL/dh and f'(u) elementwise, or all of dL/dh and h
    through softmax's Jacobian."""
    return [(grad_h, ALL), (h, ALL)] if mixing else [(grad_h, SAME), (slope, SAME)]


def _slope(mixing: bool, l: int) -> list:
    """f'(u) of weight layer l, from u, where the activation has one: softmax has a Jacobian."""
    return [] if mixing else [(("slope", l), [(("pre", l), SAME)])]


class _Lecture:
    """The plan as it is written: boards in order, and each quantity's name and shape from its
    key, in the seed's letters (with the generic ones as aliases) or W1, u1, h1."""

    def __init__(self, layers):
        self.layers = layers
        self.names = layer_symbols(layers)
        self.generic = layer_symbols([0] * (len(layers) + 1))  # W1, u1, h1 at any depth
        self.boards: list[Board] = []
        self.found: list[Quantity] = []

    def given(self, key) -> None:
        self.found.append(self._quantity(key, None, ()))

    def board(self, kind, phase, layer, *entries) -> None:
        """A step that works out each (key, inputs) of `entries`."""
        for key, inputs in entries:
            self.found.append(self._quantity(key, len(self.boards), tuple(inputs)))
        self.boards.append(Board(kind, phase, layer, tuple(key for key, _ in entries)))

    def _quantity(self, key, step, inputs) -> Quantity:
        name, generic = self._name(key, self.names), self._name(key, self.generic)
        aliases = (generic,) if generic != name else ()
        deltas = ()
        if key[0] == "grad_pre":  # delta_u, delta_z in the seed's letters; delta1, delta2
            seed, number = self.names[key[1]].pre, self.generic[key[1]].pre.removeprefix("u")
            deltas = (f"delta_{seed}", f"delta{number}") if seed != f"u{number}" else ()
            deltas = deltas or (f"delta{number}",)
        return Quantity(key, name, aliases, self._shape(key), step, inputs, deltas)

    def _name(self, key, names) -> str:
        kind = key[0]
        if kind in ("x", "target", "loss", "loss_terms"):
            return {"x": "x", "target": "o*", "loss": "L", "loss_terms": "L_k"}[kind]
        if kind == "slope":  # f'(u), and g'(z) for the output in the seed's letters
            l, pre = key[1], names[key[1]].pre
            seed_output = l == len(self.layers) - 2 and pre != self.generic[l].pre
            return f"{'g' if seed_output else 'f'}'({pre})"
        if kind.startswith("grad_"):
            return "dL/d" + self._name((kind[5:], key[1]), names)
        if kind.endswith("_new"):
            return self._name((kind[:-4], key[1]), names) + "_new"
        return getattr(names[key[1]], kind)

    def _shape(self, key) -> tuple[int, ...]:
        kind, layers = key[0], self.layers
        if kind in ("x", "target", "loss", "loss_terms"):
            return {
                "x": (layers[0],),
                "target": (layers[-1],),
                "loss": (),
                "loss_terms": (layers[-1],),
            }[kind]
        l = key[1]
        if kind.removeprefix("grad_").removesuffix("_new") == "weights":
            return (layers[l + 1], layers[l])
        return (layers[l + 1],)


def neurons(q: Quantity, layers) -> tuple[list[str], ...]:
    """The neurons along each of a quantity's axes, as the figure names them: a weight matrix's
    rows are the neurons its weights lead to, its columns those they come from."""
    names = neuron_names(layers)
    if q.layer is None:
        return {"x": (names[0],), "loss": ()}.get(q.kind, (names[-1],))
    return (names[q.layer + 1], names[q.layer])[: len(q.shape)]


def element_label(q: Quantity, index: tuple[int, ...], layers, symbol: str | None = None) -> str:
    """One answer's name (by `symbol` where a sheet wrote another), with the neurons of a
    weight: v_21 (h2 ← x1)."""
    name = element_name(symbol or q.name, tuple(i + 1 for i in index))
    if len(q.shape) < 2:
        return name
    rows, cols = neurons(q, layers)
    return f"{name} ({rows[index[0]]} ← {cols[index[1]]})"


def value_of(p: Iteration, key: tuple) -> np.ndarray:
    """A quantity's value in a computed step, at full precision."""
    kind, l = key[0], key[1] if len(key) > 1 else None
    problem, f, b, new = p.problem, p.forward, p.backward, p.updated
    return np.asarray(
        {
            "x": lambda: problem.x,
            "target": lambda: problem.target,
            "weights": lambda: problem.weights[l],
            "biases": lambda: problem.biases[l],
            "pre": lambda: f.pre[l],
            "post": lambda: f.post[l],
            "loss_terms": lambda: f.loss_terms,
            "loss": lambda: f.loss,
            "slope": lambda: b.slopes[l],
            "grad_post": lambda: b.grad_post[l],
            "grad_pre": lambda: b.grad_pre[l],
            "grad_weights": lambda: b.grad_weights[l],
            "grad_biases": lambda: b.grad_biases[l],
            "weights_new": lambda: new.weights[l],
            "biases_new": lambda: new.biases[l],
        }[kind](),
        dtype=float,
    )
