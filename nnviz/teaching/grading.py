"""Marking a student's answers as a good examiner does: right, wrong, or carried forward.

A wrong answer that follows correctly from the student's own earlier answers is `carried`,
not `wrong` (shared spec, sections 4 and 5). To know that, the grader redoes the whole step in
the student's world: in the stepper's order each quantity is computed from the student-world
values it depends on, and then the student's own value, where they gave one, takes its place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnviz.core.engine import Pass, step
from nnviz.core.notation import element_name, layer_symbols
from nnviz.core.problem import Problem, ProblemError, describe, preset, read_json
from nnviz.teaching.lesson import board_lines, steps, working

ANSWERS_FORMAT = "nnviz-answers/1"
CHECK_FORMAT = "nnviz-check/1"
ATOL = RTOL = 1e-3


class AnswerError(ProblemError):
    """An answer sheet that cannot be marked; the message names the symbol and the shape."""


@dataclass(frozen=True)
class Quantity:
    """One gradable quantity: how the sheet names it, and where the engine keeps it."""

    name: str  # as shown: u, dL/dw, v_new (seed letters) or u1, dL/dW2, W1_new
    aliases: tuple[str, ...]  # other names a sheet may use: u1 for u, ...
    kind: str  # x, target, weights, biases, pre, post, loss, grad_*, weights_new, biases_new
    layer: int | None
    shape: tuple[int, ...]


def quantities(problem: Problem) -> list[Quantity]:
    """Every quantity a sheet may answer, in the stepper's order."""
    names = layer_symbols(problem.layers)
    generic = layer_symbols([0] * (len(problem.layers) + 1))  # W1, u1, h1 at any depth
    layers, depth = problem.layers, len(problem.weights)
    has_biases = problem.biases is not None
    out = [
        Quantity("x", (), "x", None, (layers[0],)),
        Quantity("o*", (), "target", None, (layers[-1],)),
    ]

    def add(kind, l, name, generic_name, shape):
        alias = (generic_name,) if generic_name != name else ()
        out.append(Quantity(name, alias, kind, l, shape))

    for l in range(depth):
        s, g, n = names[l], generic[l], (layers[l + 1],)
        add("weights", l, s.weights, g.weights, (layers[l + 1], layers[l]))
        if has_biases:
            add("biases", l, s.biases, g.biases, n)
    for l in range(depth):
        s, g, n = names[l], generic[l], (layers[l + 1],)
        add("pre", l, s.pre, g.pre, n)
        add("post", l, s.post, g.post, n)
    out.append(Quantity("L", (), "loss", None, ()))
    for l in range(depth - 1, -1, -1):
        s, g, n = names[l], generic[l], (layers[l + 1],)
        if l == depth - 1:
            add("grad_post", l, f"dL/d{s.post}", f"dL/d{g.post}", n)
            add("grad_pre", l, f"dL/d{s.pre}", f"dL/d{g.pre}", n)
        add("grad_weights", l, f"dL/d{s.weights}", f"dL/d{g.weights}", (layers[l + 1], layers[l]))
        if has_biases:
            add("grad_biases", l, f"dL/d{s.biases}", f"dL/d{g.biases}", n)
        if l:
            p, q = names[l - 1], generic[l - 1]
            add("grad_post", l - 1, f"dL/d{p.post}", f"dL/d{q.post}", (layers[l],))
            add("grad_pre", l - 1, f"dL/d{p.pre}", f"dL/d{q.pre}", (layers[l],))
    for l in range(depth - 1, -1, -1):
        s, g = names[l], generic[l]
        add("weights_new", l, f"{s.weights}_new", f"{g.weights}_new", (layers[l + 1], layers[l]))
        if has_biases:
            add("biases_new", l, f"{s.biases}_new", f"{g.biases}_new", (layers[l + 1],))
    return out


# --- the answer sheet -------------------------------------------------------------------------


@dataclass
class AnswerSheet:
    problem: Problem
    answers: dict[str, np.ndarray]  # by Quantity.name; NaN where the student left a blank


