"""Marking a student's answers as a good examiner does: right, wrong, or carried forward.

A wrong answer that follows correctly from the student's own earlier answers is `carried`,
not `wrong` (shared spec, sections 4 and 5). To know that, the grader redoes the whole step in
the student's world: in the stepper's order each quantity is computed from the student-world
values it depends on, and then the student's own value, where they gave one, takes its place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import numpy as np

from nnviz.core import engine
from nnviz.core.engine import Iteration, iterate
from nnviz.core.notation import element_name
from nnviz.core.problem import Problem, ProblemError, Written, describe, preset, read_json
from nnviz.teaching.lesson import board_lines, plain, steps, working
from nnviz.teaching.quantities import ALL, COLUMNS, ROWS, SAME, Quantity, plan, value_of

ANSWERS_FORMAT = "nnviz-answers/1"
CHECK_FORMAT = "nnviz-check/1"
ATOL = RTOL = 1e-3
MARKS = {"correct": "✓ correct", "carried": "↻ carried", "wrong": "✗ wrong"}  # words and marks
GIVEN = ("x", "target", "weights", "biases")  # the problem's own: on a sheet, not an answer
SHEET_KEYS = ("format", "student", "problem", "conventions", "tolerance", "answers")
# what a sheet's δ means (spec section 10): dL/du, or Han & Kamber's and Mitchell's -dL/du
DELTAS = {"dL/du": 1.0, "-dL/du": -1.0}


class AnswerError(ProblemError):
    """An answer sheet that cannot be marked; the message names the symbol and the shape."""


def quantities(problem: Problem) -> tuple[Quantity, ...]:
    """Every quantity a sheet may answer, in the lecture's order."""
    return plan(problem).quantities


# --- the answer sheet -------------------------------------------------------------------------


@dataclass(frozen=True)
class Tolerance:
    """When an answer is right: within max(atol, rtol |expected|) (spec section 5); or, by
    digits, right to as many decimals as the student wrote, and at least `min_decimals` of
    them (spec section 10)."""

    atol: float = ATOL
    rtol: float = RTOL
    min_decimals: int | None = None  # set: marking by digits

    @property
    def digits(self) -> bool:
        return self.min_decimals is not None

    def right(self, given, expected, decimals, slack=0.0) -> np.ndarray:
        """Elementwise; `decimals` as each given value was written; `slack` how far `expected`
        itself may be off, as one recomputed from rounded answers may. A difference or a
        tolerance beyond a double (1e308 against -1e308) is infinite, and compares as it
        should."""
        with np.errstate(over="ignore", invalid="ignore"):
            off = np.abs(given - expected)
            if not self.digits:
                return off - slack <= np.maximum(self.atol, self.rtol * np.abs(expected))
            rounded = (decimals >= self.min_decimals) & (
                off - slack <= 0.5 * 10.0 ** -np.asarray(decimals, float) * (1 + 1e-9)
            )
            return (off <= 1e-9 * np.abs(expected)) | rounded  # 2 for 2, but not 0.4 for 0.3999

    def to_dict(self) -> dict:
        if self.digits:
            return {"mode": "digits", "min_decimals": self.min_decimals}
        return {"atol": self.atol, "rtol": self.rtol}

    def __str__(self) -> str:
        if self.digits:
            return f"right to the decimals written, at least {self.min_decimals} (or equal to 1e-9)"
        return f"|given - expected| <= max({self.atol:g}, {self.rtol:g} |expected|)"


def written_decimals(given: np.ndarray, written: np.ndarray | None) -> np.ndarray:
    """The decimals of each answer: as the sheet wrote them, else from its float."""
    if written is not None:
        return written
    return np.vectorize(decimals_of, otypes=[int])(np.where(np.isnan(given), 0, given))


def decimals_of(value) -> int:
    """How many decimals a number was written with: 0.80 has 2, 1.5e-3 has 4, 2 and 1e7 none.
    A float keeps no trailing zeros: its shortest repr is taken."""
    if isinstance(value, int) or (not isinstance(value, str) and float(value).is_integer()):
        return 0
    text = value if isinstance(value, str) else repr(float(value))
    try:
        exponent = (
            Decimal(text.strip().replace(",", ".").replace("\u2212", "-")).as_tuple().exponent
        )
    except InvalidOperation:
        return 0
    return max(0, -exponent) if isinstance(exponent, int) else 0


