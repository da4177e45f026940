"""The lecture: one training step cut into the steps a lecturer writes on the board.

`steps(p)` turns a computed `Iteration` into an ordered list of `Step`s. Each says what it reveals,
which weight layer it lights, and its equations: the general formula, then each neuron or weight
with the numbers substituted, in the seed's notation. The stepper, and later the worksheets,
show these equations; none of them computes a number of its own.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from nnviz.core.engine import Iteration
from nnviz.core.functions import ACTIVATIONS
from nnviz.core.notation import element_latex, layer_symbols, short
from nnviz.teaching.quantities import plan

MAX_LINES = 12  # entries per step on screen; a large layer shows the first ones, then how many
ABRIDGED = 4  # terms of a long sum on screen


@dataclass(frozen=True)
class Step:
    title: str  # plain text, as in the heading "Step k of N: title"
    phase: str  # setup, forward, loss, backward, update
    layer: int | None  # the weight layer lit; None for the whole network
    reveals: frozenset  # every quantity known once this step is shown, e.g. ("pre", 0)
    equations: tuple[str, ...]  # LaTeX, the general formula first

    def _repr_latex_(self) -> str:
        """Jupyter shows a step as the blackboard does: its title, then each equation."""
        return "\n".join([rf"$$\text{{{self.title}}}$$", *(f"$${e}$$" for e in self.equations)])


def _p(value: float) -> str:
    return f"({short(value)})"


_sub = element_latex  # v_{21}, as notation names it


def dl_d(of: str) -> str:
    return rf"\frac{{\partial \mathcal{{L}}}}{{\partial {of}}}"


def _eq(lhs: str, *rhs: str) -> str:
    """lhs = rhs[0] = rhs[1] = ...; when long, one row for each '=', so that a narrow column
    (or a projector at 1280 pixels) still shows the result."""
    if sum(map(len, rhs)) < 50:
        return " = ".join((lhs, *rhs))
    return rf"\begin{{aligned}} {lhs} &= " + r" \\ &= ".join(rhs) + r" \end{aligned}"


def one_line(tex: str) -> str:
    """An `_eq` chain as one line, lhs = a = b: a browser wraps that after any = or + to fit
    its column (page.css), where the rows of `aligned` cannot wrap, nor can a PDF's line."""
    if not (tex.startswith(r"\begin{aligned} ") and tex.endswith(r" \end{aligned}")):
        return tex
    body = tex.removeprefix(r"\begin{aligned} ").removesuffix(r" \end{aligned}")
    return body.replace(r" \\ &= ", " = ").replace(" &= ", " = ")


def _minus(a: float, b: float) -> str:
    """a - b on the board: 0.75 + 1.0 rather than 0.75 - -1.0."""
    return f"{short(a)} - {short(b)}" if b >= 0 else f"{short(a)} + {short(-b)}"


def _terms(cap: int) -> int:
    """Terms of a long sum to write: ABRIDGED on screen, every one without a cap."""
    return ABRIDGED if cap <= MAX_LINES else cap


def _capped(lines: list[str], entries: int, cap: int) -> list[str]:
    """The general formula and the first `cap` entries, then a count of the rest."""
    if entries <= cap:
        return lines
    return [*lines[: cap + 1], rf"\vdots \quad \text{{and {entries - cap} more}}"]


class _Names:
    """The names of one weight layer's quantities: LaTeX (v, W^{(1)}) and plain (v, W1)."""

    def __init__(self, problem, l):
        names = _symbols(problem.layers)
        self.plain = names[l]
        self.prev_plain = "x" if l == 0 else names[l - 1].post
        s = self.plain
        self.w, self.u, self.h, self.b = (
            tex_symbol(a) for a in (s.weights, s.pre, s.post, s.biases)
        )
        self.prev = tex_symbol(self.prev_plain)


@lru_cache(maxsize=16)
def _symbols(layers: tuple[int, ...]):
    return layer_symbols(layers)


def tex_symbol(symbol: str) -> str:
    """W1 -> W^{(1)}, so that a subscript can follow; v -> v."""
    return symbol if len(symbol) == 1 else f"{symbol[0]}^{{({symbol[1:]})}}"


def _function(name: str) -> str:
    return ACTIVATIONS[name].board


def step_count(problem) -> int:
    return len(plan(problem).boards)


