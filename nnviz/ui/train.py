"""The "Train" tab: "and now let it learn". Many iterations from the current weights, the
curves they leave, and Apply, which hands the trained weights back to the stepper."""

from __future__ import annotations

import streamlit as st

from nnviz.core.training import MAX_ITERATIONS, Training, train
from nnviz.plots.curves import loss_curve, output_paths, weight_paths
from nnviz.ui import computed, say
from nnviz.ui.downloads import export_buttons
from nnviz.ui.heavy import turn
from nnviz.ui.state import Lecture

PROGRESS_FROM = 2000  # shorter runs finish before a bar could be seen
# A run in the app makes at most this many parameter updates (iterations x weights and biases):
# about 2 s of the server's CPU at most, which the seed's 100,000 iterations take too. An
# 8-layer network 64 wide gets 3,434 iterations; the command line has no such limit.
MAX_UPDATES = 100_000_000
FIGURES = "training figures"  # what computed.kept calls the run's curves


def train_tab(lecture: Lecture) -> None:
    problem = lecture.problem
    st.markdown(
        f"Gradient descent from the current weights (iteration {lecture.number}), "
        f"with η = {problem.learning_rate:g}, on the one example."
    )
    cols = st.columns([2, 2, 2, 1.2], vertical_alignment="bottom")
    cols[0].number_input("Iterations", 1, MAX_ITERATIONS, 1000, step=100, key="train_iterations")
    stop = cols[1].checkbox("Stop when the loss falls below", key="train_stop")
    cols[2].number_input(
        "Loss threshold",
        min_value=0.0,
        value=0.01,
        step=0.001,
        format="%.6g",
        key="train_threshold",
        disabled=not stop,
    )
    if cols[3].button("Train", key="train_run", type="primary", width="stretch"):
        _run(lecture)

    run: Training | None = st.session_state.get("training")
    if run is None:
        return
    if run.start is not problem:
        st.info("The network changed since this run. Train again to see it learn from here.")
        st.session_state.training = None  # free its memory
        computed.forget(FIGURES)
        return
    _verdict(run)
    st.button(
        f"Apply: go on from the weights after {run.iterations_run:,} updates",
        key="train_apply",
        on_click=_apply,
        disabled=run.iterations_run == 0,
        help="The stepper continues from the trained weights; Previous still returns to "
        "before the run.",
    )
    log = st.toggle("Log scale", key="train_log")
    curve, paths, outputs = _figures(run, log)
    st.plotly_chart(curve, key="train_loss")
    export_buttons(curve, "loss-curve", "train_loss")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(paths, key="train_weights")
    with right:
        st.plotly_chart(outputs, key="train_outputs")


def _figures(run: Training, log: bool):
    """Built once a run: a click anywhere in this tab reruns it."""
    return computed.kept(
        FIGURES, (run, log), lambda: (loss_curve(run, log), weight_paths(run), output_paths(run))
    )


def most_iterations(problem) -> int:
    """The longest run the app makes of this network."""
    return min(MAX_ITERATIONS, MAX_UPDATES // problem.parameters)


def _run(lecture: Lecture) -> None:
    n = st.session_state.train_iterations
    below = st.session_state.train_threshold if st.session_state.train_stop else None
    most = most_iterations(lecture.problem)
    if n > most:
        say.warning(
            f"Not trained: this network has {lecture.problem.parameters:,} weights and biases, "
            f"and a run here makes at most {MAX_UPDATES:,} updates of them, so at most "
            f"{most:,} iterations. The server is shared by the whole lecture; for a longer "
            "run, use python -m nnviz train on your own machine."
        )
        return
    with turn("your training run") as ours:
        if not ours:
            return
        bar = st.progress(0.0, "Training…") if n >= PROGRESS_FROM else None

        def progress(done: int, total: int) -> None:
            bar.progress(done / total, f"Training… {done:,} of {total:,} iterations")

        try:
            st.session_state.training = train(
                lecture.problem, n, below, on_progress=progress if bar else None
            )
        except ValueError as e:  # what the browser's own limits should already have stopped
            say.error(f"Not trained: {e}.")
        if bar:
            bar.empty()


def _verdict(run: Training) -> None:
    said = (
        f"{run.iterations_run:,} updates: L went from {run.loss[0]:.6g} to {run.final_loss:.6g}."
        if run.iterations_run
        else f"L = {run.final_loss:.6g} already."
    )
    if run.stopped == "diverged":
        say.error(run.message)
    elif run.stopped == "threshold":
        say.success(f"{said} {run.message}")
    else:
        st.success(said)


def _apply() -> None:
    run: Training = st.session_state.training
    lecture: Lecture = st.session_state.lecture
    applied = lecture.trained(
        run.final,
        run.iterations_run,
        f"Applied {run.iterations_run:,} iterations of training. "
        "Previous returns to before the run.",
    )
    if applied:
        st.session_state.training = None
        computed.forget(FIGURES)
        st.session_state.tab = "Lecture"  # where the stepper goes on
