"""The worked solution as Markdown or as a LaTeX document, from the lesson's own equations, so
that the stepper, the handout and the slides cannot disagree."""

from __future__ import annotations

import re

from nnviz.core import text
from nnviz.core.engine import Iteration
from nnviz.teaching.lesson import steps

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[a4paper,margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{lmodern}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\setcounter{MaxMatrixCols}{20}
\allowdisplaybreaks
% a character of a title that pdflatex cannot print, shown as its code point in a box
\DeclareFixedFont\codepointfont{T1}{lmtt}{m}{n}{8}
\DeclareRobustCommand*\codepoint[1]{{\fboxsep=1pt\fbox{\codepointfont U+#1}}\allowbreak}
"""


def _title(p: Iteration) -> str:
    return p.problem.title or "-".join(map(str, p.problem.layers)) + " network"


def markdown(p: Iteration) -> str:
    """`$$...$$` display math, which GitHub, VS Code, Jupyter and Obsidian all render. The
    problem's title is shown as typed, never as a link, an image, HTML or a formula; the step
    titles are the lesson's own (letters, digits, = / ( ) + − * σ) and need no escaping."""
    lines = [f"# Worked solution: {text.markdown(_title(p))}", ""]
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
        rf"\title{{Worked solution: {_escape(_title(p))}}}",
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
