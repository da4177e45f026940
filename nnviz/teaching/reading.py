"""A worked answer written as text: plain, Markdown or LaTeX, read into an answer sheet (spec
section 10), as a student writes it on paper.

Each statement (a line, a display `$$ … $$` or `\\[ … \\]`, or an inline `$ … $`) of the form
`SYMBOL = … = VALUE` gives SYMBOL the last of its values that is all numbers: a number,
`[a, b, c]`, `[a \\ b \\ c]^T` or a `bmatrix`/`pmatrix`. A statement that begins with `=`
goes on from the one before it. What is read and what is skipped are both kept, so that a
student sees how their text was understood before they see a mark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from nnviz.core.problem import Problem
from nnviz.teaching.grading import GIVEN, AnswerError, AnswerSheet, decimals_of, symbols
from nnviz.teaching.quantities import Quantity

TEXT_SUFFIXES = (".txt", ".md", ".tex")

_NUMBER = r"[-+−]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TIMES_TEN = re.compile(rf"^({_NUMBER})\s*(?:\\times|\\cdot|\u00d7)\s*10\^\{{?([-+−]?\d+)\}}?$")
_COMMA_DECIMAL = re.compile(r"^[-+−]?\d+,\d+$")


@dataclass
class Read:
    """One answer as it was read: where, and the text of its value."""

    symbol: str  # the quantity's name
    line: int  # 1-based, where its statement begins
    text: str  # the value as written


@dataclass
class Reading:
    """What a text gave: an answer sheet, and a line for each statement read or skipped."""

    sheet: AnswerSheet
    read: list[Read] = field(default_factory=list)
    skipped: list[tuple[int, str, str]] = field(default_factory=list)  # line, statement, why
    first: dict[str, int] = field(default_factory=dict, repr=False)  # where each was read

    def headline(self) -> str:
        """Numbers as well as quantities: the seed's 9 quantities are its 43 marked answers."""
        numbers = sum(int(np.isfinite(a).sum()) for a in self.sheet.answers.values())
        quantities = len({r.symbol for r in self.read})
        return (
            f"Read {numbers} {'number' if numbers == 1 else 'numbers'}, for {quantities} "
            f"{'quantity' if quantities == 1 else 'quantities'}, from the text"
        )