def read_answers(text: str | bytes) -> AnswerSheet:
    """Parse and check an answer sheet; refuse it whole, with one message, if anything is off."""
    try:
        data = read_json(text, "answer sheet")
    except ProblemError as e:
        raise AnswerError(str(e)) from None
    if not isinstance(data, dict):
        raise AnswerError("the answer sheet is not a JSON object")
    unknown = set(data) - {"format", "problem", "answers"}
    if unknown:
        raise AnswerError(
            f"unknown key {describe(sorted(unknown)[0])}; an answer sheet has the keys "
            "format, problem, answers"
        )
    if data.get("format", ANSWERS_FORMAT) != ANSWERS_FORMAT:
        raise AnswerError(f'format is {describe(data["format"])}; expected "{ANSWERS_FORMAT}"')
    try:
        problem = (
            preset("seed") if data.get("problem") is None else Problem.from_dict(data["problem"])
        )
    except ProblemError as e:
        raise AnswerError(f"problem: {e}") from None
    answers = data.get("answers")
    if not isinstance(answers, dict):
        raise AnswerError("answers is missing or not an object of symbol: value")
    return AnswerSheet(problem, parse_answers(problem, answers))


def parse_answers(problem: Problem, answers: dict) -> dict[str, np.ndarray]:
    known = {}
    for q in quantities(problem):
        for name in (q.name, *q.aliases):
            known[name] = q
    parsed = {}
    for symbol, value in answers.items():
        q = known.get(symbol)
        if q is None:
            valid = ", ".join(f"{q.name} {_shape(q.shape)}" for q in quantities(problem))
            raise AnswerError(f"unknown symbol {describe(symbol)}; the valid ones are: {valid}")
        if q.name in parsed:
            raise AnswerError(f"{symbol} is answered twice (as {q.name} and an alias)")
        parsed[q.name] = _values(value, q, symbol)
    return parsed


def _shape(shape) -> str:
    return "(scalar)" if not shape else f"({', '.join(map(str, shape))})"


def _values(value, q: Quantity, symbol: str) -> np.ndarray:
    def check(v, where):
        if v is None:
            return np.nan
        if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
            raise AnswerError(f"{symbol}{where} is {describe(v)}; expected a number or null")
        return float(v)

    if value is None:
        return np.full(q.shape, np.nan)
    try:
        array = np.array(value, dtype=object)
    except ValueError:
        array = None
    if array is not None and any(isinstance(v, list | dict) for v in array.ravel()):
        array = None  # rows of different lengths
    if array is None or array.shape != q.shape:
        got = "ragged" if array is None else _shape(array.shape)
        raise AnswerError(f"{symbol} has shape {got}; {q.name} needs {_shape(q.shape)}")
    out = np.empty(q.shape)
    for index, v in np.ndenumerate(array):
        out[index] = check(v, "".join(f"[{i}]" for i in index))
    return out


# --- the student's world ----------------------------------------------------------------------


@dataclass
class World:
    """Every quantity as the student's own answers imply it, and which of their wrong answers
    each element follows from."""

    values: dict[str, np.ndarray] = field(default_factory=dict)
    before: dict[str, np.ndarray] = field(default_factory=dict)  # computed, before their answer
    origins: dict[str, np.ndarray] = field(default_factory=dict)  # frozensets per element
    origins_before: dict[str, np.ndarray] = field(default_factory=dict)