@dataclass
class AnswerSheet:
    problem: Problem
    answers: dict[str, np.ndarray]  # by Quantity.name; NaN where the student left a blank
    # how each answer was written, where the sheet says (the digits mode reads it); else
    # the shortest repr of its float
    decimals: dict[str, np.ndarray] = field(default_factory=dict)
    delta: str = "dL/du"  # what the sheet's δ answers mean: a key of DELTAS
    tolerance: Tolerance | None = None  # the sheet's own, where it has one
    student: str | None = None
    written_as: dict[str, str] = field(default_factory=dict)  # δ answers: {"dL/du": "delta_u"}


def read_answers(text: str | bytes, problem: Problem | None = None) -> AnswerSheet:
    """Parse and check an answer sheet; refuse it whole, with one message, if anything is off.
    A sheet without a problem of its own is marked against `problem`, else the seed's."""
    default = problem
    try:
        data = read_json(text, "answer sheet", written=True)
    except ProblemError as e:
        raise AnswerError(str(e)) from None
    if not isinstance(data, dict):
        raise AnswerError("the answer sheet is not a JSON object")
    unknown = set(data) - set(SHEET_KEYS)
    if unknown:
        raise AnswerError(
            f"unknown key {describe(sorted(unknown)[0])}; an answer sheet has the keys "
            + ", ".join(SHEET_KEYS)
        )
    if data.get("format", ANSWERS_FORMAT) != ANSWERS_FORMAT:
        raise AnswerError(f'format is {describe(data["format"])}; expected "{ANSWERS_FORMAT}"')
    try:
        if data.get("problem") is not None:
            problem = Problem.from_dict(data["problem"])
        else:
            problem = default or preset("seed")
    except ProblemError as e:
        raise AnswerError(f"problem: {e}") from None
    answers = data.get("answers")
    if not isinstance(answers, dict):
        raise AnswerError("answers is missing or not an object of symbol: value")
    delta = _convention(data.get("conventions"))
    sheet = AnswerSheet(
        problem,
        {},
        delta=delta,
        tolerance=_sheet_tolerance(data.get("tolerance")),
        student=_student(data.get("student")),
    )
    sheet.answers, sheet.decimals, sheet.written_as = parse_answers(problem, answers, delta)
    return sheet


def sheet_dict(sheet: AnswerSheet, every: bool = False) -> dict:
    """The sheet as nnviz-answers/1, to be read back as it was: its problem, its answers (a
    blank as null) with the decimals each was written with, δ under the name and sign the sheet
    used, its convention, tolerance and student. `every`: every quantity a sheet may answer,
    blank or not, as a sheet to fill in."""
    data = {"format": ANSWERS_FORMAT}
    if sheet.student:
        data["student"] = sheet.student
    data["problem"] = sheet.problem.to_dict()
    if sheet.delta != "dL/du":
        data["conventions"] = {"delta": sheet.delta}
    if sheet.tolerance is not None:
        data["tolerance"] = sheet.tolerance.to_dict()
    answers = {}
    for q in quantities(sheet.problem):
        given = sheet.answers.get(q.name)
        if q.kind in GIVEN or (given is None and not every):
            continue
        symbol = sheet.written_as.get(q.name, q.name)
        sign = DELTAS[sheet.delta] if q.name in sheet.written_as else 1.0
        given = np.full(q.shape, np.nan) if given is None else sign * given
        written = written_decimals(given, sheet.decimals.get(q.name))
        answers[symbol] = np.vectorize(_as_written, otypes=[object])(given, written).tolist()
    data["answers"] = answers
    return data


def _as_written(value: float, decimals: int):
    """A number with the decimals it was written with, where they give it back exactly."""
    if np.isnan(value):
        return None
    if value == 0:
        value = 0.0  # a -0 answer is written 0
    text = f"{value:.{decimals}f}"
    if float(text) != value or "e" in repr(value):
        return float(value)
    number = Written(value)
    number.text = text
    return number


def _student(value) -> str | None:
    if value is None or (isinstance(value, str) and len(value) <= 200):
        return value
    raise AnswerError(f"student is {describe(value)}; expected a name of at most 200 characters")


