"""A Moodle question bank (Moodle XML): one Cloze question per problem, which a course imports
into its question bank and draws from, one variant per student (shared spec, section 11).

Each question gives the problem's numbers in HTML and asks, in the lecture's order (the one list
of `quantities.plan`), for the forward pass, the loss, dL/du of each layer and the updated
weights and biases: the numbers a marker checks first, without the intermediate steps that
follow from them in one line. Each blank is a NUMERICAL answer whose tolerance is the marking
rule of `check`, max(atol, rtol |value|), so that Moodle and nnviz mark alike.

Text that comes from a file (a title) reaches Moodle twice parsed: as HTML, and by the Cloze
parser, which takes `{` for the start of a blank. So the question text escapes HTML and writes
braces as character references, and an answer's feedback escapes the characters Cloze gives a
meaning there (} # ~ / " \\) with a backslash.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator

import numpy as np

from nnviz.core.engine import Iteration
from nnviz.core.notation import element_name, layer_symbols, number
from nnviz.teaching.grading import ATOL, RTOL
from nnviz.teaching.quantities import Quantity, plan, value_of
from nnviz.teaching.worksheet import decimals, exact

# The kinds a question asks for: a page of blanks, so the lines that follow from these in one
# step (dL/dz, dL/dw, dL/dh, and the steps on the way) are left to the worked solution
ASKED = ("pre", "post", "loss", "grad_pre", "weights_new", "biases_new")
ANSWER_DECIMALS = 6  # an answer written to 1e-6, far inside the tolerance of 1e-3
PENALTY = "0.3333333"  # Moodle's default for a wrong try, where a quiz allows several

_CLOZE = re.compile(r'([}#~/"\\])')


def tolerance(value: float) -> float:
    """How far an answer may be from the value and be right: `check`'s own rule."""
    return max(ATOL, RTOL * abs(value))


def quiz(questions: Iterable[tuple[str, Iteration]], digits: int | None = None) -> str:
    """The question bank: a <quiz> of one Cloze question per (idnumber, worked step). The given
    numbers are written to `digits` decimals, as on the question sheet (default: as many as
    they need)."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', "<quiz>"]
    for idnumber, p in questions:
        parts.append(question(p, idnumber, digits))
    parts.append("</quiz>")
    return "\n".join(parts) + "\n"


def question(p: Iteration, idnumber: str, digits: int | None = None) -> str:
    """One <question type="cloze">, named by the problem's title."""
    name = p.problem.heading
    return "\n".join(
        [
            '  <question type="cloze">',
            f"    <name><text>{_xml(name)}</text></name>",
            '    <questiontext format="html">',
            f"      <text>{_cdata(question_html(p, digits))}</text>",
            "    </questiontext>",
            '    <generalfeedback format="html"><text></text></generalfeedback>',
            f"    <penalty>{PENALTY}</penalty>",
            "    <hidden>0</hidden>",
            f"    <idnumber>{_xml(idnumber)}</idnumber>",
            "  </question>",
        ]
    )


def asked(p: Iteration) -> Iterator[tuple[Quantity, tuple[int, ...], float]]:
    """(quantity, 0-based index, value) of every blank, in the lecture's order."""
    for q in plan(p.problem).quantities:
        if q.kind in ASKED:
            value = value_of(p, q.key)
            for index in np.ndindex(value.shape):
                yield q, index, float(value[index])


def answer(value: float) -> str:
    """A value as a NUMERICAL answer writes it: fixed decimals, never -0 or a power of ten."""
    text = f"{value:.{ANSWER_DECIMALS}f}"
    return text.removeprefix("-") if float(text) == 0 else text


def _tolerance_text(value: float) -> str:
    return f"{tolerance(value):.6g}"


def blank(name: str, value: float) -> str:
    """{1:NUMERICAL:=value:tolerance#feedback}: the feedback names the answer."""
    feedback = _cloze(html.escape(f"{name} = {answer(value)}", quote=False))
    return f"{{1:NUMERICAL:={answer(value)}:{_tolerance_text(value)}#{feedback}}}"


def question_html(p: Iteration, digits: int | None = None) -> str:
    """The question's text: the network, its numbers, and a table of blanks."""
    problem = p.problem
    d = decimals(problem) if digits is None else max(digits, decimals(problem))
    title = problem.heading
    acts = ", ".join(str(a) for a in problem.activations)
    biases = "with biases" if problem.biases is not None else "no biases"
    lines = [
        f"<p><strong>{_text(title)}</strong></p>",
        f"<p>A fully connected network with layers {_text('-'.join(map(str, problem.layers)))}"
        f" (the input first), {biases}; activations {_text(acts)}; loss "
        f"{_text(problem.loss.name)} (natural logarithm); learning rate η = "
        f"{exact(problem.learning_rate)}.</p>",
        "<p>The numbers:</p>",
        *_given_table(p, d),
        "<p>Work out one step of gradient descent on this example. An answer within "
        f"max({ATOL:g}, {RTOL:g} &middot; |value|) of the true value is right; work to at least 4 "
        "decimal places.</p>",
        "<table>",
    ]
    rows: dict[tuple, tuple[str, list[str]]] = {}  # a vector's row, or a matrix's rows
    for q, index, value in asked(p):
        row = index[0] if len(index) == 2 else None
        label = q.name if row is None else f"{q.name} row {row + 1}"
        name = element_name(q.name, tuple(i + 1 for i in index))
        rows.setdefault((q.key, row), (label, []))[1].append(
            f"{_text(name)} = {blank(name, value)}"
        )
    for label, cells in rows.values():
        lines.append(
            f"<tr><th>{_text(label)}</th>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
        )
    lines.append("</table>")
    return "\n".join(lines)


def _given_table(p: Iteration, d: int) -> list[str]:
    problem = p.problem
    rows = [("x", problem.x), ("o*", problem.target)]
    for l, s in enumerate(layer_symbols(problem.layers)):
        rows.append((s.weights, problem.weights[l]))
        if problem.biases is not None:
            rows.append((s.biases, problem.biases[l]))
    lines = ["<table>"]
    for name, value in rows:
        for j, row in enumerate(np.atleast_2d(value)):
            label = name if value.ndim == 1 else f"{name} row {j + 1}"
            cells = "".join(f"<td>{number(float(v), d)}</td>" for v in row)
            lines.append(f"<tr><th>{_text(label)}</th>{cells}</tr>")
    lines.append("</table>")
    return lines


def _text(plain: str) -> str:
    """Text as HTML that neither HTML nor the Cloze parser reads anything into."""
    return html.escape(plain, quote=False).replace("{", "&#123;").replace("}", "&#125;")


def _cloze(text: str) -> str:
    """Text inside a Cloze blank, its own special characters escaped."""
    return _CLOZE.sub(r"\\\1", text)


def _xml(plain: str) -> str:
    return html.escape(plain, quote=False)


def _cdata(text: str) -> str:
    """A CDATA section, split where the text itself holds its end, ]]>."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