def student_world(problem: Problem, answers: dict, truth: Pass, tol) -> World:
    """Redo the step from the student's answers (spec section 5)."""
    world = World()
    names = {(q.kind, q.layer): q.name for q in quantities(problem)}
    ok = np.errstate(all="ignore")

    def put(kind, l, value, origin):
        name = names[(kind, l)]
        value = np.where(np.isfinite(value), value, np.nan)
        world.before[name], world.origins_before[name] = value, origin
        given = answers.get(name)
        if given is not None:
            right = within(given, true_value(truth, problem, kind, l), tol)
            mine = np.frompyfunc(lambda i: frozenset({(name, i)}), 1, 1)(
                np.arange(given.size).reshape(given.shape)
            )
            origin = np.where(np.isnan(given), origin, np.where(right, frozenset(), mine))
            value = np.where(np.isnan(given), value, given)
        world.values[name], world.origins[name] = value, origin
        return value, origin

    def union(*arrays):
        return np.frompyfunc(lambda *sets: frozenset().union(*sets), len(arrays), 1)(*arrays)

    def all_of(origin):
        return frozenset().union(*origin.ravel()) if origin.size else frozenset()

    empty = lambda shape: np.full(shape, frozenset(), dtype=object)  # noqa: E731
    with ok:
        h, h_origin = problem.x, empty(problem.x.shape)
        posts, pres = [], []
        depth = len(problem.weights)
        for l, (w, f) in enumerate(zip(problem.weights, problem.activations)):
            u = w @ h + (problem.biases[l] if problem.biases is not None else 0.0)
            u, u_origin = put("pre", l, u, np.full(len(u), all_of(h_origin), dtype=object))
            pres.append((u, u_origin))
            if f.name == "softmax":
                h, h_origin = put(
                    "post", l, f.value(u), np.full(len(u), all_of(u_origin), dtype=object)
                )
            else:
                h, h_origin = put("post", l, f.value(u), u_origin)
            posts.append((h, h_origin))
        o, o_origin = posts[-1]
        t = problem.target
        loss = problem.loss
        if loss.name == "cross_entropy":
            value = -np.sum(np.where(t > 0, t * np.log(o), 0.0))
        elif loss.name == "binary_cross_entropy":
            value = -np.sum(t * np.log(o) + (1 - t) * np.log(1 - o))
        else:
            value = 0.5 * np.sum((o - t) ** 2)
        put("loss", None, np.array(value), np.array(all_of(o_origin), dtype=object))

        out, z = problem.activations[-1], pres[-1][0]
        if loss.name == "cross_entropy":
            grad_o = np.where(t > 0, -t / o, 0.0)
        elif loss.name == "binary_cross_entropy":
            grad_o = -t / o + (1 - t) / (1 - o)
        else:
            grad_o = o - t
        grad_o, grad_o_origin = put("grad_post", depth - 1, grad_o, o_origin)
        if loss.output_activation == out.name:
            delta, delta_origin = o - t, o_origin
        elif out.name == "softmax":
            delta = out.backprop(z, o, grad_o)
            delta_origin = np.full(len(o), all_of(union(o_origin, grad_o_origin)), dtype=object)
        else:
            delta = grad_o * out.derivative(z)
            delta_origin = union(grad_o_origin, pres[-1][1])
        delta, delta_origin = put("grad_pre", depth - 1, delta, delta_origin)
        for l in range(depth - 1, -1, -1):
            inputs, in_origin = posts[l - 1] if l else (problem.x, empty(problem.x.shape))
            put(
                "grad_weights",
                l,
                np.outer(delta, inputs),
                union(delta_origin[:, None], in_origin[None, :]),
            )
            if problem.biases is not None:
                put("grad_biases", l, delta, delta_origin)
            if l:
                grad_h = problem.weights[l].T @ delta
                grad_h, gh_origin = put(
                    "grad_post",
                    l - 1,
                    grad_h,
                    np.full(len(grad_h), all_of(delta_origin), dtype=object),
                )
                u, u_origin = pres[l - 1]
                delta, delta_origin = put(
                    "grad_pre",
                    l - 1,
                    grad_h * problem.activations[l - 1].derivative(u),
                    union(gh_origin, u_origin),
                )
        eta = problem.learning_rate
        for l in range(depth - 1, -1, -1):
            g = world.values[names[("grad_weights", l)]]
            put(
                "weights_new",
                l,
                problem.weights[l] - eta * g,
                world.origins[names[("grad_weights", l)]],
            )
            if problem.biases is not None:
                g = world.values[names[("grad_biases", l)]]
                put(
                    "biases_new",
                    l,
                    problem.biases[l] - eta * g,
                    world.origins[names[("grad_biases", l)]],
                )
    return world