def _convention(value) -> str:
    if value is None:
        return "dL/du"
    if not isinstance(value, dict) or set(value) - {"delta"}:
        raise AnswerError('conventions is not {"delta": "dL/du"} or {"delta": "-dL/du"}')
    delta = value.get("delta", "dL/du")
    if delta not in DELTAS:
        raise AnswerError(f'conventions.delta is {describe(delta)}; expected "dL/du" or "-dL/du"')
    return delta


def _sheet_tolerance(value) -> Tolerance | None:
    if value is None:
        return None
    expected = (
        'tolerance is not {"atol": A, "rtol": R} or {"mode": "digits", "min_decimals": D}, '
        "with A, R at least 0 and D a whole number from 0 to 15"
    )
    if not isinstance(value, dict):
        raise AnswerError(expected)
    if value.get("mode", "abs") == "digits" and set(value) <= {"mode", "min_decimals"}:
        d = value.get("min_decimals", 0)
        if isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 15:
            return Tolerance(min_decimals=d)
    elif value.get("mode", "abs") == "abs" and set(value) <= {"mode", "atol", "rtol"}:
        a, r = value.get("atol", ATOL), value.get("rtol", RTOL)
        if all(isinstance(t, int | float) and not isinstance(t, bool) and t >= 0 for t in (a, r)):
            return Tolerance(float(a), float(r))
    raise AnswerError(expected)


def symbols(problem: Problem) -> dict[str, Quantity]:
    """Every name a sheet may use, for the quantity it names: its own, its aliases, and δ's."""
    known = {}
    for q in quantities(problem):
        for name in (q.name, *q.aliases, *q.deltas):
            known[name] = q
    return known


def parse_answers(problem: Problem, answers: dict, delta: str = "dL/du") -> tuple[dict, dict, dict]:
    """The answers by quantity name, δ turned into dL/du by the sheet's convention; the
    decimals each was written with; and the δ names the sheet used."""
    known = symbols(problem)
    parsed, decimals, written_as = {}, {}, {}
    for symbol, value in answers.items():
        q = known.get(symbol)
        if q is None:
            raise AnswerError(
                f"unknown symbol {describe(symbol)}; the valid ones are: {_valid(problem)}"
            )
        if q.name in parsed:
            raise AnswerError(f"{symbol} is answered twice (as {q.name} and an alias)")
        values, written = _values(value, q, symbol)
        if symbol in q.deltas:
            values, written_as[q.name] = values * DELTAS[delta], symbol
        parsed[q.name], decimals[q.name] = values, written
    return parsed, decimals, written_as


def _valid(problem: Problem) -> str:
    return ", ".join(
        f"{q.name} {_shape(q.shape)}" + (f" or {q.deltas[0]}" if q.deltas else "")
        for q in quantities(problem)
    )


def _shape(shape) -> str:
    return "(scalar)" if not shape else f"({', '.join(map(str, shape))})"


def _values(value, q: Quantity, symbol: str) -> tuple[np.ndarray, np.ndarray]:
    """The values, and the decimals each was written with."""

    def number(v, where):
        if v is None:
            return np.nan
        if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
            raise AnswerError(f"{symbol}{where} is {describe(v)}; expected a number or null")
        return float(v)

    if value is None:
        return np.full(q.shape, np.nan), np.zeros(q.shape, int)
    try:
        array = np.array(value, dtype=object)
    except ValueError:
        array = None
    if array is not None and any(isinstance(v, list | dict) for v in array.ravel()):
        array = None  # rows of different lengths
    if array is None or array.shape != q.shape:
        got = "ragged" if array is None else _shape(array.shape)
        raise AnswerError(f"{symbol} has shape {got}; {q.name} needs {_shape(q.shape)}")
    out, decimals = np.empty(q.shape), np.zeros(q.shape, int)
    for index, v in np.ndenumerate(array):
        out[index] = number(v, "".join(f"[{i}]" for i in index))
        decimals[index] = decimals_of(getattr(v, "text", v)) if v is not None else 0
    return out, decimals


# --- the student's world ----------------------------------------------------------------------


@dataclass
class World:
    """Every quantity as the student's own answers imply it, and which of their wrong answers
    each element follows from. By name, in the lecture's order."""

    values: dict[str, np.ndarray] = field(default_factory=dict)
    before: dict[str, np.ndarray] = field(default_factory=dict)  # computed, before their answer
    origins: dict[str, np.ndarray] = field(default_factory=dict)  # frozensets per element
    origins_before: dict[str, np.ndarray] = field(default_factory=dict)
    # how far `before` may be from what the student had, who carried more digits than they
    # wrote: 0.103 written for 0.10334 makes dL/dw_14 = 0.547 right from h_4 = 5.29
    spread: dict[str, np.ndarray] = field(default_factory=dict)