def read_text(text: str | bytes, problem: Problem) -> Reading:
    """The answers a worked answer in text gives, for this problem."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise AnswerError("the file is not UTF-8 text") from None
    text = text.removeprefix("\ufeff")
    known = symbols(problem)
    reading = Reading(AnswerSheet(problem, {}, {}))
    previous = None
    for line, statement in _statements(text):
        if statement.startswith("=") and previous is not None:
            symbol_text, values = previous, _sides(statement[1:])
        else:
            sides = _sides(statement)
            if len(sides) < 2:
                continue
            symbol_text, values = sides[0], sides[1:]
        previous = symbol_text
        value = next((v for v in map(_numbers, reversed(values)) if v is not None), None)
        if value is None:
            continue  # a formula, not a value
        name, index = _symbol(symbol_text)
        if name not in known and index and len(index) == 1:  # W_2 is W2 where W is no name
            base, new = (name[:-4], "_new") if name.endswith("_new") else (name, "")
            layer = f"{base}{index[0]}{new}"
            if layer in known:
                name, index = layer, None
        q = known.get(name) if name else None
        shown = f"{symbol_text.strip()} = {value[1]}"
        if name in ("eta", "η"):
            reading.skipped.append((line, shown, "η is part of the problem"))
            continue
        if q is None:
            reading.skipped.append((line, shown, "not a quantity of this network"))
            continue
        if q.kind in GIVEN:
            reading.skipped.append((line, shown, f"{q.name} is part of the problem"))
            continue
        why = _take(q, name, index, value, reading, line)
        if why:
            reading.skipped.append((line, shown, why))
        else:
            reading.read.append(Read(q.name, line, value[1]))
    return reading


def _take(q: Quantity, name: str, index, value, reading: Reading, line: int) -> str | None:
    """Put a value read into the sheet; why not, where it cannot go."""
    sheet = reading.sheet
    cells, _ = value
    as_delta, said = name in q.deltas, sheet.written_as.get(q.name)
    if q.name in sheet.answers and as_delta != (said is not None):
        return f"{q.name} is answered as both {q.name} and δ"
    if index is not None:  # one element: u_2 = -0.75, v_21 = 0.5
        if len(q.shape) == 1:
            index = (int("".join(map(str, index))),)
        if (
            len(cells) != 1
            or len(index) != len(q.shape)
            or not all(1 <= i <= n for i, n in zip(index, q.shape))
        ):
            return f"{q.name} has no element {','.join(map(str, index))}"
        where, cells = tuple(i - 1 for i in index), np.array(cells[0], dtype=object)
    else:
        array = np.array(cells, dtype=object)
        if array.ndim == 2 and 1 in array.shape and len(q.shape) == 1:
            array = array.ravel()  # a column or a row, for a vector
        if q.shape == () and array.size == 1:
            array = array.reshape(())
        if array.shape != q.shape:
            got = "x".join(map(str, array.shape))
            return f"{array.size} numbers in {got}; {q.name} is {_size(q.shape)}"
        where, cells = ..., array
    have = sheet.answers.setdefault(q.name, np.full(q.shape, np.nan))
    places = sheet.decimals.setdefault(q.name, np.zeros(q.shape, int))
    values = np.vectorize(_value, otypes=[float])(cells)
    if not np.isnan(have[where]).all():
        if np.array_equal(have[where], values):
            return None  # the same value again, as the seed writes o and h twice
        return f"{q.name} was read already (line {reading.first[q.name]}); this one is left out"
    have[where], places[where] = values, np.vectorize(decimals_of, otypes=[int])(cells)
    reading.first.setdefault(q.name, line)
    if as_delta:
        sheet.written_as[q.name] = name
    return None


def _size(shape) -> str:
    return "x".join(map(str, shape)) if shape else "one number"


# --- statements ---------------------------------------------------------------------------------


_DISPLAY = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]", re.S)
_ENVIRONMENT = re.compile(r"\\begin\{(equation|align|gather)\*?\}(.+?)\\end\{\1\*?\}", re.S)
_INLINE = re.compile(r"(?<![\\$])\$([^$]+)\$")


def _statements(text: str):
    """(line, statement) in the order written: displays, environments, inline math, and the
    lines outside them that are plain text."""
    found = []
    taken = [False] * len(text)
    for pattern in (_DISPLAY, _ENVIRONMENT):
        for m in pattern.finditer(text):
            if any(taken[m.start() : m.end()]):
                continue
            body = next(g for g in reversed(m.groups()) if g is not None)
            line = text.count("\n", 0, m.start()) + 1
            parts = _rows(body) if pattern is _ENVIRONMENT else [body]
            for part in parts:  # an align's rows, each without its &= alignment
                found.append((m.start(), line, re.sub(r"&(?=\s*=)", "", part)))
            taken[m.start() : m.end()] = [True] * (m.end() - m.start())
    start = 0
    for number, raw in enumerate(text.split("\n"), 1):
        end = start + len(raw)
        free = "".join(c if not taken[i] else "\n" for i, c in zip(range(start, end), raw))
        for piece in free.split("\n"):
            inline = list(_INLINE.finditer(piece))
            if inline:
                found += [(start + m.start(), number, m.group(1)) for m in inline]
            elif "=" in piece:
                found.append((start, number, piece))
        start = end + 1
    for _, line, statement in sorted(found, key=lambda f: f[0]):
        statement = " ".join(statement.split())
        if statement:
            yield line, statement


def _rows(body: str) -> list[str]:
    """An align's rows: split at each \\\\ outside its matrices."""
    rows, depth, start = [], 0, 0
    for m in re.finditer(r"\\begin\{|\\end\{|\\\\", body):
        if m.group() == "\\\\":
            if depth == 0:
                rows.append(body[start : m.start()])
                start = m.end()
        else:
            depth += 1 if m.group() == "\\begin{" else -1
    return [*rows, body[start:]]


def _sides(statement: str) -> list[str]:
    """The parts between the `=` signs that stand outside any braces or brackets."""
    parts, depth, current = [], 0, []
    for c in statement:
        depth += c in "{[("
        depth -= c in "}])"
        if c == "=" and depth <= 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
    parts.append("".join(current))
    return [p.strip() for p in parts]


# --- values -------------------------------------------------------------------------------------