def steps(p: Iteration, cap: int | None = MAX_LINES) -> list[Step]:
    """The lecture of one step, as `plan` orders it. `cap` entries per step at most, as the
    screen shows them; None writes every one out, as a worked solution must."""
    cap = sys.maxsize if cap is None else cap
    out, known = [], set()
    for board in plan(p.problem).boards:
        known.update(board.reveals)
        title, equations = _BOARDS[board.kind](p, board.layer, cap)
        out.append(Step(title, board.phase, board.layer, frozenset(known), tuple(equations)))
    return out


def _setup_board(p: Iteration, l, cap):
    return "The setup", _setup(p.problem, cap)


def _pre_board(p: Iteration, l: int, cap):
    n = _Names(p.problem, l)
    s = n.plain
    bias = f" + {s.biases}" if p.problem.biases is not None else ""
    return f"{s.pre} = {s.weights} {n.prev_plain}{bias}", _pre(p, l, n, cap)


def _post_board(p: Iteration, l: int, cap):
    n = _Names(p.problem, l)
    name = p.problem.activations[l].function.title
    return f"{n.plain.post} = {name}({n.plain.pre})", _post(p, l, n, cap)


def _loss_board(p: Iteration, l, cap):
    return "The loss L", _loss(p, cap)


def _output_delta_board(p: Iteration, l: int, cap):
    problem, s = p.problem, _Names(p.problem, l).plain
    fused = problem.loss.output_activation == problem.activations[-1].name
    title = f"dL/d{s.pre} = {s.post} − o*" if fused else f"dL/d{s.post} and dL/d{s.pre}"
    return title, _output_delta(p, _Names(problem, l), fused, cap)


def _grad_weights_board(p: Iteration, l: int, cap):
    n = _Names(p.problem, l)
    biases = f" and dL/d{n.plain.biases}" if p.problem.biases is not None else ""
    return f"dL/d{n.plain.weights}{biases}", _grad_weights(p, l, n, cap)


def _grad_hidden_board(p: Iteration, l: int, cap):
    n, m = _Names(p.problem, l), _Names(p.problem, l - 1)
    return f"dL/d{m.plain.post} and dL/d{m.plain.pre}", _grad_hidden(p, l, n, m, cap)


def _update_board(p: Iteration, l, cap):
    depth = len(p.problem.weights)
    names = " and ".join(_Names(p.problem, k).plain.weights for k in range(depth - 1, -1, -1))
    return f"The update of {names}", _update(p, cap)


_BOARDS = {  # a Board's kind (quantities.plan) -> its title and equations
    "setup": _setup_board,
    "pre": _pre_board,
    "post": _post_board,
    "loss": _loss_board,
    "output_delta": _output_delta_board,
    "grad_weights": _grad_weights_board,
    "grad_hidden": _grad_hidden_board,
    "update": _update_board,
}


# --- the equations of each step ---------------------------------------------------------------


def _setup(problem, cap: int) -> list[str]:
    acts = ", ".join(f"{_function(a.name)}" for a in problem.activations)
    lines = [
        r"\text{layers } "
        + r" \to ".join(map(str, problem.layers))
        + rf",\allowbreak\quad \text{{activations }} {acts},\allowbreak\quad "
        + rf"\eta = {short(problem.learning_rate)}",
        "x = " + _vector(problem.x, cap),
        "o^* = " + _vector(problem.target, cap),
    ]
    for l in range(len(problem.weights)):
        n = _Names(problem, l)
        lines.append(f"{n.w} = " + _matrix(problem.weights[l], cap))
        if problem.biases is not None:
            lines.append(f"{n.b} = " + _vector(problem.biases[l], cap))
    return lines


def _vector(v, cap: int) -> str:
    if len(v) > cap:
        head = " & ".join(short(a) for a in v[:cap])
        return rf"\begin{{bmatrix}} {head} & \cdots \end{{bmatrix}}^T"
    return r"\begin{bmatrix} " + " & ".join(short(a) for a in v) + r" \end{bmatrix}^T"


def _matrix(m, cap: int) -> str:
    rows = [
        " & ".join(short(a) for a in r[:cap]) + (r" & \cdots" if len(r) > cap else "")
        for r in m[:cap]
    ]
    if len(m) > cap:
        rows.append(r"\vdots")
    return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"


