"""Names and numbers as a lecturer writes them on the blackboard.

A network with one hidden layer uses the seed's letters (v, u, h, w, z, o); any other depth uses
W1, u1, h1, W2, ... (shared spec, section 3).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from nnviz.core.text import clip

SEED_NAMES = (("v", "u", "h"), ("w", "z", "o"))


@dataclass(frozen=True)
class LayerSymbols:
    """The names of what weight layer l (1-based in its names) computes."""

    weights: str
    biases: str
    pre: str
    post: str


def layer_symbols(layers) -> list[LayerSymbols]:
    depth = len(layers) - 1
    if depth == 2:
        return [LayerSymbols(w, f"b{l + 1}", u, h) for l, (w, u, h) in enumerate(SEED_NAMES)]
    return [LayerSymbols(f"W{l}", f"b{l}", f"u{l}", f"h{l}") for l in range(1, depth + 1)]


def neuron_names(layers) -> list[list[str]]:
    """Every neuron's name, layer by layer: x1.., then h1.. and o1.. in the seed's letters,
    or h1_1.., h2_1.. for other depths."""
    names = [[f"x{i + 1}" for i in range(layers[0])]]
    seed_style = len(layers) == 3
    for l, s in enumerate(layer_symbols(layers)):
        prefix = s.post if seed_style else f"{s.post}_"
        names.append([f"{prefix}{j + 1}" for j in range(layers[l + 1])])
    return names


def number(value: float, decimals: int = 4) -> str:
    """A value in a table or a marking sheet: fixed decimals, scientific when huge."""
    if abs(value) >= 1e6:
        return f"{value:.{decimals}e}"
    return _unsigned_zero(f"{value:.{decimals}f}")


def short(value: float) -> str:
    """A number on the board: at most 4 decimals, trailing zeros dropped."""
    if abs(value) >= 1e6:
        return _unsigned_zero(f"{value:.4g}")
    text = f"{value:.4f}".rstrip("0")
    return _unsigned_zero(text + "0" if text.endswith(".") else text)


def significant(value: float, digits: int = 6) -> str:
    """A value to a number of significant digits, as a loss is reported."""
    return _unsigned_zero(f"{value:.{digits}g}")


def _unsigned_zero(text: str) -> str:
    """A number that rounds to zero is written 0, never -0: the one rule, for every format."""
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _index(index: tuple[int, ...]) -> str:
    """1-based indices, run together (21), or with commas once one has two digits (12,3): the
    one subscript rule."""
    sep = "," if any(i >= 10 for i in index) else ""
    return sep.join(map(str, index))


def element_name(symbol: str, index: tuple[int, ...]) -> str:
    """One element's name in text (u_3, dL/dw_12, v_12,3, L), from its 1-based index."""
    return f"{symbol}_{_index(index)}" if index else symbol


def element_latex(symbol: str, *index: int) -> str:
    """The same name in LaTeX: v_{21}, v_{12,3}."""
    return f"{symbol}_{{{_index(index)}}}"


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DECIMAL_COMMA = re.compile(r"([+-]?)([0-9]*),([0-9]+)((?:[eE][+-]?[0-9]+)?)")
EXPECTED = "expected a number such as 0.25, -1.5e-3 or 0,25"


def read_number(typed: str) -> float:
    """A number as a student types it into a cell: 0.25, -1.5E-3, 1e7, −2 with the board's
    minus, or 0,25 with a decimal comma. Anything else, and a comma that could group thousands
    (1,500), raises ValueError with what follows the cell's name in a message, so that a grid
    never misreads a number silently."""
    text = typed.strip().replace("\u2212", "-")
    quoted = f'"{clip(typed.strip())}"'
    if _DECIMAL.fullmatch(text):
        value = float(text)
    elif comma := _DECIMAL_COMMA.fullmatch(text):
        sign, whole, fraction, exponent = comma.groups()
        if len(fraction) == 3 and whole.lstrip("0") and not exponent:
            raise ValueError(
                f"is {quoted}, which could be {sign}{whole}.{fraction} or {sign}{whole}{fraction}"
                "; write it with a decimal point"
            )
        value = float(f"{sign}{whole}.{fraction}{exponent}")
    else:
        raise ValueError(f"is {quoted}; {EXPECTED}" if text else f"is empty; {EXPECTED}")
    if not math.isfinite(value):
        raise ValueError(f"is {quoted}, too large for any number")
    return value