def _numbers(side: str):
    """(cells, text) where a side is all numbers: a number, a list or a matrix, with each
    cell's text kept for its decimals; None otherwise."""
    s = side.strip().rstrip(".,;").strip()
    s = re.sub(r"\\(left|right|big|Big|bigg|Bigg)\s*", "", s)
    s = re.sub(r"\^\s*(\{\s*)?(T|\\top|\\intercal)(\s*\})?", "", s)
    s = re.sub(r"(?<!\\)\\[,;:! ]|~|\\quad|\\qquad", " ", s).strip()  # not \\, a row
    matrix = re.fullmatch(r"\\begin\{[bpvBV]?matrix\}(.*)\\end\{[bpvBV]?matrix\}", s, re.S)
    if matrix:
        rows = [r for r in re.split(r"\\\\", matrix.group(1)) if r.strip()]
        cells = [[c.strip() for c in row.split("&")] for row in rows]
        if len({len(r) for r in cells}) != 1 or not all(_is_number(c) for r in cells for c in r):
            return None
        return cells, s
    bracket = re.fullmatch(r"[\[(](.*)[\])]", s, re.S)
    if bracket:
        body = bracket.group(1)
        if re.fullmatch(r"\s*\[.*\]\s*", body, re.S):  # [[a, b], [c, d]]
            cells = [_cells(row) for row in re.findall(r"\[([^\[\]]*)\]", body)]
        elif ";" in body:  # [a, b; c, d]
            cells = [_cells(row) for row in body.split(";")]
        else:
            cells = _cells(body)
        flat = cells if isinstance(cells[0], str) else [c for r in cells for c in r]
        if not flat or not all(_is_number(c) for c in flat):
            return None
        return cells, s
    if _is_number(s) or _COMMA_DECIMAL.fullmatch(s):
        return [s], s
    return None


def _cells(body: str) -> list[str]:
    return [c for c in re.split(r"[,\s\\]+", body.strip()) if c]


def _is_number(cell: str) -> bool:
    cell = cell.strip()
    return bool(re.fullmatch(_NUMBER, cell) or _TIMES_TEN.fullmatch(cell))


def _value(cell: str) -> float:
    cell = cell.strip().replace("−", "-")
    times = _TIMES_TEN.fullmatch(cell)
    if times:
        return float(times.group(1)) * 10.0 ** int(times.group(2).replace("−", "-"))
    return float(cell.replace(",", "."))


# --- symbols ------------------------------------------------------------------------------------


_WRAPPERS = re.compile(r"\\(?:vec|mathbf|boldsymbol|bm|mathrm|mathit|text|textbf|operatorname)\s*")
_LEADING = re.compile(
    r"^(?:\\therefore|\\because|\\Rightarrow|\\implies|=>|∴|(?:so|hence|thus),?\s)\s*"
)


def _symbol(text: str) -> tuple[str | None, tuple[int, ...] | None]:
    """The sheet symbol a left-hand side names ("dL/dw", "w_new", "o*"), and the 1-based
    element where it names one (u_2); (None, None) where it names none."""
    s = text.strip()
    s = _LEADING.sub("", s).strip()
    s = s.replace("\\mathcal{L}", "L").replace("\\mathcal L", "L").replace("\\ell", "L")
    s = s.replace("\\partial", "d").replace("∂", "d").replace("\\delta", "delta")
    s = s.replace("\\eta", "eta")
    s = _WRAPPERS.sub("", s)
    s = re.sub(r"\s+", "", s)
    s = s.replace("{", "").replace("}", "")
    if re.fullmatch(r"o-o\^?\*", s):  # o - o*, which the seed writes for dL/dz
        return "dL/dz", None
    gradient = re.fullmatch(r"\\fracdLd(.+)|dL/d(.+)", s)  # \frac{dL}{dw} without its braces
    if gradient:
        inner = next(g for g in gradient.groups() if g)
        name, index = _plain(inner)
        return (f"dL/d{name}", index) if name else (None, None)
    return _plain(s)


def _plain(s: str) -> tuple[str | None, tuple[int, ...] | None]:
    """A symbol without braces: w_new, w^new, w_i^new, o^*, u_2, v_21, f'(u_j), delta_u."""
    s = s.replace("^*", "*").replace("^\\ast", "*").replace("\\ast", "*")
    new = re.search(r"[_^]\(?new\)?$", s)
    if new:
        s = s[: new.start()]
    s = re.sub(r"[_^](?:old)$", "", s)
    slope = re.fullmatch(r"([fg])'\(([a-zA-Z]+\d*)(?:_[a-z0-9]+)?\)", s)
    if slope:
        return f"{slope.group(1)}'({slope.group(2)})", None
    m = re.fullmatch(r"([a-zA-Z]+\d*\*?)(?:_([a-z]+|\d+|\d+,\d+))?(\*?)", s)  # W1, u_2, o*
    if not m:
        return None, None
    base, sub, star = m.group(1), m.group(2), m.group(3)
    base += star
    if base == "delta" and sub and sub.isalpha():
        return f"delta_{sub}", None
    index = None
    if sub and sub[0].isdigit():  # v_21 is (2, 1); u_12 of a vector is its 12th, in _take
        index = tuple(int(i) for i in (sub.split(",") if "," in sub else list(sub)))
        if base == "L":
            base = "L_k"
    elif sub and base == "L" and sub == "k":
        base = "L_k"
    if new:
        base += "_new"
    return base, index
