"""New networks: one drawn at random, or a problem given a new architecture. Pure, so that the
sidebar's rules are tested without a page."""

from __future__ import annotations

import numpy as np

from nnviz.core.functions import LOSSES, Activation
from nnviz.core.problem import Problem, ProblemError


def random_problem(layers, activations, loss, biases: bool, seed: int, title="") -> Problem:
    """A network drawn at random, with numbers short enough to write on the board: weights
    N(0, 1/fan-in) and inputs N(0, 1), to two and one decimals."""
    rng = np.random.default_rng(seed)
    weights = [
        np.round(rng.normal(0, 1 / np.sqrt(layers[l]), (layers[l + 1], layers[l])), 2)
        for l in range(len(layers) - 1)
    ]
    return Problem.from_dict(
        {
            "title": title,
            "layers": list(layers),
            "activations": [a.to_json() for a in activations],
            "loss": loss,
            "x": np.round(rng.normal(0, 1, layers[0]), 1).tolist(),
            "target": np.eye(layers[-1])[0].tolist(),
            "weights": [w.tolist() for w in weights],
            "biases": [np.round(rng.normal(0, 0.1, n), 2).tolist() for n in layers[1:]]
            if biases
            else None,
            "learning_rate": 0.1,
        }
    )


def with_architecture(
    problem: Problem, *, layers=None, activations=None, loss=None, biases=None, seed: int = 0
) -> tuple[Problem, str | None]:
    """The problem with a new architecture, and a notice of what else had to change.

    What still fits is kept. A new shape draws every weight again at random. A loss that needs
    a certain output layer gets it; a target the loss cannot take becomes one-hot.
    """
    layers = list(problem.layers if layers is None else layers)
    old = list(problem.activations)
    if activations is None:
        activations = (
            old
            if len(old) == len(layers) - 1
            else [Activation("relu")] * (len(layers) - 2) + [old[-1]]
        )
    activations = list(activations)
    loss = problem.loss.name if loss is None else loss
    biases = problem.biases is not None if biases is None else biases
    notes = []

    needs = LOSSES[loss].output_activation
    if needs and activations[-1].name != needs:
        if loss == problem.loss.name:  # the user changed the output layer: follow it
            loss = "squared_error"
            notes.append(
                f"{problem.loss.name} needs a {needs} output layer, so the loss is now "
                "squared_error"
            )
        else:
            activations[-1] = Activation(needs)
            notes.append(f"{loss} needs a {needs} output layer, so the output layer is now {needs}")
    if layers != list(problem.layers):
        fresh = random_problem(layers, activations, loss, biases, seed)
        notes.append(
            f"The layer sizes changed, so every weight was drawn again at random (seed {seed})"
        )
        return fresh, ". ".join(notes) + "."

    data = problem.to_dict()
    data.update(activations=[a.to_json() for a in activations], loss=loss, title="")
    if biases and problem.biases is None:
        data["biases"] = [[0.0] * n for n in layers[1:]]
        notes.append("Biases were added, all 0")
    elif not biases:
        data["biases"] = None
    try:
        return Problem.from_dict(data), (". ".join(notes) + ".") if notes else None
    except ProblemError:  # the target does not suit the new loss
        data["target"] = np.eye(layers[-1])[0].tolist()
        notes.append(f"The target did not suit {loss}, so it is now one-hot on the first output")
        return Problem.from_dict(data), ". ".join(notes) + "."
