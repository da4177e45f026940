"""What the seed lecture shows, written once for the tests that look at it: the titles of its
eleven steps, as the issue lists them."""

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