def true_value(truth: Pass, problem: Problem, kind: str, l: int | None) -> np.ndarray:
    f, b, new = truth.forward, truth.backward, truth.updated
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


def within(given, expected, tol):
    """|given - expected| <= max(atol, rtol |expected|). A difference or a tolerance beyond a
    double (1e308 against -1e308) is infinite, and compares as it should."""
    atol, rtol = tol
    with np.errstate(over="ignore"):
        return np.abs(given - expected) <= np.maximum(atol, rtol * np.abs(expected))


# --- the marks --------------------------------------------------------------------------------


@dataclass
class Item:
    symbol: str
    index: tuple[int, ...]  # 1-based
    given: float
    expected: float
    status: str  # correct, carried, wrong
    follow_through: float | None = None
    note: str = ""

    def to_dict(self) -> dict:
        d = {
            "symbol": self.symbol,
            "index": list(self.index),
            "given": self.given,
            "expected": self.expected,
            "status": self.status,
        }
        if self.follow_through is not None:
            d["follow_through"] = self.follow_through
        if self.note:
            d["note"] = self.note
        return d


@dataclass
class Report:
    atol: float
    rtol: float
    items: list[Item]

    def summary(self) -> dict:
        counts = {
            s: sum(i.status == s for i in self.items) for s in ("correct", "carried", "wrong")
        }
        return {"graded": len(self.items), **counts}

    def to_dict(self) -> dict:
        return {
            "format": CHECK_FORMAT,
            "tolerance": {"atol": self.atol, "rtol": self.rtol},
            "summary": self.summary(),
            "items": [i.to_dict() for i in self.items],
        }


def check(sheet: AnswerSheet, atol: float = ATOL, rtol: float = RTOL) -> Report:
    problem, answers, tol = sheet.problem, sheet.answers, (atol, rtol)
    truth = step(problem)
    lines = board_lines(steps(truth))  # the working of every wrong answer comes from these
    world = student_world(problem, answers, truth, tol)
    items = []
    for q in quantities(problem):
        given = answers.get(q.name)
        if given is None:
            continue
        expected = true_value(truth, problem, q.kind, q.layer)
        before = world.before.get(q.name)
        right = within(given, expected, tol)  # every element at once: a sheet may hold 60,000
        carried = np.zeros_like(right)
        if before is not None:  # x, o* and the weights are the problem's own
            carried = ~right & np.isfinite(before) & within(given, before, tol)
        for index in np.ndindex(given.shape):
            if np.isnan(given[index]):
                continue
            one_based = tuple(i + 1 for i in index)
            item = Item(q.name, one_based, float(given[index]), float(expected[index]), "wrong")
            if right[index]:
                item.status = "correct"
            elif carried[index]:
                item.status, item.follow_through = "carried", float(before[index])
                item.note = _consistent_with(world, q, index)
            else:
                item.note = working(truth, q.kind, q.layer, index, lines) or ""
            items.append(item)
    return Report(atol, rtol, items)


def _consistent_with(world: World, q: Quantity, index) -> str:
    """'consistent with your u_3 = 1.75': the student's wrong answers this one was computed
    from, through any blanks between."""
    origin = world.origins_before[q.name][index]
    if not origin:
        return "consistent with your earlier answers"
    order = {name: k for k, name in enumerate(world.values)}
    shown = sorted(origin, key=lambda o: (order[o[0]], o[1]))
    parts = []
    for name, flat in shown[:3]:
        values = world.values[name]
        where = tuple(int(i) + 1 for i in np.unravel_index(flat, values.shape))
        parts.append(f"{element_name(name, where)} = {values.flat[flat]:g}")
    more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
    return "consistent with your " + ", ".join(parts) + more
