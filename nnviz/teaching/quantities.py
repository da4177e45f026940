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

from nnviz.core.engine import Pass
from nnviz.core.notation import layer_symbols
from nnviz.core.problem import Problem

ALL, SAME, ROWS, COLUMNS = "all", "same", "rows", "columns"  # how an element depends on an input


@dataclass(frozen=True)
class Quantity:
    """One quantity of the step, e.g. ("pre", 0): u in the seed's letters."""

    key: tuple  # ("x",), ("pre", 0), ("loss",), ("weights_new", 1), ...
    name: str  # as shown: u, dL/dw, v_new (seed letters) or u1, dL/dW2, W1_new
    aliases: tuple[str, ...]  # other names a sheet may use: u1 for u, ...
    shape: tuple[int, ...]
    step: int | None  # the lecture step that reveals it; None for what the problem gives
    inputs: tuple[tuple[tuple, str], ...]  # (key, ALL | SAME | ROWS | COLUMNS) it comes from

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
    by_key: dict  # key -> Quantity


def plan(problem: Problem) -> Plan:
    """The lecture of one training step of `problem`'s network: its shape, and which layers mix
    their neurons (softmax) and whether the loss is made for the output layer."""
    mixing = tuple(a.mixes for a in problem.activations)
    fused = problem.loss.output_activation == problem.activations[-1].name  # dL/dz = o - o*
    return _plan(problem.layers, problem.biases is not None, mixing, fused)


@lru_cache(maxsize=64)
def _plan(layers: tuple[int, ...], biases: bool, mixing: tuple[bool, ...], fused: bool) -> Plan:
    names = layer_symbols(layers)
    generic = layer_symbols([0] * (len(layers) + 1))  # W1, u1, h1 at any depth
    depth = len(layers) - 1
    boards: list[Board] = []
    found: list[Quantity] = []

    def given(key, name, shape):
        found.append(Quantity(key, name, (), shape, None, ()))

    def board(kind, phase, layer, *entries):
        """A step that works out `entries`: (key, name, generic name, shape, inputs)."""
        for key, name, alias, shape, inputs in entries:
            aliases = (alias,) if alias != name else ()
            found.append(Quantity(key, name, aliases, shape, len(boards), tuple(inputs)))
        boards.append(Board(kind, phase, layer, tuple(e[0] for e in entries)))

    def out(l):  # the activations entering weight layer l
        return ("x",) if l == 0 else ("post", l - 1)

    def width(l):  # neurons after weight layer l
        return (layers[l + 1],)

    def matrix(l):
        return (layers[l + 1], layers[l])

    given(("x",), "x", (layers[0],))
    given(("target",), "o*", (layers[-1],))
    for l in range(depth):
        s, g = names[l], generic[l]
        found.append(
            Quantity(("weights", l), s.weights, _alias(s.weights, g.weights), matrix(l), None, ())
        )
        if biases:
            found.append(
                Quantity(("biases", l), s.biases, _alias(s.biases, g.biases), width(l), None, ())
            )
    board("setup", "setup", None)
    for l in range(depth):
        s, g = names[l], generic[l]
        board("pre", "forward", l, (("pre", l), s.pre, g.pre, width(l), [(out(l), ALL)]))
        spread = ALL if mixing[l] else SAME  # each o_k of softmax depends on every z
        board("post", "forward", l, (("post", l), s.post, g.post, width(l), [(("pre", l), spread)]))
    top = depth - 1
    o, z = ("post", top), ("pre", top)
    board("loss", "loss", None, (("loss",), "L", "L", (), [(o, ALL)]))
    s, g = names[top], generic[top]
    grad_o = ("grad_post", top)
    if fused:
        delta_from = [(o, SAME)]
    elif mixing[top]:
        delta_from = [(grad_o, ALL), (o, ALL)]
    else:
        delta_from = [(grad_o, SAME), (z, SAME)]
    board(
        "output_delta",
        "backward",
        top,
        (grad_o, f"dL/d{s.post}", f"dL/d{g.post}", width(top), [(o, SAME)]),
        (("grad_pre", top), f"dL/d{s.pre}", f"dL/d{g.pre}", width(top), delta_from),
    )
    for l in range(depth - 1, -1, -1):
        s, g = names[l], generic[l]
        delta = ("grad_pre", l)
        entries = [
            (
                ("grad_weights", l),
                f"dL/d{s.weights}",
                f"dL/d{g.weights}",
                matrix(l),
                [(delta, ROWS), (out(l), COLUMNS)],
            ),
        ]
        if biases:
            entries.append(
                (
                    ("grad_biases", l),
                    f"dL/d{s.biases}",
                    f"dL/d{g.biases}",
                    width(l),
                    [(delta, SAME)],
                )
            )
        board("grad_weights", "backward", l, *entries)
        if l:
            p, q = names[l - 1], generic[l - 1]
            board(
                "grad_hidden",
                "backward",
                l,
                (
                    ("grad_post", l - 1),
                    f"dL/d{p.post}",
                    f"dL/d{q.post}",
                    width(l - 1),
                    [(delta, ALL)],
                ),
                (
                    ("grad_pre", l - 1),
                    f"dL/d{p.pre}",
                    f"dL/d{q.pre}",
                    width(l - 1),
                    _through(mixing[l - 1], ("grad_post", l - 1), ("pre", l - 1), ("post", l - 1)),
                ),
            )
    entries = []
    for l in range(depth - 1, -1, -1):
        s, g = names[l], generic[l]
        entries.append(
            (
                ("weights_new", l),
                f"{s.weights}_new",
                f"{g.weights}_new",
                matrix(l),
                [(("grad_weights", l), SAME)],
            )
        )
        if biases:
            entries.append(
                (
                    ("biases_new", l),
                    f"{s.biases}_new",
                    f"{g.biases}_new",
                    width(l),
                    [(("grad_biases", l), SAME)],
                )
            )
    board("update", "update", None, *entries)
    return Plan(tuple(boards), tuple(found), {q.key: q for q in found})


def _through(mixing: bool, grad_h: tuple, u: tuple, h: tuple) -> list:
    """What dL/du of a layer depends on: dL/dh and u elementwise, or all of dL/dh and h
    through softmax's Jacobian."""
    return [(grad_h, ALL), (h, ALL)] if mixing else [(grad_h, SAME), (u, SAME)]


def _alias(name: str, generic: str) -> tuple[str, ...]:
    return (generic,) if generic != name else ()


def value_of(p: Pass, key: tuple) -> np.ndarray:
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
            "loss": lambda: f.loss,
            "grad_post": lambda: b.grad_post[l],
            "grad_pre": lambda: b.grad_pre[l],
            "grad_weights": lambda: b.grad_weights[l],
            "grad_biases": lambda: b.grad_biases[l],
            "weights_new": lambda: new.weights[l],
            "biases_new": lambda: new.biases[l],
        }[kind](),
        dtype=float,
    )
