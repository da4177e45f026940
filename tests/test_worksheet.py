"""The worked solution as Markdown and LaTeX: the stepper's equations, in the stepper's order."""

import html
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from latex import compile_latex, finish_pdflatex, start_pdflatex
from seed import TITLES as STEP_TITLES

import nnviz.core.text
from nnviz.core.engine import iterate
from nnviz.core.problem import Problem, preset
from nnviz.teaching.worksheet import _SPECIAL, PREAMBLE, _escape, latex, markdown

ROOT = Path(__file__).resolve().parent.parent
SEED = iterate(preset("seed"))
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


def test_a_large_network_gets_every_line_on_paper_but_not_on_screen():
    from nnviz.core.functions import Activation
    from nnviz.core.networks import random_problem
    from nnviz.teaching.lesson import MAX_LINES, steps

    activations = [Activation("tanh"), Activation("softmax")]
    p = iterate(random_problem([4, 16, 3], activations, "cross_entropy", False, seed=3))
    entry = re.compile(r"^\\frac\{\\partial \\mathcal\{L\}\}\{\\partial v_\{\d+,?\d+\}\} = ")
    text = markdown(p)
    assert sum(bool(entry.match(line)) for line in text.splitlines()) == 16 * 4  # every dL/dv_ji
    assert "more}" not in text
    on_screen = [e for s in steps(p) for e in s.equations]
    assert sum(bool(entry.match(e)) for e in on_screen) == MAX_LINES


def titled(title: str):
    """The seed's pass, under a title that the problem format accepts."""
    return iterate(Problem.from_dict({**preset("seed").to_dict(), "title": title}))


PRINTABLE = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isprintable())


# The LaTeX worksheet, through pdflatex.


@pytest.mark.parametrize("name", ["seed", "tutorial"])
def test_the_latex_compiles(name, pdflatex, tmp_path):
    compile_latex(pdflatex, tmp_path, latex(iterate(preset(name))))


TITLES = {
    "alpha": "ELU with α = 1",  # noqa: RUF001
    "greek": "αβγδεζηθικλμνξοπρςστυφχψω ϑϕϖϵ ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ",
    "cjk": "中文标题 日本語のタイトル 한국어",
    "cjk-200": "中" * 200,
    "check": "✓ done, ✓\ufe0f with its emoji selector, ✔ ✗",
    "emoji": "Learning 😀🎉🧠 👍🏽",
    "accents": "é ü ß ø Ł ñ ç å Æ œ Ş ğ ı Ő Ž ẞ",  # noqa: RUF001
    "symbols": "≤ ≥ ≠ ± × · … – — “ ” ‘ ’ → ← ⇒ ↦ ∞ ∂ ∇ ∑ ℝ € £ ° ‰ x₁ x² W⁴ f′ f″",  # noqa: RUF001
    "rare": "ꙮ 𓀀 ᚠᛇᚻ Ⲁ \U0001d538 \U0001d6fc e\u0301 \ufe0e",
    "ligatures": "-- --- `` '' ,, << >> !` ?`",
    "specials": r"\ & % $ # _ { } ~ ^ \\ ^^ ~~ $$",
    "input": r"\input{/etc/passwd} \input{secret}",
    "write18": r"\immediate\write18{touch pwned} \write18{touch pwned}",
    "catcode": r"\catcode`\@=0 @input{secret} \catcode`\^^5c=12",
    "caret-escapes": r"^^5cinput^^7bsecret^^7d ^^5c ^^M ^^I",
    "unbalanced": r"}\input{secret}{ { unbalanced",
    "comment": r"% the rest of the line is gone \input{secret}",
    "loop": r"\def\x{\x}\x \end{document}",
    "openin": r"\openin5=/etc/passwd \read5 to\x \x \csname input\endcsname{secret}",
}


@pytest.mark.parametrize("title", TITLES.values(), ids=TITLES.keys())
def test_the_latex_compiles_for_any_title(title, pdflatex, tmp_path):
    """And the title runs no command: `secret.tex` would say that it was read, and the
    recorder (.fls) lists every file that pdflatex opened."""
    (tmp_path / "secret.tex").write_text(r"\typeout{THE SECRET WAS READ}")
    log = compile_latex(pdflatex, tmp_path, latex(titled(title)))
    assert "THE SECRET WAS READ" not in log and "root:" not in log
    opened = (tmp_path / "solution.fls").read_text(encoding="utf-8", errors="replace")
    assert "secret.tex" not in opened and "/etc/passwd" not in opened
    assert "runsystem" not in log and not (tmp_path / "pwned").exists()
    assert "Missing character" not in log


