"""Names and numbers as a lecturer writes them on the blackboard.

A network with one hidden layer uses the seed's letters (v, u, h, w, z, o); any other depth uses
W1, u1, h1, W2, ... (shared spec, section 3).
"""

from __future__ import annotations

from dataclasses import dataclass

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
    """A value rounded for people: fixed decimals, scientific when huge, and never '-0.0000'."""
    if abs(value) >= 1e6:
        return f"{value:.{decimals}e}"
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def element_name(symbol: str, index: tuple[int, ...]) -> str:
    """u_3, dL/dw_12, L."""
    if not index:
        return symbol
    sep = "," if any(i >= 10 for i in index) else ""
    return f"{symbol}_{sep.join(map(str, index))}"
