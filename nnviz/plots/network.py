"""The network as a Plotly figure: a pure function of the pass, the step and the colour mode.

Edges are drawn as a few traces, one per colour bin (and per lit or faded), with gaps between
edges, because Plotly gives a trace one line colour and one trace per edge is hundreds of times
slower. Invisible markers at the edge midpoints carry the hover text and the colour bar.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from nnviz.core.engine import Iteration
from nnviz.core.notation import element_name, layer_symbols, neuron_names, number, short
from nnviz.teaching.lesson import Step

MODES = ("weight", "gradient", "update")
# Red for negative, blue for positive (told apart by red-green colour-blind readers too), and a
# grey at zero that stays visible on white.
COLORSCALE = [
    [0.0, "#67001f"],
    [0.25, "#d6604d"],
    [0.5, "#bdbdbd"],
    [0.75, "#4393c3"],
    [1.0, "#053061"],
]
BINS = 11  # odd, so that one bin is centred on zero
MIN_WIDTH, MAX_WIDTH = 1.0, 7.0
FADED = 0.2
LABELLED = 8  # larger layers get no text on their nodes: it would not fit
AT = 0.3  # where along its edge the hover point sits: crossing edges share their midpoints


def default_mode(step: Step) -> str:
    """What a lecturer wants coloured at this step: the weights going forward, the gradients
    coming back, the change at the update."""
    return {"backward": "gradient", "update": "update"}.get(step.phase, "weight")


def edge_values(p: Iteration, step: Step, mode: str) -> list[np.ndarray]:
    """Per weight layer, the quantity each edge shows in this mode. A gradient the lecture has
    not reached yet shows as 0: grey, and thin."""
    if mode == "weight":
        return list(p.problem.weights)
    shown = (
        p.backward.grad_weights
        if mode == "gradient"
        else [new - old for new, old in zip(p.updated.weights, p.problem.weights)]
    )
    return [
        v if ("grad_weights", l) in step.reveals else np.zeros_like(v) for l, v in enumerate(shown)
    ]


def figure(p: Iteration, step: Step, mode: str) -> go.Figure:
    """The network at a step of the lesson: edges coloured by weight, gradient or update, the
    layer of the step lit, and each neuron with the value the step has revealed."""
    # Plotly's checking of every property costs more than building them: these are known good
    return go.Figure(figure_dict(p, step, mode), _validate=False)


def figure_dict(p: Iteration, step: Step, mode: str) -> dict:
    """`figure` as the plain dict Plotly is given, with NumPy arrays in it: the page makes its
    kept figures from this, without Plotly's objects for every trace."""
    layers = p.problem.layers
    names = layer_symbols(layers)
    values = edge_values(p, step, mode)
    # Gradients of different layers can differ a hundredfold: scale to the layer in the lesson
    scaled = values if mode == "weight" or step.layer is None else [values[step.layer]]
    m = max(float(np.abs(v).max()) for v in scaled) or 1.0
    ys = [np.arange(n)[::-1] - (n - 1) / 2 for n in layers]
    edges = _edges(layers, values, ys, step.layer)
    traces = [
        *_edge_lines(edges, m),
        _edge_points(edges, m, _edge_hover(p, step, names), mode, values),
        _nodes(p, step, names, ys),
    ]
    layout = dict(
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        plot_bgcolor="white",
        height=460,
        xaxis={"visible": False, "range": [-0.5, len(layers) - 0.5]},
        yaxis={"visible": False},
        hovermode="closest",
        dragmode=False,
        template={"layout": {}},  # not Plotly's default: 7 of the figure's 12 to 15 kB
    )
    return {"data": traces, "layout": layout}


def _edges(layers, values, ys, lit_layer) -> dict[str, np.ndarray]:
    """Every edge at once, weight layer after layer: from (l, y_from[i]) to (l + 1, y_to[j]),
    its value, and whether its layer is lit."""
    x0, y0, x1, y1, val, lit = [], [], [], [], [], []
    for l, v in enumerate(values):
        to, frm = np.meshgrid(np.arange(layers[l + 1]), np.arange(layers[l]), indexing="ij")
        x0.append(np.full(v.size, l, float))
        x1.append(np.full(v.size, l + 1, float))
        y0.append(ys[l][frm.ravel()])
        y1.append(ys[l + 1][to.ravel()])
        val.append(v.ravel())
        lit.append(np.full(v.size, lit_layer is None or lit_layer == l))
    return dict(
        zip(("x0", "y0", "x1", "y1", "val", "lit"), map(np.concatenate, (x0, y0, x1, y1, val, lit)))
    )


