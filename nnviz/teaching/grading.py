"""Marking a student's answers as a good examiner does: right, wrong, or carried forward.

A wrong answer that follows correctly from the student's own earlier answers is `carried`,
not `wrong` (shared spec, sections 4 and 5). To know that, the grader redoes the whole step in
the student's world: in the stepper's order each quantity is computed from the student-world
values it depends on, and then the student's own value, where they gave one, takes its place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnviz.core import engine
from nnviz.core.engine import Iteration, iterate
from nnviz.core.notation import element_name
from nnviz.core.problem import Problem, ProblemError, describe, preset, read_json
from nnviz.teaching.lesson import board_lines, steps, working
from nnviz.teaching.quantities import ALL, COLUMNS, ROWS, SAME, Quantity, plan, value_of

ANSWERS_FORMAT = "nnviz-answers/1"
CHECK_FORMAT = "nnviz-check/1"
ATOL = RTOL = 1e-3


class AnswerError(ProblemError):
    """An answer sheet that cannot be marked; the message names the symbol and the shape."""


def quantities(problem: Problem) -> tuple[Quantity, ...]:
    """Every quantity a sheet may answer, in the lecture's order."""
    return plan(problem).quantities


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
    def number(v, where):
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
        out[index] = number(v, "".join(f"[{i}]" for i in index))
    return out


# --- the student's world ----------------------------------------------------------------------


@dataclass
class World:
    """Every quantity as the student's own answers imply it, and which of their wrong answers
    each element follows from. By name, in the lecture's order."""

    values: dict[str, np.ndarray] = field(default_factory=dict)
    before: dict[str, np.ndarray] = field(default_factory=dict)  # computed, before their answer
    origins: dict[str, np.ndarray] = field(default_factory=dict)  # frozensets per element
    origins_before: dict[str, np.ndarray] = field(default_factory=dict)


def student_world(problem: Problem, answers: dict, truth: Iteration, tol) -> World:
    """Redo the step in the student's world (spec section 5): each quantity, in the lecture's
    order, by the engine's own operations on the student-world values it comes from; then the
    student's own value, where they gave one, takes its place. With no answers it is the
    engine's pass, number for number."""
    world, values, origins, replaced = World(), {}, {}, set()
    for q in quantities(problem):
        if q.step is None:  # x, o* and the weights are the problem's own
            values[q.key] = value_of(truth, q.key)
            origins[q.key] = np.full(q.shape, frozenset(), dtype=object)
            continue
        with np.errstate(all="ignore"):
            value = np.asarray(_computed(problem, q.key, values, replaced), dtype=float)
        value = np.where(np.isfinite(value), value, np.nan)
        origin = _origin(q, origins)
        world.before[q.name], world.origins_before[q.name] = value, origin
        given = answers.get(q.name)
        if given is not None:
            right = within(given, value_of(truth, q.key), tol)
            mine = np.frompyfunc(lambda i, name=q.name: frozenset({(name, i)}), 1, 1)(
                np.arange(given.size).reshape(given.shape)
            )
            origin = np.where(np.isnan(given), origin, np.where(right, frozenset(), mine))
            value = np.where(np.isnan(given), value, given)
            if not np.isnan(given).all():
                replaced.add(q.key)
        values[q.key] = world.values[q.name] = value
        origins[q.key] = world.origins[q.name] = origin
    return world


def _computed(problem: Problem, key: tuple, v: dict, replaced: set) -> np.ndarray:
    """One quantity from the values it comes from, by the engine's operations."""
    kind, l = key[0], key[1] if len(key) > 1 else None
    top = len(problem.weights) - 1
    below = lambda k: v[("x",)] if k == 0 else v[("post", k - 1)]  # noqa: E731
    if kind == "pre":
        return engine.pre_activation(problem, l, below(l))
    if kind == "post":
        return engine.activation(problem, l, v[("pre", l)])
    z, o, t = v.get(("pre", top)), v.get(("post", top)), problem.target
    z_gave_o = ("post", top) not in replaced  # else their o is not f(z): L, dL/do from o
    if kind == "loss":
        return np.asarray(problem.loss.value(z if z_gave_o else None, o, t))
    if kind == "grad_post" and l == top:
        return problem.loss.gradient(z if z_gave_o else None, o, t)
    if kind == "grad_pre" and l == top:
        return engine.output_delta(problem, z, o, v[("grad_post", top)], z_gave_o)
    if kind == "grad_weights":
        return engine.weight_gradient(v[("grad_pre", l)], below(l))
    if kind == "grad_biases":
        return v[("grad_pre", l)]
    if kind == "grad_post":
        return engine.hidden_gradient(problem, l + 1, v[("grad_pre", l + 1)])
    if kind == "grad_pre":
        return problem.activations[l].backprop(v[("pre", l)], v[("post", l)], v[("grad_post", l)])
    eta, source = problem.learning_rate, "weights" if kind == "weights_new" else "biases"
    return engine.descent(getattr(problem, source)[l], v[(f"grad_{source}", l)], eta)


def _origin(q: Quantity, origins: dict) -> np.ndarray:
    """Which of the student's wrong answers each element of q follows from: the union, over
    what q comes from, of all of it, the same element, or the element's row or column."""
    result = np.full(q.shape, frozenset(), dtype=object)
    for key, how in q.inputs:
        source = origins[key]
        if how == ALL:
            part = np.full(q.shape, frozenset().union(*source.ravel()), dtype=object)
        else:
            part = {SAME: source, ROWS: source[:, None], COLUMNS: source[None, :]}[how]
        result = _union(result, part)
    return result


def _union(a, b) -> np.ndarray:
    return np.asarray(np.frompyfunc(frozenset.union, 2, 1)(a, b), dtype=object)


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


def mark(sheet: AnswerSheet, atol: float = ATOL, rtol: float = RTOL) -> Report:
    """Each answer marked correct, carried forward or wrong, with the working of a wrong one."""
    problem, answers, tol = sheet.problem, sheet.answers, (atol, rtol)
    truth = iterate(problem)
    lines = board_lines(steps(truth))  # the working of every wrong answer comes from these
    world = student_world(problem, answers, truth, tol)
    items = []
    for q in quantities(problem):
        given = answers.get(q.name)
        if given is None:
            continue
        expected = value_of(truth, q.key)
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