def student_world(
    problem: Problem, answers: dict, truth: Iteration, tol: Tolerance, decimals=None
) -> World:
    """Redo the step in the student's world (spec section 5): each quantity, in the lecture's
    order, by the engine's own operations on the student-world values it comes from; then the
    student's own value, where they gave one, takes its place. With no answers it is the
    engine's pass, number for number. `decimals`: as each answer was written, by name."""
    world, values, origins, replaced, radii = World(), {}, {}, set(), {}
    for q in quantities(problem):
        if q.step is None:  # x, o* and the weights are the problem's own
            values[q.key] = value_of(truth, q.key)
            origins[q.key] = np.full(q.shape, frozenset(), dtype=object)
            radii[q.key] = np.zeros(q.shape)
            continue
        with np.errstate(all="ignore"):
            value = np.asarray(_computed(problem, q.key, values, replaced), dtype=float)
        value = np.where(np.isfinite(value), value, np.nan)
        spread = _spread(problem, q, value, values, replaced, radii)
        origin = _origin(q, origins)
        world.before[q.name], world.origins_before[q.name] = value, origin
        world.spread[q.name], radius = spread, spread
        given = answers.get(q.name)
        if given is not None:
            written = written_decimals(given, (decimals or {}).get(q.name))
            right = tol.right(given, value_of(truth, q.key), written)
            mine = np.frompyfunc(lambda i, name=q.name: frozenset({(name, i)}), 1, 1)(
                np.arange(given.size).reshape(given.shape)
            )
            origin = np.where(np.isnan(given), origin, np.where(right, frozenset(), mine))
            # an answer that follows from the student's world leaves what they had anywhere
            # between it and the value it follows from; any other is taken as written
            follows = tol.right(given, value, written, spread)
            with np.errstate(over="ignore", invalid="ignore"):  # 1e308 against -1e308
                kept = np.where(follows, np.abs(given - value) + spread, 0.0)
            radius = np.where(np.isnan(given), spread, kept)
            value = np.where(np.isnan(given), value, given)
            if not np.isnan(given).all():
                replaced.add(q.key)
        values[q.key] = world.values[q.name] = value
        origins[q.key] = world.origins[q.name] = origin
        radii[q.key] = np.where(np.isfinite(radius), radius, 0.0)
    return world


def _spread(problem: Problem, q: Quantity, value, values: dict, replaced: set, radii: dict):
    """How far q may move as the values it comes from move within their radii: to first
    order, the sum over each of them of the change that moving it alone makes. An element's
    own input (SAME, ROWS, COLUMNS) moves all at once, as no other element of q reads it."""
    spread = np.zeros(q.shape)
    top = len(problem.weights) - 1
    reads = list(q.inputs)
    if q.key in (("loss_terms",), ("grad_post", top), ("grad_pre", top)):
        reads.append((("pre", top), ALL))  # where o is f(z), the loss reads z, for precision
    for key, how in reads:
        radius = radii[key]
        if not radius.any():
            continue
        moves = (
            [
                np.where(np.arange(radius.size) == i, radius.ravel(), 0.0).reshape(radius.shape)
                for i in np.flatnonzero(radius)
            ]
            if how == ALL
            else [radius]
        )
        for move in moves:
            change = np.zeros(q.shape)
            for side in (move, -move):  # both ways: -ln o moves further down than up
                with np.errstate(all="ignore"):
                    moved = _computed(problem, q.key, {**values, key: values[key] + side}, replaced)
                    away = np.abs(np.asarray(moved, dtype=float) - value)
                change = np.maximum(change, np.where(np.isfinite(away), away, 0.0))
            spread = spread + change
    return spread


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
    if kind == "loss_terms":
        return problem.loss.terms(z if z_gave_o else None, o, t)
    if kind == "loss":
        return np.asarray(problem.loss.total(v[("loss_terms",)]))
    if kind == "slope":
        return engine.slope(problem, l, v[("pre", l)])
    if kind == "grad_post" and l == top:
        return problem.loss.gradient(z if z_gave_o else None, o, t)
    if kind == "grad_pre" and l == top:
        grad_o, g = v[("grad_post", top)], v.get(("slope", top))
        return engine.output_delta(problem, z, o, grad_o, g, z_gave_o)
    if kind == "grad_weights":
        return engine.weight_gradient(v[("grad_pre", l)], below(l))
    if kind == "grad_biases":
        return v[("grad_pre", l)]
    if kind == "grad_post":
        return engine.hidden_gradient(problem, l + 1, v[("grad_pre", l + 1)])
    if kind == "grad_pre":
        u, h, grad_h = v[("pre", l)], v[("post", l)], v[("grad_post", l)]
        return engine.pre_gradient(problem, l, u, h, grad_h, v.get(("slope", l)))
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


