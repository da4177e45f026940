"""The worked solution as Markdown and LaTeX: the stepper's equations, in the stepper's order."""

import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nnviz.engine import step
from nnviz.problem import preset
from nnviz.worksheet import latex, markdown

ROOT = Path(__file__).resolve().parent.parent
SEED = step(preset("seed"))
DU2 = (
    (1 - 1 / (1 + math.exp(2.97 + 0.4 * (math.exp(-1.5) - 1) - 3.45 - math.exp(-1.5))))
    * (0.4 - 1.0)
    * math.exp(-1.5)
)  # dL/du_2 = o_2 (w_22 - w_12) ELU'(u_2), with o_1 - 1 = -o_2


def test_markdown_has_every_step_and_the_substituted_lines():
    text = markdown(SEED)
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings[0] == "## Step 1: The setup" and headings[-1] == (
        "## Step 11: The update of w and v"
    )
    assert len(headings) == 11
    assert (
        r"\begin{aligned} u_{2} &= v_{21} x_{1} + v_{22} x_{2} + v_{23} x_{3} \\ &= "
        r"(0.5)(1.0) + (-1.0)(1.5) + (1.0)(-0.5) \\ &= -1.5 \end{aligned}"
    ) in text
    assert (
        r"\frac{\partial \mathcal{L}}{\partial v_{21}} = \frac{\partial \mathcal{L}}"
        rf"{{\partial u_{{2}}}} x_{{1}} = ({DU2:.4f})(1.0) = {DU2:.4f}"
    ) in text
    assert f"{DU2:.4f}" == "-0.0356"
    assert text.count("$$") % 2 == 0


def test_latex_is_a_standalone_document():
    text = latex(SEED)
    assert text.startswith(r"\documentclass") and text.rstrip().endswith(r"\end{document}")
    assert r"\section*{Step 7: dL/dz = o $-$ o*}" in text
    assert rf"({DU2:.4f})(1.0) = {DU2:.4f} \]" in text


def test_the_command_line_writes_both():
    for fmt, start in (("markdown", "# Worked solution: Problem 1"), ("latex", r"\documentclass")):
        run = subprocess.run(
            [sys.executable, "-m", "nnviz", "solve", "--format", fmt],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0 and run.stdout.startswith(start)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("name", ["seed", "tutorial"])
def test_the_latex_compiles(name, tmp_path):
    (tmp_path / "solution.tex").write_text(latex(step(preset(name))))
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "solution.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "solution.pdf").stat().st_size > 1000


def test_a_large_network_gets_every_line_on_paper_but_not_on_screen():
    from nnviz.functions import Activation
    from nnviz.lesson import MAX_LINES, steps
    from nnviz.ui.state import random_problem

    activations = [Activation("tanh"), Activation("softmax")]
    p = step(random_problem([4, 16, 3], activations, "cross_entropy", False, seed=3))
    entry = re.compile(r"^\\frac\{\\partial \\mathcal\{L\}\}\{\\partial v_\{\d+,?\d+\}\} = ")
    text = markdown(p)
    assert sum(bool(entry.match(line)) for line in text.splitlines()) == 16 * 4  # every dL/dv_ji
    assert "more}" not in text
    on_screen = [e for s in steps(p) for e in s.equations]
    assert sum(bool(entry.match(e)) for e in on_screen) == MAX_LINES
