"""Grids that people type numbers into: the weights, the answers and the quiz's predictions.

Their cells are text, read on the server by `notation.read_number`. The browser's own number
cells read 1e7 as 17, 1,5 as 15 and 0,3095 as 3095, without a word.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import streamlit as st

from nnviz.core.notation import read_number, short
from nnviz.teaching.quantities import Quantity, element_label, neurons


def board(values) -> np.ndarray:
    """Cells as the board writes numbers, at most four decimals; a blank (NaN) is empty."""
    return np.vectorize(lambda v: "" if np.isnan(v) else short(v), otypes=[object])(
        np.atleast_2d(np.asarray(values, dtype=float))
    )


def as_written(values, decimals=None) -> np.ndarray:
    """Cells holding answers as they were given: every digit, and the decimals written where
    a sheet says (0.80 stays 0.80); a blank is empty."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    decimals = None if decimals is None else np.atleast_2d(decimals)
    texts = np.full(values.shape, "", dtype=object)
    for index, v in np.ndenumerate(values):
        if np.isnan(v):
            continue
        text = repr(float(v)).removesuffix(".0")
        if decimals is not None and "e" not in text:
            fixed = f"{v:.{int(decimals[index])}f}"
            text = fixed if float(fixed) == v else text
        texts[index] = text
    return texts


def frame(texts: np.ndarray, rows, cols) -> pd.DataFrame:
    return pd.DataFrame(texts, index=list(rows), columns=list(cols), dtype=object)


def columns(cols) -> dict:
    return {c: st.column_config.TextColumn(c, alignment="right") for c in cols}


def read(
    values,
    texts: np.ndarray,
    edited_rows: dict,
    cols,
    names: Callable[[tuple[int, int]], str],
    blank: bool = False,
) -> tuple[np.ndarray, dict, str | None]:
    """The grid's values with its edits ({row: {column: text}}, as the browser sends them);
    the text of each cell that took a new value, by (row, column); and what is wrong with the
    first bad cell, by its name. A bad cell keeps its old value, and an emptied one is NaN where
    `blank` allows it. A cell typed back as it was shown keeps its value to every digit."""
    new = np.array(np.atleast_2d(values), dtype=float)
    where = {c: i for i, c in enumerate(cols)}
    typed, error = {}, None
    for row, changes in sorted(edited_rows.items(), key=lambda item: int(item[0])):
        for column, cell in changes.items():
            at = (int(row), where.get(column))
            if at[1] is None or not 0 <= at[0] < len(new):
                continue
            text = "" if cell is None else str(cell).strip()
            if text == texts[at]:
                continue
            if blank and not text:
                new[at] = np.nan
                continue
            try:
                new[at] = read_number(text)
                typed[at] = text
            except ValueError as e:
                error = error or f"{names(at)} {e}"
    return new, typed, error


def axes(q: Quantity, layers) -> tuple[list[str], list[str]]:
    """A quantity's grid, by neuron: a weight's row is the neuron it leads to, its column (← x1)
    the one it comes from; a vector's columns are its layer's neurons; the loss is one cell."""
    found = neurons(q, layers)
    if len(found) == 2:
        return found[0], [f"← {c}" for c in found[1]]
    return [q.name], found[0] if found else [q.name]


def answers(q: Quantity, layers, values, texts: np.ndarray, key: str):
    """A grid of answers to q, under its name, holding `texts`; read as `read` reads it, an
    emptied cell a blank, a bad one named by its neurons."""
    rows, cols = axes(q, layers)
    st.markdown(f"**{q.name}**")
    st.data_editor(
        frame(texts, rows, cols),
        key=key,
        hide_index=len(q.shape) < 2,
        disabled=["_index"],
        column_config=columns(cols),
    )
    state = st.session_state.get(key)
    return read(
        values,
        texts,
        state["edited_rows"] if state else {},
        cols,
        lambda at: element_label(q, at[2 - len(q.shape) :], layers),
        blank=True,
    )
