"""The worked solution as Markdown or as a LaTeX document, from the lesson's own equations, so
that the stepper, the handout and the slides cannot disagree."""

from __future__ import annotations

from nnviz.engine import Pass
from nnviz.lesson import every_entry, steps

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[a4paper,margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\setcounter{MaxMatrixCols}{20}
\allowdisplaybreaks
"""


def _title(p: Pass) -> str:
    return p.problem.title or "-".join(map(str, p.problem.layers)) + " network"


def markdown(p: Pass) -> str:
    """`$$...$$` display math, which GitHub, VS Code, Jupyter and Obsidian all render."""
    lines = [f"# Worked solution: {_title(p)}", ""]
    with every_entry():
        lesson = steps(p)
    for k, s in enumerate(lesson, 1):
        lines += [f"## Step {k}: {s.title}", ""]
        for equation in s.equations:
            lines += ["$$", equation, "$$", ""]
    return "\n".join(lines)


def latex(p: Pass) -> str:
    """A standalone document: pdflatex compiles it as it is."""
    lines = [
        PREAMBLE,
        rf"\title{{Worked solution: {_escape(_title(p))}}}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
        "",
    ]
    with every_entry():
        lesson = steps(p)
    for k, s in enumerate(lesson, 1):
        lines.append(rf"\section*{{Step {k}: {_escape(s.title)}}}")
        lines += [rf"\[ {equation} \]" for equation in s.equations]
        lines.append("")
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    """Plain text (a title) in LaTeX: its special characters, and the board's − and σ."""
    return text.translate(_SPECIAL)


_SPECIAL = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "&": r"\&",
        "%": r"\%",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "{": r"\{",
        "}": r"\}",
        "~": r"\~{}",
        "^": r"\^{}",
        "−": "$-$",
        "σ": r"$\sigma$",
        "η": r"$\eta$",
    }
)