def test_every_printable_character_compiles(pdflatex, tmp_path):
    r"""Every character a title may hold, 200 at a time as in the longest title, in the title
    and in the headings of four documents compiled side by side. \tracinglostchars=3 makes a
    glyph missing from a font an error too: every character shows, as itself or boxed."""
    assert len(PRINTABLE) > 140_000
    titles = [PRINTABLE[i : i + 200] for i in range(0, len(PRINTABLE), 200)]
    runs = []
    for k in range(4):
        mine = titles[k::4]
        document = [
            PREAMBLE + r"\tracinglostchars=3",
            rf"\title{{{_escape(mine[0])}}}",
            r"\begin{document}\maketitle",
            *(rf"\section*{{Step 1: {_escape(t)}}} \[ x \]" for t in mine[1:]),
            r"\end{document}",
        ]
        folder = tmp_path / str(k)
        runs.append((start_pdflatex(pdflatex, folder, "\n".join(document)), folder))
    for run, folder in runs:
        assert "Missing character" not in finish_pdflatex(run, folder)


def test_a_title_keeps_what_latex_prints_and_boxes_the_rest():
    assert _escape("ELU with α = 1") == r"ELU with $\alpha$ = 1"  # noqa: RUF001
    assert _escape("Α Γ ο") == r"$\mathrm{A}$ $\Gamma$ $o$"  # noqa: RUF001 (there is no \Alpha)
    assert _escape("é ü ß ø Ł — “x” € ¹") == "é ü ß ø Ł — “x” € ¹"
    assert _escape("中 😀 ✓ x₁") == r"\codepoint{4E2D} \codepoint{1F600} $\checkmark$ x$_1$"
    assert _escape("✓\ufe0f") == r"$\checkmark$"
    assert _escape(r"\input{x} 5% $1 #2 a_b ~^&") == (
        r"\textbackslash{}input\{x\} 5\% \$1 \#2 a\_b \textasciitilde{}\textasciicircum{}\&"
    )
    assert _escape("a--b << c") == "a-{}-b <{}< c"
    assert _escape("dL/dz = o − o*") == "dL/dz = o $-$ o*"


@pytest.mark.parametrize(
    "title", [*TITLES.values(), PRINTABLE], ids=[*TITLES.keys(), "every printable character"]
)
def test_no_title_reaches_latex_as_a_command(title):
    """Every control sequence in the output is one of the module's own, the braces balance,
    math opens and closes in pairs, and no comment, parameter or alignment is left active."""
    command = re.compile(r"\\(?:[a-zA-Z]+|.)")
    own = {r"\codepoint"} | {c for v in _SPECIAL.values() for c in command.findall(v)}
    escaped = _escape(title)
    assert set(command.findall(escaped)) <= own
    bare = command.sub("", escaped)  # \{ \} \$ \% \# \& are gone with the commands
    depth = 0
    for c in re.findall("[{}]", bare):
        depth += 1 if c == "{" else -1
        assert depth >= 0
    assert depth == 0 and bare.count("$") % 2 == 0
    assert not set(bare) & set("%#&~\\")


# The Markdown worksheet.

HOSTILE_MARKDOWN = [
    "[click](https://evil.example)",
    "![x](https://evil.example/p.png)",
    "<img src=x onerror=alert(1)>",
    r"$\rule{5000px}{5000px}$",
    "<https://evil.example> https://evil.example www.evil.example a@evil.example",
    "**bold** _em_ `code` ~~strike~~ # not a heading",
    "&lt;script&gt; &#60;b&#62; \\[x\\](y) [a]: https://evil.example",
]


@pytest.mark.parametrize("title", HOSTILE_MARKDOWN)
def test_the_markdown_title_is_escaped(title):
    """Every character of Markdown's syntax is escaped, `$` of a formula too."""
    heading = markdown(titled(title)).splitlines()[0]
    assert heading == f"# Worked solution: {nnviz.core.text.markdown(title)}"
    assert not re.search(r"(?<!\\)[$\[\]<>`*_&!]", heading.removeprefix("# "))


@pytest.mark.parametrize("title", HOSTILE_MARKDOWN)
def test_the_markdown_title_renders_as_typed(title):
    """Through a CommonMark renderer: the heading is the title's text, and nothing of it is a
    link, an image or HTML; the step headings are their own text too, unescaped."""
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark").render(markdown(titled(title)))
    rendered = rendered.replace(nnviz.core.text.JOINER, "")
    headings = re.findall(r"<h([12])>(.*?)</h\1>", rendered)
    assert headings[0] == ("1", as_html(f"Worked solution: {title}"))
    assert headings[1:] == [("2", as_html(f"Step {k}: {s}")) for k, s in enumerate(STEP_TITLES, 1)]
    assert not re.search(r"<(a|img|script)\b", rendered)


def as_html(plain: str) -> str:
    """Text as markdown-it writes it in HTML."""
    return html.escape(plain, quote=False).replace('"', "&quot;")