def _pre(p: Iteration, l: int, n: _Names, cap: int) -> list[str]:
    problem = p.problem
    w = problem.weights[l]
    inputs = problem.x if l == 0 else p.forward.post[l - 1]
    bias = problem.biases[l] if problem.biases is not None else None
    general = f"{n.u}_j = \\sum_i {n.w}_{{ji}} {n.prev}_i" + (
        f" + {n.b}_j" if bias is not None else ""
    )
    lines = [general]
    for j in range(min(w.shape[0], cap)):
        terms = [f"{_sub(n.w, j + 1, i + 1)} {_sub(n.prev, i + 1)}" for i in range(w.shape[1])]
        values = [f"{_p(w[j, i])}{_p(inputs[i])}" for i in range(w.shape[1])]
        if bias is not None:
            terms.append(_sub(n.b, j + 1))
            values.append(_p(bias[j]))
        if w.shape[1] > 4:  # a long row: the symbols once, the numbers in short
            terms = [*terms[:2], r"\cdots", terms[-1]]
            values = [*values[:2], r"\cdots", values[-1]]
        lines.append(
            _eq(_sub(n.u, j + 1), " + ".join(terms), " + ".join(values), short(p.forward.pre[l][j]))
        )
    return _capped(lines, w.shape[0], cap)


def _post(p: Iteration, l: int, n: _Names, cap: int) -> list[str]:
    act = p.problem.activations[l]
    u, h = p.forward.pre[l], p.forward.post[l]
    fn = _function(act.name)
    lines = [act.latex]
    if act.name == "softmax":
        terms = _terms(cap)
        denominator = " + ".join(f"e^{{{short(z)}}}" for z in u[:terms]) + (
            r" + \cdots" if len(u) > terms else ""
        )
        for k in range(min(len(u), cap)):
            general = f"\\frac{{e^{{{_sub(n.u, k + 1)}}}}}{{\\sum_{{k'}} e^{{{n.u}_{{k'}}}}}}"
            numbers = f"\\frac{{e^{{{short(u[k])}}}}}{{{denominator}}}"
            lines.append(_eq(_sub(n.h, k + 1), general, numbers, short(h[k])))
    else:
        for j in range(min(len(u), cap)):
            lines.append(
                f"{_sub(n.h, j + 1)} = {fn}({_sub(n.u, j + 1)}) = {fn}({short(u[j])})"
                f" = {short(h[j])}"
            )
    return _capped(lines, len(u), cap)


def _loss(p: Iteration, cap: int) -> list[str]:
    problem, o, t = p.problem, p.forward.post[-1], p.problem.target
    k = range(min(len(o), cap))
    more = r" + \cdots" if len(o) > cap else ""
    if problem.loss.name == "cross_entropy":  # terms with o*_k = 0 add nothing: left out
        terms = " + ".join(f"{_p(t[i])} \\ln {_p(o[i])}" for i in k if t[i] != 0)
        value = f"-({terms}{more})"
    elif problem.loss.name == "binary_cross_entropy":
        terms = " + ".join(
            f"{_p(t[i])} \\ln {_p(o[i])} + (1 - {short(t[i])}) \\ln (1 - {short(o[i])})" for i in k
        )
        value = f"-[{terms}{more}]"
    else:
        terms = " + ".join(f"({_minus(o[i], t[i])})^2" for i in k)
        value = rf"\frac{{1}}{{2}} [{terms}{more}]"
    return [problem.loss.latex, _eq(r"\mathcal{L}", value, short(p.forward.loss))]


