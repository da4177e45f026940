"""The worked solution as Markdown or as a LaTeX document, from the lesson's own equations, so
that the stepper, the handout and the slides cannot disagree; and the question sheet that goes
with it, which gives the problem and asks for what the worked solution works out."""

from __future__ import annotations

import re

import numpy as np

from nnviz.core import text
from nnviz.core.engine import Iteration, fused
from nnviz.core.notation import layer_symbols, number
from nnviz.core.problem import Problem
from nnviz.teaching.grading import MARKS, AnswerSheet, Report
from nnviz.teaching.lesson import dl_d, steps, tex_symbol
from nnviz.teaching.quantities import ON_THE_WAY, Quantity, element_label, plan

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[a4paper,margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{lmodern}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\setcounter{MaxMatrixCols}{64} % as wide as a layer may be
\allowdisplaybreaks
% a character of a title that pdflatex cannot print, shown as its code point in a box
\DeclareFixedFont\codepointfont{T1}{lmtt}{m}{n}{8}
\DeclareRobustCommand*\codepoint[1]{{\fboxsep=1pt\fbox{\codepointfont U+#1}}\allowbreak}
"""


def markdown(p: Iteration) -> str:
    """`$$...$$` display math, which GitHub, VS Code, Jupyter and Obsidian all render. The
    problem's title is shown as typed, never as a link, an image, HTML or a formula; the step
    titles are the lesson's own (letters, digits, = / ( ) + − * σ) and need no escaping."""
    lines = [f"# Worked solution: {text.markdown(p.problem.heading)}", ""]
    lesson = steps(p, cap=None)  # a worked solution writes every entry out
    for k, s in enumerate(lesson, 1):
        lines += [f"## Step {k}: {s.title}", ""]
        for equation in s.equations:
            lines += ["$$", equation, "$$", ""]
    return "\n".join(lines)


def latex(p: Iteration) -> str:
    """A standalone document: pdflatex compiles it as it is."""
    lines = [
        PREAMBLE,
        rf"\title{{Worked solution: {_escape(p.problem.heading)}}}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
        "",
    ]
    lesson = steps(p, cap=None)  # a worked solution writes every entry out
    for k, s in enumerate(lesson, 1):
        lines.append(rf"\section*{{Step {k}: {_escape(s.title)}}}")
        lines += [rf"\[ {equation} \]" for equation in s.equations]
        lines.append("")
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"


# --- the question sheet ------------------------------------------------------------------------

WIDE = 12  # entries of a row past which the sheet writes it as text that wraps, not a matrix
PHASES = {
    "forward": "The forward pass",
    "loss": "The loss",
    "backward": "The backward pass",
    "update": "The update",
}


def decimals(problem: Problem) -> int:
    """The fewest decimals that write every given number (x, o*, weights, biases) exactly: 1
    for the seed, D for a variant drawn to 10^-D."""
    arrays = [problem.x, problem.target, *problem.weights, *(problem.biases or ())]
    return max(len(exact(float(v)).partition(".")[2]) for a in arrays for v in a.flat)


def exact(value: float) -> str:
    """The shortest decimal that reads back as `value`, never in powers of ten: 0.00001."""
    text = np.format_float_positional(value, unique=True, trim="-")
    return "0" if float(text) == 0 else text


def questions(problem: Problem, digits: int | None = None) -> str:
    """The question sheet: a standalone document that pdflatex compiles, giving the network,
    its numbers and what to work out, in the worked solution's order and notation, and none of
    the answers. The given numbers are written to `digits` decimals (default: as many as they
    need), so that a variant drawn to 10^-D reads 0.3, never 0.30000000000000004."""
    d = decimals(problem) if digits is None else max(digits, decimals(problem))
    title = problem.heading
    lines = [
        PREAMBLE,
        rf"\title{{Questions: {_escape(title)}}}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
        "",
        *_network(problem),
        r"\section*{The numbers}",
        *_givens(problem, d),
        r"\section*{What to work out}",
        "One step of gradient descent on this example with the learning rate given, in this "
        "order. Give every value to 4 decimal places, and use the natural logarithm.",
        *_asked(problem),
        r"\end{document}",
    ]
    return "\n".join(lines) + "\n"


def _network(problem: Problem) -> list[str]:
    symbols = layer_symbols(problem.layers)
    sizes = ", ".join(map(str, problem.layers))
    biases = "with biases" if problem.biases is not None else "without biases"
    lines = [
        r"\section*{The network}",
        f"A fully connected network with layers of {sizes} neurons (the input first), "
        f"{biases}. Each layer computes:",
    ]
    for l, (s, act) in enumerate(zip(symbols, problem.activations)):
        below = "x" if l == 0 else tex_symbol(symbols[l - 1].post)
        bias = f" + {tex_symbol(s.biases)}" if problem.biases is not None else ""
        fn = act.function.board
        lines.append(
            rf"\[ {tex_symbol(s.pre)} = {tex_symbol(s.weights)}\,{below}{bias}, \qquad "
            rf"{tex_symbol(s.post)} = {fn}({tex_symbol(s.pre)}), \qquad {act.latex} \]"
        )
    eta = exact(problem.learning_rate)
    lines += [
        "The loss, with the target $o^*$:",
        rf"\[ {problem.loss.latex} \]",
        rf"The learning rate is $\eta = {eta}$.",
        "",
    ]
    return lines


def _givens(problem: Problem, d: int) -> list[str]:
    symbols = layer_symbols(problem.layers)
    lines = [*_given("x", problem.x, d), *_given("o^*", problem.target, d)]
    for l, s in enumerate(symbols):
        lines += _given(tex_symbol(s.weights), problem.weights[l], d)
        if problem.biases is not None:
            lines += _given(tex_symbol(s.biases), problem.biases[l], d)
    return [*lines, ""]


def _given(symbol: str, value: np.ndarray, d: int) -> list[str]:
    """A vector as a column, a matrix as a matrix; a row too wide for the page as text that
    wraps, row by row."""
    rows = np.atleast_2d(value)
    cells = [[number(float(v), d) for v in row] for row in rows]
    if rows.shape[1] <= WIDE:
        body = r" \\ ".join(" & ".join(row) for row in cells)
        transpose = "^T" if value.ndim == 1 else ""
        return [rf"\[ {symbol} = \begin{{bmatrix}} {body} \end{{bmatrix}}{transpose} \]"]
    lines = []
    for j, row in enumerate(cells, 1):
        name = symbol if value.ndim == 1 else rf"{symbol}_{{{j},\cdot}}"
        numbers = r",\allowbreak\ ".join(row)
        lines.append(rf"\noindent ${name} = ({numbers})$\par")
    return lines


def asked(problem: Problem) -> list[Quantity]:
    """What the sheet asks for, in the lecture's order: what the worked solution works out on
    a line of its own, so the loss but not its terms, and dL/du but not f'(u) (which it writes
    inside dL/du); dL/do only where the output's delta is not simply o - o*."""
    top = len(problem.weights) - 1
    return [
        q
        for q in plan(problem).quantities
        if q.step is not None
        and q.kind not in ON_THE_WAY
        and not (q.key == ("grad_post", top) and fused(problem))
    ]


def _asked(problem: Problem) -> list[str]:
    """What to work out, phase by phase, each with its shape."""
    lecture = plan(problem)
    phases: dict[str, list[str]] = {}
    for q in asked(problem):
        phase = lecture.boards[q.step].phase
        phases.setdefault(phase, []).append(f"${_symbol(problem, q.key)}$ ({_shape(q.shape)})")
    lines = [r"\begin{enumerate}"]
    for phase, items in phases.items():
        lines.append(rf"\item \textbf{{{PHASES[phase]}.}} " + ", ".join(items) + ".")
    return [*lines, r"\end{enumerate}"]


def _shape(shape: tuple[int, ...]) -> str:
    if not shape:
        return "one number"
    if len(shape) == 1:
        return "1 number" if shape[0] == 1 else f"{shape[0]} numbers"
    return rf"${shape[0]} \times {shape[1]}$"


def _symbol(problem: Problem, key: tuple) -> str:
    """A quantity's symbol in LaTeX, as the worked solution writes it."""
    kind = key[0]
    fixed = {"x": "x", "target": "o^*", "loss": r"\mathcal{L}", "loss_terms": r"\mathcal{L}_k"}
    if kind in fixed:
        return fixed[kind]
    l, names = key[1], layer_symbols(problem.layers)[key[1]]
    if kind == "slope":
        return f"{problem.activations[l].function.board}'({tex_symbol(names.pre)})"
    if kind.startswith("grad_"):
        return dl_d(_symbol(problem, (kind[5:], l)))
    if kind.endswith("_new"):
        return rf"{{{_symbol(problem, (kind[:-4], l))}}}^{{\text{{new}}}}"
    return tex_symbol(getattr(names, kind))


def _escape(plain: str) -> str:
    r"""Plain text (a title) as LaTeX that pdflatex compiles, whatever the text holds.

    LaTeX's special characters are escaped, so that no title runs a command (\input, \write18)
    or changes a catcode. A character that utf8 inputenc and the T1 and TS1 fonts print
    (accented Latin, quotes, dashes, €) stays itself; Greek and common mathematical symbols
    become math; any other character (CJK, emoji, rare scripts), which would stop pdflatex with
    "Unicode character ... not set up for use with LaTeX", prints as its code point in a box,
    U+4E2D. The ligatures that would print other characters (-- as a dash, << as a guillemet)
    are broken, so that the title prints as typed.
    """
    latex = "".join(
        _SPECIAL.get(c, c if c in _AS_IS else rf"\codepoint{{{ord(c):04X}}}") for c in plain
    )
    return _LIGATURE.sub(r"\1\2{}", latex)


def _characters(ranges: str) -> frozenset[str]:
    """ "0041-005A 00E9" -> the characters U+0041 to U+005A, and U+00E9."""
    out = set()
    for item in ranges.split():
        first, _, last = item.partition("-")
        out.update(map(chr, range(int(first, 16), int(last or first, 16) + 1)))
    return frozenset(out)


# The printable characters that utf8 inputenc knows once T1 is loaded: those that t1enc.dfu,
# ts1enc.dfu, ot1enc.dfu and omsenc.dfu declare, and the three that utf8.def itself does
# (U+2026, U+02C6, U+02DC), in LaTeX 2022-06 (TeX Live 2022). pdflatex stops at any other
# character past ASCII.
_AS_IS = _characters(
    """0020-007E 00A1-00AC 00AE-0125 0128-0137 0139-013E 0141-0148 014A-0165 0168-017E 0192
    01C4-01D4 01E2-01E3 01E6-01EB 01F0 01F4-01F5 0218-021B 0232-0233 0237 02C6-02C7 02D8-02D9
    02DB-02DD 0E3F 1E02-1E03 1E0D 1E1E-1E21 1E25 1E30-1E31 1E37 1E43 1E45 1E47 1E5B 1E63 1E6D
    1E8E-1E91 1E9E 1EF2-1EF3 2010-2016 2018-201A 201C-201E 2020-2022 2026 2030-2031 2039-203B
    203D 2044 204E 2052 20A1 20A4 20A6 20A9 20AB-20AC 20B1 2103 2116-2117 211E 2120 2122
    2126-2127 212E 2190-2193 2329-232A 2422-2423 25E6 25EF 266A 27E8-27E9 3008-3009 FB00-FB06"""
)
# Characters as math, with amsmath and amssymb. A Greek capital that looks Latin has no macro
# of its own (there is no \Alpha).
_MATH = r"""
α \alpha β \beta γ \gamma δ \delta ε \varepsilon ζ \zeta η \eta θ \theta ι \iota κ \kappa
λ \lambda μ \mu ν \nu ξ \xi ο o π \pi ρ \rho ς \varsigma σ \sigma τ \tau υ \upsilon
φ \varphi χ \chi ψ \psi ω \omega ϑ \vartheta ϕ \phi ϖ \varpi ϰ \varkappa ϱ \varrho
ϵ \epsilon ϝ \digamma Α \mathrm{A} Β \mathrm{B} Γ \Gamma Δ \Delta Ε \mathrm{E} Ζ \mathrm{Z}
Η \mathrm{H} Θ \Theta Ι \mathrm{I} Κ \mathrm{K} Λ \Lambda Μ \mathrm{M} Ν \mathrm{N} Ξ \Xi
Ο \mathrm{O} Π \Pi Ρ \mathrm{P} Σ \Sigma Τ \mathrm{T} Υ \Upsilon Φ \Phi Χ \mathrm{X} Ψ \Psi
Ω \Omega ₀ _0 ₁ _1 ₂ _2 ₃ _3 ₄ _4 ₅ _5 ₆ _6 ₇ _7 ₈ _8 ₉ _9 ⁰ ^0 ⁴ ^4 ⁵ ^5 ⁶ ^6 ⁷ ^7 ⁸ ^8 ⁹ ^9
− - ∓ \mp ′ ^\prime ″ ^{\prime\prime} ≤ \leq ≥ \geq ≠ \neq ≈ \approx ≡ \equiv ∼ \sim
≃ \simeq ≅ \cong ∝ \propto ≪ \ll ≫ \gg ∈ \in ∉ \notin ∋ \ni ⊂ \subset ⊃ \supset
⊆ \subseteq ⊇ \supseteq ∪ \cup ∩ \cap ∖ \setminus ∅ \emptyset ∀ \forall ∃ \exists
∄ \nexists ∧ \wedge ∨ \vee ⊤ \top ⊥ \bot ⊢ \vdash ⊨ \models ∞ \infty ∂ \partial ∇ \nabla
∆ \Delta ∑ \sum ∏ \prod ∫ \int ∮ \oint √ \surd ∘ \circ ∙ \bullet ⋅ \cdot ∗ \ast ⊕ \oplus
⊖ \ominus ⊗ \otimes ⊙ \odot ⋯ \cdots ⋮ \vdots ⋱ \ddots ∴ \therefore ∵ \because ℓ \ell
ℏ \hbar ℘ \wp ℜ \Re ℑ \Im ℵ \aleph ℝ \mathbb{R} ℕ \mathbb{N} ℤ \mathbb{Z} ℚ \mathbb{Q}
ℂ \mathbb{C} ↔ \leftrightarrow ↕ \updownarrow ↖ \nwarrow ↗ \nearrow ↘ \searrow ↙ \swarrow
↦ \mapsto ↩ \hookleftarrow ↪ \hookrightarrow ⇐ \Leftarrow ⇑ \Uparrow ⇒ \Rightarrow
⇓ \Downarrow ⇔ \Leftrightarrow ⇕ \Updownarrow ⇝ \rightsquigarrow ⟵ \longleftarrow
⟶ \longrightarrow ⟷ \longleftrightarrow ⟸ \Longleftarrow ⟹ \Longrightarrow
⟺ \Longleftrightarrow ⟼ \longmapsto ⇄ \rightleftarrows ⇌ \rightleftharpoons
↺ \circlearrowleft ↻ \circlearrowright ⌈ \lceil ⌉ \rceil ⌊ \lfloor ⌋ \rfloor ✓ \checkmark
✔ \checkmark ✠ \maltese ★ \bigstar □ \square ■ \blacksquare ◇ \Diamond △ \vartriangle
▲ \blacktriangle ▽ \triangledown ▼ \blacktriangledown ♠ \spadesuit ♡ \heartsuit
♢ \diamondsuit ♣ \clubsuit ♭ \flat ♮ \natural ♯ \sharp
"""  # noqa: RUF001
_PAIRS = _MATH.split()
_SPECIAL = {c: f"${math}$" for c, math in zip(_PAIRS[::2], _PAIRS[1::2])} | {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\ufe0e": "",  # the selectors of text or emoji presentation, with nothing of their own to show
    "\ufe0f": "",
}
# The T1 fonts' ligatures that print other characters: -- ---, `` '', ,, << >>, !` ?`.
_LIGATURE = re.compile(r"([-`',<>])(?=\1)|([!?])(?=`)")


# --- the marked sheet ---------------------------------------------------------------------------

_MARK_LATEX = {
    "correct": r"\textcolor{green}{$\checkmark$ correct}",
    "carried": r"\textcolor{blue}{$\circlearrowright$ carried}",
    "wrong": r"\textcolor{red}{$\times$ wrong}",
}


def marked_rows(sheet: AnswerSheet, items):
    """(label, given as written, item) of each mark, by neuron: dL/dv_21 (h2 ← x1)."""
    by_symbol = {q.name: q for q in plan(sheet.problem).quantities}
    by_symbol |= {symbol: by_symbol[name] for name, symbol in sheet.written_as.items()}
    for item in items:
        q = by_symbol[item.symbol]
        index = tuple(k - 1 for k in item.index)
        written = sheet.decimals.get(q.name)
        decimals = None if written is None else int(np.asarray(written)[index])
        given = exact(item.given) if decimals is None else f"{item.given:.{decimals}f}"
        if float(given) != item.given:
            given = exact(item.given)
        yield element_label(q, index, sheet.problem.layers, item.symbol), given, item


def marked_markdown(sheet: AnswerSheet, report: Report) -> str:
    """The marking sheet to print or file: the score first, then every answer with its mark,
    and under each wrong one its correct working, typeset ($$…$$)."""
    title = sheet.problem.heading
    lines = [f"# Marked: {text.markdown(title)}", ""]
    if sheet.student:
        lines += [f"Student: {text.markdown(sheet.student)}", ""]
    lines += [f"**{report.headline()}**", "", f"Tolerance: `{report.tolerance}`", ""]
    for label, given, item in marked_rows(sheet, report.items):
        line = f"- `{label} = {given}`: **{MARKS[item.status]}**"
        if item.status != "correct":
            line += f", expected `{number(item.expected, 4)}`"
        if item.status == "carried":
            line += f"; from your own answers it is `{number(item.follow_through, 4)}`"
            line += f" (`{item.note}`)"
        lines.append(line)
        if item.status == "wrong" and item.working:
            lines += ["", "  $$", f"  {item.working}", "  $$", ""]
    return "\n".join(lines) + "\n"


def marked_latex(sheet: AnswerSheet, report: Report) -> str:
    """The same marking sheet as a standalone document that pdflatex compiles."""
    title = sheet.problem.heading
    lines = [
        PREAMBLE + "\\usepackage{color}\n",
        rf"\title{{Marked: {_escape(title)}}}",
        rf"\author{{{_escape(sheet.student)}}}" if sheet.student else r"\author{}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
        rf"\noindent\textbf{{{_escape(report.headline())}}}\\",
        rf"Tolerance: {_escape(str(report.tolerance))}",
    ]
    rows = list(marked_rows(sheet, report.items))
    if rows:
        lines.append(r"\begin{itemize}")
    for label, given, item in rows:
        line = rf"\item {_escape(f'{label} = {given}')}: {_MARK_LATEX[item.status]}"
        if item.status != "correct":
            line += f", expected {_escape(number(item.expected, 4))}"
        if item.status == "carried":
            line += _escape(
                f"; from your own answers it is {number(item.follow_through, 4)} ({item.note})"
            )
        lines.append(line)
        if item.status == "wrong" and item.working:
            lines.append(rf"\[ {item.working} \]")
    if rows:
        lines.append(r"\end{itemize}")
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"