def _edge_lines(e: dict, m: float) -> list[dict]:
    """One trace of lines per colour bin and per lit or faded: a few traces, not one an edge."""
    bins = np.clip(np.rint((e["val"] / m + 1) / 2 * (BINS - 1)), 0, BINS - 1).astype(int)
    centres = np.linspace(-1, 1, BINS)
    colours = sample_colorscale(COLORSCALE, (centres + 1) / 2)
    traces = []
    for is_lit in (False, True):
        for k in range(BINS):
            chosen = (bins == k) & (e["lit"] == is_lit)
            if not chosen.any():
                continue
            n = int(chosen.sum())
            gaps = np.full(n, np.nan)
            traces.append(
                dict(
                    type="scatter",
                    x=np.column_stack([e["x0"][chosen], e["x1"][chosen], gaps]).ravel(),
                    y=np.column_stack([e["y0"][chosen], e["y1"][chosen], gaps]).ravel(),
                    mode="lines",
                    hoverinfo="skip",
                    showlegend=False,
                    opacity=1.0 if is_lit else FADED,
                    line={
                        "color": colours[k],
                        "width": MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * abs(centres[k]),
                    },
                    name=f"edges {centres[k] * m:+.3g}",
                )
            )
    return traces


def _edge_points(e: dict, m: float, hover: list[str], mode: str, values) -> dict:
    """An invisible point on each edge that carries its hover text and the colour bar."""
    return dict(
        type="scatter",
        x=e["x0"] + AT * (e["x1"] - e["x0"]),
        y=e["y0"] + AT * (e["y1"] - e["y0"]),
        mode="markers",
        showlegend=False,
        hovertext=hover,
        hoverinfo="text",
        name="edge values",
        marker={
            "size": 10,
            "opacity": 0,
            "color": e["val"],
            "colorscale": COLORSCALE,
            "cmin": -m,
            "cmax": m,
            "showscale": True,
            "colorbar": {"title": {"text": _mode_title(mode)}, "thickness": 14},
        },
        customdata=np.column_stack(
            [np.repeat(np.arange(len(values)), [v.size for v in values]), np.arange(e["val"].size)]
        ),
    )


def _mode_title(mode: str) -> str:
    return {"weight": "weight", "gradient": "∂L/∂weight", "update": "change Δ = −η ∂L/∂w"}[mode]


def _edge_hover(p: Iteration, step: Step, names) -> list[str]:
    """'v_21 = 0.5000', then ', ∂L/∂v_21 = −0.0356' once the lecture has computed it, and
    ', Δ = 0.0036' at the update."""
    eta = p.problem.learning_rate
    text = []
    for l, s in enumerate(names):
        w, g = p.problem.weights[l], p.backward.grad_weights[l]
        known, updated = ("grad_weights", l) in step.reveals, ("weights_new", l) in step.reveals
        for (j, i), weight in np.ndenumerate(w):
            name = element_name(s.weights, (j + 1, i + 1))
            line = f"{name} = {_signed(weight)}"
            if known:
                line += f", ∂L/∂{name} = {_signed(g[j, i])}"
            if updated:
                line += f", Δ = {_signed(-eta * g[j, i])}"
            text.append(line)
    return text


def _signed(value: float) -> str:
    """4 decimals with a true minus sign, as a hover label is read, not parsed."""
    return number(value, 4).replace("-", "−")


def _nodes(p: Iteration, step: Step, names, ys) -> dict:
    """Each neuron with its symbol, and its value once this step has revealed it."""
    shown = step.reveals
    backward = step.phase in ("backward", "update")
    neurons = neuron_names(p.problem.layers)
    xs, ys_, labels, hover, lit = [], [], [], [], []
    for layer, n in enumerate(p.problem.layers):
        for j in range(n):
            label, value = neurons[layer][j], _node_value(p, names, layer, j, shown, backward)
            xs.append(layer)
            ys_.append(ys[layer][j])
            parts = [label, *value.split("=")] if value else [label]
            labels.append("" if n > LABELLED else "<br>".join(parts))
            hover.append(f"{label} {value}".strip())
            lit.append(step.layer is None or layer in (step.layer, step.layer + 1))
    return dict(
        type="scatter",
        x=xs,
        y=ys_,
        mode="markers+text",
        text=labels,
        textposition="middle center",
        hovertext=hover,
        hoverinfo="text",
        showlegend=False,
        name="neurons",
        textfont={"size": 13, "color": "#111"},
        marker={
            "size": 76 if max(p.problem.layers) <= LABELLED else 14,
            "color": "white",
            "line": {
                "width": [3 if x else 1 for x in lit],
                "color": ["#222" if x else "#bbb" for x in lit],
            },
        },
    )


def _node_value(p: Iteration, names, layer: int, j: int, shown, backward: bool) -> str:
    """The value to print beside neuron j of this layer, once the step has revealed it."""
    f, b = p.forward, p.backward
    if layer == 0:
        return short(p.problem.x[j])
    l = layer - 1
    s = names[l]
    if backward:
        for key, symbol, values in (
            (("grad_pre", l), s.pre, b.grad_pre),
            (("grad_post", l), s.post, b.grad_post),
        ):
            if key in shown:
                return f"∂L/∂{symbol}={short(values[l][j])}"
    if ("post", l) in shown:
        return f"{s.post}={short(f.post[l][j])}"
    if ("pre", l) in shown:
        return f"{s.pre}={short(f.pre[l][j])}"
    return ""