def _output_delta(p: Iteration, n: _Names, fused: bool, cap: int) -> list[str]:
    problem, b = p.problem, p.backward
    o, t = p.forward.post[-1], problem.target
    shown = range(min(len(o), cap))
    if fused:
        lines = [f"{dl_d(n.u + '_k')} = {n.h}_k - o^*_k"]
        lines += [
            f"{dl_d(_sub(n.u, k + 1))} = {_sub(n.h, k + 1)} - o^*_{{{k + 1}}} = "
            f"{_minus(o[k], t[k])} = {short(b.grad_pre[-1][k])}"
            for k in shown
        ]
        return _capped(lines, len(o), cap)
    act = problem.activations[-1]  # squared error: dL/do_k = o_k - o*_k
    lines = [problem.loss.gradient_latex.replace("o_k", f"{n.h}_k")]
    lines += [
        f"{dl_d(_sub(n.h, k + 1))} = {_sub(n.h, k + 1)} - o^*_{{{k + 1}}} = "
        f"{_minus(o[k], t[k])} = {short(b.grad_post[-1][k])}"
        for k in shown
    ]
    if act.mixes:
        grad_o = dl_d(n.h + "_{k'}")
        lines.append(
            f"{dl_d(n.u + '_k')} = \\sum_{{k'}} {grad_o} {n.h}_{{k'}} (\\delta_{{kk'}} - {n.h}_k)"
        )
        lines.append(act.derivative_latex)
        lines += [f"{dl_d(_sub(n.u, k + 1))} = {short(b.grad_pre[-1][k])}" for k in shown]
        return lines
    z, fn = p.forward.pre[-1], _function(act.name)
    derivative = act.derivative(z)
    lines.append(f"{dl_d(n.u + '_k')} = {dl_d(n.h + '_k')} \\, {fn}'({n.u}_k)")
    lines.append(act.derivative_latex)  # f' is written out where it is used
    lines += [
        _eq(
            dl_d(_sub(n.u, k + 1)),
            f"{_p(b.grad_post[-1][k])} \\, {fn}'({short(z[k])})",
            f"{_p(b.grad_post[-1][k])}{_p(derivative[k])}",
            short(b.grad_pre[-1][k]),
        )
        for k in shown
    ]
    return lines


def _grad_weights(p: Iteration, l: int, n: _Names, cap: int) -> list[str]:
    problem, b = p.problem, p.backward
    inputs = problem.x if l == 0 else p.forward.post[l - 1]
    delta, g = b.grad_pre[l], b.grad_weights[l]
    lines = [f"{dl_d(n.w + '_{ji}')} = {dl_d(n.u + '_j')} \\, {n.prev}_i"]
    for j, i in list(np.ndindex(g.shape))[: cap + 1]:
        lines.append(
            f"{dl_d(_sub(n.w, j + 1, i + 1))} = {dl_d(_sub(n.u, j + 1))} "
            f"{_sub(n.prev, i + 1)} = {_p(delta[j])}{_p(inputs[i])} = "
            f"{short(g[j, i])}"
        )
    lines = _capped(lines, g.size, cap)
    if problem.biases is not None:
        lines.append(f"{dl_d(n.b + '_j')} = {dl_d(n.u + '_j')} = " + _vector(delta, cap))
    return lines


