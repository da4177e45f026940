"""The seed problem, written once for the tests that look at it: the titles of its eleven
steps, as the issue lists them, and its numbers worked out by hand in NumPy, independently of
nnviz."""

import numpy as np

SEED_V = np.array([[-1.0, 2.0, 0.0], [0.5, -1.0, 1.0], [1.5, 2.0, -0.4], [0.2, 0.1, 0.3]])
SEED_W = np.array([[1.0, 1.0, 0.5, 0.5], [0.3, 0.4, 0.5, 0.1]])
X = np.array([1.0, 1.5, -0.5])
TARGET = np.array([1.0, 0.0])
ETA = 0.1

TITLES = [
    "The setup",
    "u = v x",
    "h = ELU(u)",
    "z = w h",
    "o = softmax(z)",
    "The loss L",
    "dL/dz = o − o*",
    "dL/dw",
    "dL/dh and dL/du",
    "dL/dv",
    "The update of w and v",
]


def loss_and_gradients(v, w, linear=False):
    """ELU (alpha 1), then softmax and cross-entropy, or a linear output and
    L = 1/2 sum (z - o*)^2."""
    u = v @ X
    h = np.where(u > 0, u, np.expm1(np.minimum(u, 0)))
    z = w @ h
    if linear:
        loss, dz = 0.5 * np.sum((z - TARGET) ** 2), z - TARGET
    else:
        o = np.exp(z - z.max())
        o /= o.sum()
        loss, dz = float(-np.sum(TARGET * np.log(o))), o - TARGET
    du = (w.T @ dz) * np.where(u > 0, 1.0, np.exp(np.minimum(u, 0)))
    return loss, np.outer(du, X), np.outer(dz, h)


def descend(n, eta=ETA, linear=False):
    """n updates by hand, stopping where the app must: before an update that takes a weight
    beyond the problem format's 1e6. Returns the loss before each update made, the loss after
    the last, the final weights, and the weight furthest out if it stopped (else None)."""
    v, w, losses = SEED_V, SEED_W, []
    for _ in range(n):
        loss, dv, dw = loss_and_gradients(v, w, linear)
        new_v, new_w = v - eta * dv, w - eta * dw
        if max(np.abs(new_v).max(), np.abs(new_w).max()) > 1e6:
            symbol, worst = max(("v", new_v), ("w", new_w), key=lambda s: np.abs(s[1]).max())
            j, i = np.unravel_index(np.argmax(np.abs(worst)), worst.shape)
            return losses, loss, v, w, f"{symbol}_{j + 1}{i + 1}"
        losses.append(loss)
        v, w = new_v, new_w
    return losses, loss_and_gradients(v, w, linear)[0], v, w, None