# --- the marks --------------------------------------------------------------------------------


@dataclass
class Item:
    symbol: str
    index: tuple[int, ...]  # 1-based
    given: float
    expected: float
    status: str  # correct, carried, wrong
    follow_through: float | None = None
    note: str = ""  # a wrong answer's working as text, or what a carried one follows from
    working: str = ""  # a wrong answer's working in LaTeX, for a page that typesets it

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
    tolerance: Tolerance
    items: list[Item]
    delta: str = "dL/du"  # what the sheet's δ meant

    def headline(self) -> str:
        """43 answers: 29 correct, 1 carried forward, 13 wrong."""
        s = self.summary()
        return (
            f"{s['graded']} answer{'' if s['graded'] == 1 else 's'}: {s['correct']} correct, "
            f"{s['carried']} carried forward, {s['wrong']} wrong"
        )

    def summary(self) -> dict:
        counts = {
            s: sum(i.status == s for i in self.items) for s in ("correct", "carried", "wrong")
        }
        return {"graded": len(self.items), **counts}

    def to_dict(self) -> dict:
        return {
            "format": CHECK_FORMAT,
            "tolerance": self.tolerance.to_dict(),
            "summary": self.summary(),
            "items": [i.to_dict() for i in self.items],
        }


def mark(
    sheet: AnswerSheet,
    atol: float | None = None,
    rtol: float | None = None,
    tolerance: Tolerance | None = None,
) -> Report:
    """Each answer marked correct, carried forward or wrong, with the working of a wrong one.
    The tolerance: the one given, else atol and rtol where given, else the sheet's own, else
    the default (atol = rtol = 1e-3)."""
    if tolerance is None:
        given_tol = atol is not None or rtol is not None
        tolerance = (
            Tolerance(ATOL if atol is None else atol, RTOL if rtol is None else rtol)
            if given_tol or sheet.tolerance is None
            else sheet.tolerance
        )
    problem, answers = sheet.problem, sheet.answers
    truth = iterate(problem)
    lines = board_lines(steps(truth))  # the working of every wrong answer comes from these
    world = student_world(problem, answers, truth, tolerance, sheet.decimals)
    items = []
    for q in quantities(problem):
        given = answers.get(q.name)
        if given is None:
            continue
        decimals = written_decimals(given, sheet.decimals.get(q.name))
        expected = value_of(truth, q.key)
        before = world.before.get(q.name)
        # every element at once: a sheet may hold 60,000
        right = tolerance.right(given, expected, decimals)
        carried = np.zeros_like(right)
        if before is not None:  # x, o* and the weights are the problem's own
            slack = world.spread[q.name]
            carried = ~right & np.isfinite(before) & tolerance.right(given, before, decimals, slack)
        symbol = sheet.written_as.get(q.name, q.name)
        sign = DELTAS[sheet.delta] if q.name in sheet.written_as else 1.0  # δ as written
        for index in np.ndindex(given.shape):
            if np.isnan(given[index]):
                continue
            one_based = tuple(i + 1 for i in index)
            item = Item(
                symbol,
                one_based,
                sign * float(given[index]),
                sign * float(expected[index]),
                "wrong",
            )
            if right[index]:
                item.status = "correct"
            elif carried[index]:
                item.status, item.follow_through = "carried", sign * float(before[index])
                item.note = _consistent_with(world, q, index)
            else:
                item.working = working(truth, q.kind, q.layer, index, lines) or ""
                item.note = plain(item.working) if item.working else ""
            items.append(item)
    return Report(tolerance, items, sheet.delta)


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