def _grad_hidden(p: Iteration, l: int, n: _Names, m: _Names, cap: int) -> list[str]:
    """dL/dh and dL/du of layer l-1, through the weights of layer l."""
    problem, b = p.problem, p.backward
    w, delta = problem.weights[l], b.grad_pre[l]
    act = problem.activations[l - 1]
    u, grad_h, grad_u = p.forward.pre[l - 1], b.grad_post[l - 1], b.grad_pre[l - 1]
    derivative = act.derivative(u)
    lines = [f"{dl_d(m.h + '_j')} = \\sum_k {dl_d(n.u + '_k')} \\, {n.w}_{{kj}}"]
    shown = range(min(len(u), cap // 2))
    for j in shown:
        shown_terms = range(min(len(delta), _terms(cap)))
        terms = " + ".join(f"{_p(delta[k])}{_p(w[k, j])}" for k in shown_terms)
        more = r" + \cdots" if len(delta) > len(shown_terms) else ""
        lines.append(f"{dl_d(_sub(m.h, j + 1))} = {terms}{more} = {short(grad_h[j])}")
    lines.append(f"{dl_d(m.u + '_j')} = {dl_d(m.h + '_j')} \\, {_function(act.name)}'({m.u}_j)")
    lines.append(act.derivative_latex)
    for j in shown:
        lines.append(
            _eq(
                dl_d(_sub(m.u, j + 1)),
                f"{_p(grad_h[j])} \\, {_function(act.name)}'({short(u[j])})",
                f"{_p(grad_h[j])}{_p(derivative[j])}",
                short(grad_u[j]),
            )
        )
    if len(u) > len(shown):
        lines.append(rf"\vdots \quad \text{{and {len(u) - len(shown)} more of each}}")
    return lines


def _update_line(n: _Names, p: Iteration, l: int, j: int, i: int) -> str:
    w, g = p.problem.weights[l][j, i], p.backward.grad_weights[l][j, i]
    return (
        f"{_sub(n.w, j + 1, i + 1)} \\leftarrow {short(w)} - {_p(p.problem.learning_rate)}"
        f"{_p(g)} = {short(p.updated.weights[l][j, i])}"
    )


def _update(p: Iteration, cap: int) -> list[str]:
    problem, new = p.problem, p.updated
    lines = []
    for l in range(len(problem.weights) - 1, -1, -1):
        n = _Names(problem, l)
        w, w_new = problem.weights[l], new.weights[l]
        lines.append(
            rf"{{{n.w}}}^{{\text{{new}}}}_{{ji}} = {n.w}_{{ji}} - \eta "
            f"{dl_d(n.w + '_{ji}')}"
        )
        shown = list(np.ndindex(w.shape))[: cap // 3]
        lines += [_update_line(n, p, l, j, i) for j, i in shown]
        lines.append(f"{{{n.w}}}^{{\\text{{new}}}} = " + _matrix(w_new, cap))
        if problem.biases is not None:
            lines.append(f"{{{n.b}}}^{{\\text{{new}}}} = " + _vector(new.biases[l], cap))
    return lines


def board_lines(lesson: list[Step]) -> dict[str, str]:
    """Every line of the lesson that works a value out, by its left-hand side (u_{2},
    \\mathcal{L}, v_{21} \\leftarrow): the last one, after the general formula, is the one
    with the numbers. Built once, so that marking 60,000 answers looks each one up."""
    lines = {}
    for s in lesson:
        for e in s.equations:
            body = e.removeprefix(r"\begin{aligned} ")
            if r" \leftarrow" in body:
                lines[body[: body.index(r" \leftarrow")] + r" \leftarrow"] = e
            elif " &= " in body or " = " in body:
                cut = min(i for i in (body.find(" &= "), body.find(" = ")) if i >= 0)
                lines[body[:cut]] = e
    return lines


def working(
    p: Iteration, kind: str, layer: int | None, index: tuple[int, ...], lines: dict[str, str]
) -> str | None:
    """The lesson's line that works out one element (0-based index), e.g. u_2, in LaTeX, from
    `board_lines`; None where the lesson shows only the first rows of a large layer."""
    if kind == "loss":
        lhs = r"\mathcal{L}"
    elif layer is None:  # x and o*, which are given, not worked out
        return None
    else:
        n = _Names(p.problem, layer)
        one = tuple(i + 1 for i in index)
        lhs = {
            "pre": lambda: _sub(n.u, *one),
            "post": lambda: _sub(n.h, *one),
            "grad_pre": lambda: dl_d(_sub(n.u, *one)),
            "grad_post": lambda: dl_d(_sub(n.h, *one)),
            "grad_weights": lambda: dl_d(_sub(n.w, *one)),
            "weights_new": lambda: _sub(n.w, *one) + r" \leftarrow",
        }.get(kind, lambda: None)()
        if lhs is None:
            return None
    if lhs in lines:
        return lines[lhs]
    if kind == "weights_new":
        return _update_line(n, p, layer, *index)
    return None


def _unfrac(text: str) -> str:
    r"""\frac{a}{b} -> (a)/(b), braces nested or not."""
    while (start := text.find(r"\frac{")) >= 0:
        parts, i = [], start + len(r"\frac")
        for _ in range(2):
            depth, j = 0, i
            while True:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
            parts.append(text[i + 1 : j - 1])
            i = j
        text = f"{text[:start]}({parts[0]})/({parts[1]}){text[i:]}"
    return text


def plain(latex: str) -> str:
    """A board line as text: dL/du_2 = (-0.1597)(0.2231) = -0.0356."""
    text = re.sub(
        r"\\frac\{\\partial \\mathcal\{L\}\}\{\\partial ([^{}]*(\{[^{}]*\})?)\}", r"dL/d\1", latex
    )
    text = _unfrac(text)
    for a, b in (
        (r"\begin{aligned}", ""),
        (r"\end{aligned}", ""),
        ("&", ""),
        (r"\\", ""),
        (r"\mathcal{L}", "L"),
        (r"\leftarrow", "<-"),
        (r"\ln", "ln"),
        (r"\,", " "),
        (r"\mathrm", ""),
        ("\\", ""),
    ):
        text = text.replace(a, b)
    text = re.sub(r"_\{([^{}]*)\}", r"_\1", text)
    text = re.sub(r"\{([^{}]*)\}", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()
