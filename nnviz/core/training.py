"""Many iterations in a row: gradient descent on the problem's one example, with its history.

Each iteration is engine.forward, engine.backward and engine.update, the stepper's own step, so
that n iterations end on the same weights, bit for bit, as n steps through the lecture. The run
stops early when the loss falls below a threshold, or when an update would leave the problem
format's range (shared spec, section 6): the weights it ends on can always be saved and loaded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nnviz.core.engine import backward, forward, update
from nnviz.core.problem import LIMIT, Problem, parameter_out_of_range

FORMAT = "nnviz-training/1"
STOPS = ("completed", "threshold", "diverged")
MAX_ITERATIONS = 100_000
# The weights, biases and outputs kept for the plots, in floats of 8 bytes: 8 MB at most, and
# at most MAX_ROWS iterations, twice what a plot draws: a server holds one run per student. The
# seed keeps every iteration up to 2,000; an 8-layer 64-wide network keeps about 34.
HISTORY_FLOATS = 1_000_000
MAX_ROWS = 2000
PROGRESS_EVERY = 1000


@dataclass(slots=True)
class Training:
    """One run: where it started and ended, why it stopped, and the history the plots draw."""

    start: Problem
    final: Problem  # the weights after the last update made
    iterations_run: int  # updates made
    stopped: str  # one of STOPS
    loss: np.ndarray  # (iterations_run,): the loss before each iteration's update
    final_loss: float  # the loss at final's weights
    outputs: np.ndarray  # (len(recorded), k): the output o at each recorded iteration
    recorded: np.ndarray  # iteration numbers, 0 (start) to iterations_run (final)
    weights: tuple[np.ndarray, ...]  # per weight layer: (len(recorded), rows, cols)
    biases: tuple[np.ndarray, ...] | None  # per weight layer: (len(recorded), rows)
    message: str | None  # why a run stopped early, for a person; None when completed

    def to_dict(self) -> dict:
        """The training format (shared spec, section 6), at full precision."""
        return {
            "format": FORMAT,
            "iterations_run": self.iterations_run,
            "stopped": self.stopped,
            "loss": self.loss.tolist(),
            "final_loss": self.final_loss,
            "problem": self.final.to_dict(),
        }


def train(
    problem: Problem,
    iterations: int,
    stop_below: float | None = None,
    on_progress: Callable[[int, int], object] | None = None,
    progress_every: int = PROGRESS_EVERY,
) -> Training:
    """Run up to `iterations` updates. on_progress(done, total) is called after every
    `progress_every` updates and once at the end, so that a page can show a progress bar."""
    _check_arguments(iterations, stop_below, progress_every)
    fwd = forward(problem)
    bad = parameter_out_of_range(problem)
    if bad or not math.isfinite(fwd.loss):
        raise ValueError(f"the problem cannot start training: {bad or f'the loss is {fwd.loss}'}")

    below = -math.inf if stop_below is None else float(stop_below)
    report_every = progress_every if on_progress is not None else 0
    loss = np.empty(iterations)
    history = _History(problem, iterations)
    history.add(0, problem, fwd.post[-1])
    p, stopped, message = problem, "completed", None
    done = 0
    for i in range(1, iterations + 1):
        if fwd.loss < below:
            stopped, message = "threshold", _fell_below(stop_below, done, fwd.loss)
            break
        loss[done] = fwd.loss
        new = update(p, backward(p, fwd))
        if not _within_limit(new):
            stopped, message = "diverged", _diverged(i, parameter_out_of_range(new))
            break
        new_fwd = forward(new)
        if not math.isfinite(new_fwd.loss):
            stopped, message = "diverged", _diverged(i, f"the loss would be {new_fwd.loss}")
            break
        p, fwd, done = new, new_fwd, i
        if i % history.stride == 0:
            history.add(i, p, fwd.post[-1])
        if report_every and i % report_every == 0:
            on_progress(i, iterations)
    if stopped == "completed" and fwd.loss < below:  # below after the very last update
        stopped, message = "threshold", _fell_below(stop_below, done, fwd.loss)
    history.finish(done, p, fwd.post[-1])
    if on_progress is not None and not (report_every and done and done % report_every == 0):
        on_progress(done, iterations)

    kept = history.trimmed()
    return Training(
        start=problem,
        final=p,
        iterations_run=done,
        stopped=stopped,
        loss=loss[:done],
        final_loss=fwd.loss,
        outputs=kept.outputs,
        recorded=kept.iterations,
        weights=kept.weights,
        biases=kept.biases,
        message=message,
    )


def _check_arguments(iterations, stop_below, progress_every) -> None:
    if not _whole(iterations) or not 1 <= iterations <= MAX_ITERATIONS:
        raise ValueError(
            f"iterations is {iterations!r}; expected a whole number from 1 to {MAX_ITERATIONS}"
        )
    if stop_below is not None and (
        isinstance(stop_below, bool)
        or not isinstance(stop_below, int | float | np.integer | np.floating)
        or not math.isfinite(stop_below)
    ):
        raise ValueError(f"stop_below is {stop_below!r}; expected a finite number or None")
    if not _whole(progress_every) or progress_every < 1:
        raise ValueError(f"progress_every is {progress_every!r}; expected a whole number >= 1")


def _whole(value) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _within_limit(problem: Problem) -> bool:
    arrays = problem.weights if problem.biases is None else problem.weights + problem.biases
    return all(np.vdot(a, a) <= _SURELY_WITHIN or np.abs(a).max() <= LIMIT for a in arrays)


# A sum of squares below this proves every entry within LIMIT, at a quarter of the cost of
# looking at each (the margin covers its rounding); NaN and infinity fail both tests.
_SURELY_WITHIN = (0.99 * LIMIT) ** 2


def _diverged(iteration: int, what: str) -> str:
    return (
        f"The run diverged at iteration {iteration}: after its update {what}. "
        "The weights before it are kept; lower η."
    )


def _fell_below(threshold: float, done: int, loss: float) -> str:
    if done == 0:
        return f"The loss was below {threshold:g} at the start (L = {loss:.6g}): no update made."
    return f"The loss fell below {threshold:g} after {done:,} iterations: L = {loss:.6g}."


class _History:
    """The recorded iterations, in arrays allocated once, within HISTORY_FLOATS. While they
    fit, every iteration is kept; when they are full, every other row is dropped and the stride
    doubles, so that a run that stops early still keeps a fine history."""

    __slots__ = ("biases", "capacity", "count", "iterations", "outputs", "stride", "weights")

    def __init__(self, problem: Problem, iterations: int):
        per_row = 1 + problem.layers[-1] + problem.parameters
        self.capacity = min(iterations + 1, MAX_ROWS, max(3, HISTORY_FLOATS // per_row))
        rows = self.capacity
        self.iterations = np.empty(rows, dtype=np.int64)
        self.outputs = np.empty((rows, problem.layers[-1]))
        self.weights = tuple(np.empty((rows, *w.shape)) for w in problem.weights)
        self.biases = None
        if problem.biases is not None:
            self.biases = tuple(np.empty((rows, *b.shape)) for b in problem.biases)
        self.count, self.stride = 0, 1

    def add(self, iteration: int, problem: Problem, output: np.ndarray, last=False) -> None:
        if self.count == self.capacity:
            self._thin()
            if iteration % self.stride and not last:
                return
        r = self.count
        self.iterations[r] = iteration
        self.outputs[r] = output
        for row, w in zip(self.weights, problem.weights):
            row[r] = w
        if self.biases is not None:
            for row, b in zip(self.biases, problem.biases):
                row[r] = b
        self.count = r + 1

    def finish(self, iteration: int, problem: Problem, output: np.ndarray) -> None:
        """The final weights are always kept."""
        if self.iterations[self.count - 1] != iteration:
            self.add(iteration, problem, output, last=True)

    def trimmed(self) -> _History:
        """The rows in use. A copy when they are under half of what was allocated, so that a
        run that stopped early does not hold on to the whole budget."""
        n = self.count
        cut = (lambda a: a[:n].copy()) if 2 * n < self.capacity else (lambda a: a[:n])
        self.iterations, self.outputs = cut(self.iterations), cut(self.outputs)
        self.weights = tuple(map(cut, self.weights))
        self.biases = None if self.biases is None else tuple(map(cut, self.biases))
        return self

    def _thin(self) -> None:
        n = (self.count + 1) // 2
        for a in (self.iterations, self.outputs, *self.weights, *(self.biases or ())):
            a[:n] = a[: self.count : 2]
        self.count, self.stride = n, 2 * self.stride
