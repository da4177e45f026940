"""A training run as Plotly figures: the loss, each weight, and the outputs, over the iterations.

Pure functions of a `Training`, like the network figure, so that the app, the export and the
tests all draw the same thing.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nnviz.core.notation import element_name, layer_symbols
from nnviz.core.training import Training

MAX_POINTS = 1000  # about the pixels across a chart: more only slows every rerun
MAX_LINES = 64  # weights drawn per layer; a 64x64 layer's 4096 lines would be a grey blur
HEIGHT = 360


def thinned(n: int) -> np.ndarray:
    """At most MAX_POINTS indices into n points, evenly spread, the first and last included."""
    if n <= MAX_POINTS:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, MAX_POINTS).round().astype(int))


def loss_curve(t: Training, log: bool = False) -> go.Figure:
    """L after 0, 1, ..., n updates: the recorded losses, then the loss at the final weights."""
    losses = np.append(t.loss, t.final_loss)
    shown = thinned(len(losses))
    fig = go.Figure(
        go.Scatter(
            x=shown,
            y=losses[shown],
            mode="lines+markers" if len(shown) <= 50 else "lines",
            name="L",
            hovertemplate="after %{x} updates: L = %{y:.6g}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Loss over {t.iterations_run:,} iterations",
        xaxis_title="updates made",
        yaxis_title="loss L" + (" (log scale)" if log else ""),
        yaxis_type="log" if log else "linear",
        height=HEIGHT,
        margin=dict(l=60, r=20, t=50, b=50),
        template="plotly_white",
    )
    return fig


def weight_paths(t: Training) -> go.Figure:
    """Each weight over the iterations, one panel per weight layer (and its biases)."""
    symbols = layer_symbols(t.start.layers)
    rows = len(symbols)
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        subplot_titles=[_panel_title(t, l, s.weights) for l, s in enumerate(symbols)],
        vertical_spacing=0.08 if rows < 5 else 0.03,
    )
    shown = thinned(len(t.recorded))
    x = t.recorded[shown]
    for l, s in enumerate(symbols):
        paths = [(s.weights, t.weights[l])]
        if t.biases is not None:
            paths.append((s.biases, t.biases[l]))
        drawn = 0
        for symbol, values in paths:
            for index in np.ndindex(values.shape[1:]):
                if drawn == MAX_LINES:
                    break
                drawn += 1
                name = element_name(symbol, tuple(i + 1 for i in index))
                fig.add_trace(
                    go.Scatter(
                        x=x,
                        y=values[(shown, *index)],
                        mode="lines",
                        name=name,
                        legendgroup=f"layer{l}",
                        showlegend=values[0].size <= 16,
                        hovertemplate=f"{name} after %{{x}} updates: %{{y:.6g}}<extra></extra>",
                    ),
                    row=l + 1,
                    col=1,
                )
    fig.update_xaxes(title_text="updates made", row=rows, col=1)
    fig.update_layout(
        height=max(HEIGHT, 240 * rows),
        margin=dict(l=60, r=20, t=50, b=50),
        template="plotly_white",
    )
    return fig


def _panel_title(t: Training, l: int, symbol: str) -> str:
    count = t.weights[l][0].size + (0 if t.biases is None else t.biases[l][0].size)
    if count <= MAX_LINES:
        return f"weights {symbol}" + ("" if t.biases is None else " and biases")
    return f"weights {symbol}: the first {MAX_LINES} of {count}"


def output_paths(t: Training) -> go.Figure:
    """The network's outputs o_k over the iterations, with the target values dotted."""
    shown = thinned(len(t.recorded))
    x = t.recorded[shown]
    out = layer_symbols(t.start.layers)[-1].post
    fig = go.Figure()
    for k in range(t.outputs.shape[1]):
        name = f"{out}_{k + 1}"
        fig.add_trace(
            go.Scatter(
                x=x,
                y=t.outputs[shown, k],
                mode="lines",
                name=name,
                hovertemplate=f"{name} after %{{x}} updates: %{{y:.6g}}<extra></extra>",
            )
        )
    for value in np.unique(t.start.target):
        fig.add_trace(
            go.Scatter(
                x=[x[0], x[-1]],
                y=[value, value],
                mode="lines",
                line=dict(dash="dot", color="grey", width=1),
                name=f"target {value:g}",
                hoverinfo="skip",
            )
        )
    fig.update_layout(
        title="Outputs",
        xaxis_title="updates made",
        height=HEIGHT,
        margin=dict(l=60, r=20, t=50, b=50),
        template="plotly_white",
    )
    return fig
