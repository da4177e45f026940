"""The lecture app: the page, its stepper and its editors.

The page reruns only what a click changed. The stepper (its buttons, heading, figure and
equations), the weight grids and the sidebar's network are fragments of their own: a click on
Next within an iteration reruns the stepper alone, and a click that changes the problem (a new
iteration, an edit, a reset) reruns the fragments that show it. Edits are applied in the grids'
callbacks, before anything is drawn, and every number comes from `computed.of(problem)`.
"""

from __future__ import annotations

import gc
import re
from dataclasses import replace
from functools import cache, partial, wraps
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from nnviz.core.engine import Iteration
from nnviz.core.functions import LOSSES, Activation, activation_names
from nnviz.core.networks import random_problem, with_architecture
from nnviz.core.notation import element_name, layer_symbols, neuron_names, number
from nnviz.core.problem import (
    MAX_LAYERS,
    MAX_NEURONS,
    PRESETS,
    Problem,
    ProblemError,
    describe,
    parameter_out_of_range,
    preset,
)
from nnviz.plots.network import MODES, default_mode, figure
from nnviz.teaching import worksheet
from nnviz.teaching.lesson import Step, one_line, step_count
from nnviz.ui import computed, say
from nnviz.ui import grid as cells
from nnviz.ui.check import check_tab
from nnviz.ui.downloads import export_buttons
from nnviz.ui.files import SHARED, exercise, files_sidebar, first_lecture
from nnviz.ui.gradcheck import gradient_tab
from nnviz.ui.quiz import QUIZ, hidden, quiz
from nnviz.ui.state import Lecture, on_screen, with_values
from nnviz.ui.train import train_tab

PRESET_LABELS = {
    "seed": "The seed problem (3-4-2, ELU, softmax)",
    "tutorial": "The 2-2-2 example (sigmoid, squared error)",
}
FOLLOW = "follow the step"
TABS = ("Lecture", "Train", "Gradient check", "Check answers")
WORKED_OUT = ("Train", "Gradient check")  # what an exercise hides: they show every answer
# the page's keyed fragments: the stepper, the weight grids, the x, o* and η grids, the sidebar's
STEPPER, WEIGHTS, DATA, NETWORK = "stepper", "weights", "data", "architecture"
DATA_GRIDS = ("x", "target", "learning_rate")
PAGE_CSS = (Path(__file__).parent / "page.css").read_text()


def editor_key(name: str, lecture: Lecture) -> str:
    """A grid's session-state key: new whenever code changes what it shows (see Lecture)."""
    return f"edit_{name}_r{lecture.data_rev if name in DATA_GRIDS else lecture.rev}"


def main() -> None:
    st.set_page_config(page_title="nnviz", layout="wide")
    st.html(f"<style>{PAGE_CSS}</style>")  # a style alone takes no room on the page
    if "lecture" not in st.session_state:
        st.session_state.lecture = first_lecture()
        st.session_state.preset = "seed"
    lecture: Lecture = st.session_state.lecture

    with st.sidebar:
        _network()
        files_sidebar(lecture)
    # Only the open tab runs: a click on Next need not mark a big answer sheet, or draw the
    # curves of a run, in tabs nobody is looking at.
    names = [t for t in TABS if not (exercise() and t in WORKED_OUT)]
    tabs = dict(zip(names, st.tabs(names, key="tab", on_change="rerun")))
    if tabs["Lecture"].open:
        with tabs["Lecture"]:
            _stepper()
            _editors()
    for name, body in (("Train", train_tab), ("Gradient check", gradient_tab)):
        if name in tabs and tabs[name].open:
            with tabs[name]:
                _notices(lecture)  # where the student is: a file opened from the sidebar
                body(lecture)
    if tabs["Check answers"].open:
        with tabs["Check answers"]:
            _notices(lecture)
            check_tab(lecture, solutions=not exercise())
    _settled()


@cache
def _settled() -> None:
    """After the process's first page: what is loaded by then (Streamlit, Plotly, pandas, the
    app) never becomes garbage, and the collector need not walk it every hundred clicks."""
    gc.freeze()


def _redraw(before: tuple[int, int, int], *also: str) -> None:
    """From a callback: rerun the stepper, and the fragments whose editors it renewed (the
    lecture's revs were `before`). The whole page while the address bar holds a link: the
    sidebar then says that it no longer shows what is on screen."""
    if st.session_state.get(SHARED):
        st.rerun()
    revs = st.session_state.lecture.revs
    renewed = [f for f, was, now in zip((WEIGHTS, DATA, NETWORK), before, revs) if was != now]
    try:
        st.rerun([STEPPER, *also, *renewed])
    except StreamlitAPIException:  # a fragment the last whole run did not get to draw
        st.rerun()


def _whole_page(callback):
    """A callback of the sidebar's network fragment whose change the whole page shows."""

    @wraps(callback)
    def run(*args):
        callback(*args)
        st.rerun()

    return run


# --- the stepper, the figure and the equations ------------------------------------------------


def _next():
    lecture = st.session_state.lecture
    revs, n_steps = lecture.revs, step_count(lecture.problem)
    if not lecture.starts_new_iteration(n_steps):
        lecture.next(n_steps)
    else:
        updated = computed.of(lecture.problem).p.updated  # what this page shows: computed already
        beyond = parameter_out_of_range(updated)  # the rule training follows too
        if beyond:
            lecture.refusal = (
                f"Iteration {lecture.number + 1} cannot start: after the update, "
                f"{beyond}. The training diverges: lower η."
            )
        else:
            lecture.next(n_steps, updated)
    _redraw(revs)


def _prev():
    lecture = st.session_state.lecture
    revs = lecture.revs
    lecture.prev(step_count(lecture.problem))
    _redraw(revs)


def _reset():
    revs = st.session_state.lecture.revs
    st.session_state.lecture.reset()
    _redraw(revs)


@st.fragment(key=STEPPER)
def _stepper() -> None:
    """The buttons, the heading, the figure and the equations of the current step."""
    lecture: Lecture = st.session_state.lecture
    shown = computed.of(lecture.problem)
    current = shown.lesson[lecture.step]

    if lecture.problem.title:
        say.title(lecture.problem.title)
    quizzing, known = bool(st.session_state.get(QUIZ)), ("loss",) in current.reveals
    if exercise():  # homework: the page works nothing out
        with_loss = False
    elif quizzing:  # never while the quiz asks for it, or has yet to
        with_loss = known and ("loss",) not in hidden(lecture, shown.p)
    else:  # once the lecture has worked it out, or from the second iteration on
        with_loss = known or lecture.number > 1
    _buttons(lecture, shown.p, with_loss)
    st.subheader(f"Step {lecture.step + 1} of {len(shown.lesson)}: {current.title}")
    _notices(lecture)
    if lecture.edit_error:
        say.error(f"{lecture.edit_error}. The last good values are still in use.")

    left, right = st.columns([1, 1])
    with right:
        if exercise():
            st.caption(
                "An exercise: each step shows its formula, for you to work out the numbers. "
                "Check them in the Check answers tab."
            )
            current = replace(shown.lesson[0], title=current.title, equations=current.equations[:1])
        elif st.toggle("Quiz", key=QUIZ, help="Predict each new value before it is shown"):
            current = quiz(lecture, shown.p, shown.lesson)  # its new values hidden until answered
    with left:
        _network_figure(lecture, shown, current)
    with right:
        for equation in current.equations:
            st.latex(one_line(equation))
        if quizzing or exercise():  # it holds every answer
            st.caption(
                "The worked solution is hidden "
                + ("in an exercise." if exercise() else "while the quiz is on.")
            )
        else:
            _worked_solution(shown.p)


def _buttons(lecture: Lecture, p: Iteration, with_loss: bool) -> None:
    """Previous, Next and Reset, and where the lecture is."""
    buttons = st.columns([2, 2, 1.6, 4], vertical_alignment="center")
    buttons[0].button(
        "◀ Previous",
        key="prev",
        shortcut="PageUp",  # what a presenter's remote sends
        on_click=_prev,
        width="stretch",
        disabled=lecture.iteration == 0 and lecture.step == 0,
    )
    buttons[1].button(
        "Next ▶",
        key="next",
        shortcut="PageDown",
        on_click=_next,
        width="stretch",
        type="primary",
        # an exercise ends at the update: the next iteration's weights are its answer (and
        # Streamlit runs no callback of a disabled button, even for a click sent twice)
        disabled=exercise() and lecture.starts_new_iteration(step_count(p.problem)),
    )
    buttons[2].button("Reset", key="reset", on_click=_reset, width="stretch")
    buttons[3].markdown(
        f"Iteration {lecture.number:,} · loss L = {number(p.forward.loss)}"
        if with_loss
        else f"Iteration {lecture.number:,}"
    )


def _network_figure(lecture: Lecture, shown: computed.Computed, current: Step) -> None:
    """The network, coloured as the step wants it or as chosen, with its downloads."""
    if exercise():  # the weights alone: a gradient's colour and hover would give it away
        choice = MODES[0]
    else:
        choice = st.radio("Edge colours", [FOLLOW, *MODES], horizontal=True, key="colour_mode")
    mode = default_mode(current) if choice == FOLLOW else choice
    if current is shown.lesson[lecture.step]:
        network = shown.figure(lecture.step, mode)
    else:  # a quizzed step, its new values hidden
        network = figure(shown.p, current, mode)
    st.plotly_chart(network, key="network", config={"displayModeBar": False, "scrollZoom": False})
    export_buttons(network, f"network-step-{lecture.step + 1}", "network_export")


def _worked_solution(p: Iteration) -> None:
    st.caption("The worked solution of this network and these weights, every step:")
    md, tex = st.columns(2)
    for column, write, label, ext, mime in (
        (md, worksheet.markdown, "Markdown", "md", "text/markdown"),
        (tex, worksheet.latex, "LaTeX", "tex", "text/x-tex"),
    ):
        column.download_button(
            label,
            partial(write, p),  # written on the click: 6.6 MB for 8 layers of 64
            f"worked-solution.{ext}",
            mime,
            key=f"download_{ext}",
            on_click="ignore",
            icon=":material/download:",
        )


def _notices(lecture: Lecture) -> None:
    """What the last action said, once."""
    if lecture.notice:
        say.info(lecture.notice)
        lecture.notice = None
    if lecture.refusal:
        say.warning(lecture.refusal)
        lecture.refusal = None


# --- editing ----------------------------------------------------------------------------------


def _editors() -> None:
    """Every weight matrix, x, o* and eta as a grid. An edit is applied by `_edited`, before
    the page is drawn."""
    st.markdown("#### Weights and inputs")
    st.caption(
        "Edit any cell; everything is computed again at once. Rows are the neuron a "
        "weight leads to, columns the neuron it comes from."
    )
    _weight_grids()
    _data_grids()


@st.fragment(key=WEIGHTS)
def _weight_grids() -> None:
    _grid_rows(_grids(st.session_state.lecture.problem)[: -len(DATA_GRIDS)])


@st.fragment(key=DATA)
def _data_grids() -> None:
    """x, o* and η: a new iteration leaves them as they were, and does not send them again."""
    _grid_rows(_grids(st.session_state.lecture.problem)[-len(DATA_GRIDS) :])


def _grid_rows(grids: list[tuple]) -> None:
    """Three grids to a row, each as wide as it needs."""
    for start in range(0, len(grids), 3):
        group = grids[start : start + 3]
        for column, grid in zip(st.columns([len(g[4]) + 1 for g in group]), group, strict=True):
            with column:
                _grid(grid)


def _grids(problem: Problem) -> list[tuple]:
    """(name in the problem, label, values as a grid, row names, column names) of each grid,
    in the order they are drawn."""
    names = neuron_names(problem.layers)
    grids = []
    for l, s in enumerate(layer_symbols(problem.layers)):
        grids.append((("weights", l), s.weights, problem.weights[l], names[l + 1], names[l]))
        if problem.biases is not None:
            grids.append(
                (("biases", l), s.biases, problem.biases[l][None, :], [s.biases], names[l + 1])
            )
    return [
        *grids,
        ("x", "x", problem.x[None, :], ["x"], names[0]),
        ("target", "o*", problem.target[None, :], ["o*"], names[-1]),
        ("learning_rate", "η", np.array([[problem.learning_rate]]), ["η"], ["η"]),
    ]


def _grid_key(name) -> str:
    return name if isinstance(name, str) else f"{name[0]}{name[1]}"


def _grid(grid) -> None:
    name, symbol, values, rows, cols = grid
    st.markdown(f"**{symbol}**")
    st.data_editor(
        cells.frame(cells.board(values), rows, cols),
        key=editor_key(_grid_key(name), st.session_state.lecture),
        disabled=["_index"],  # the neurons' names are labels, not values
        column_config=cells.columns(cols),
        on_change=_edited,
    )


def _edited() -> None:
    """A grid changed: what the grids hold replaces the current iteration's problem, grid by
    grid in the order they are drawn, and a bad cell is named and ignored (with the grids
    after it) while it stays in its grid."""
    lecture: Lecture = st.session_state.lecture
    problem = lecture.problem
    lecture.edit_error = None
    for name, symbol, values, rows, cols in _grids(problem):
        state = st.session_state.get(editor_key(_grid_key(name), lecture))
        is_matrix = name[0] == "weights"
        where = np.atleast_2d(_cell_names(symbol, rows, cols, is_matrix))
        edits = state["edited_rows"] if state else {}
        new, _, bad = cells.read(values, cells.board(values), edits, cols, where.__getitem__)
        if bad:
            lecture.edit_error = bad
            break
        if np.array_equal(new, values):
            continue
        try:
            problem = with_values(problem, name, *(new, where) if is_matrix else (new[0], where[0]))
            lecture.edit(problem)
        except ProblemError as e:
            lecture.edit_error = str(e)
            break
    _redraw(lecture.revs, WEIGHTS, DATA)


def _cell_names(symbol, rows, cols, is_matrix) -> np.ndarray:
    """What a message calls each cell: v_21 (row h2, column x1), then x_2, o*_1, η."""
    if not is_matrix:
        return np.array(
            [symbol if symbol == "η" else element_name(symbol, (i + 1,)) for i in range(len(cols))],
            dtype=object,
        )
    return np.array(
        [
            [
                f"{element_name(symbol, (j + 1, i + 1))} (row {r}, column {c})"
                for i, c in enumerate(cols)
            ]
            for j, r in enumerate(rows)
        ],
        dtype=object,
    )


# --- the architecture -------------------------------------------------------------------------


@st.fragment(key=NETWORK)
def _network() -> None:
    """The sidebar's architecture: its boxes carry the lecture's network_rev, as the grids
    carry theirs, so that they show the problem again after code changed it."""
    lecture: Lecture = st.session_state.lecture
    problem, rev = lecture.problem, lecture.network_rev
    st.header("Network")
    st.selectbox(
        "Preset",
        list(PRESETS),
        format_func=PRESET_LABELS.get,
        key="preset",
        on_change=_choose_preset,
    )
    st.text_input(
        "Layer sizes",
        "-".join(map(str, problem.layers)),
        key=f"layers_r{rev}",
        on_change=_change_layers,
        args=(f"layers_r{rev}",),
        help=f"2 to {MAX_LAYERS} layers of 1 to {MAX_NEURONS} neurons, input first, e.g. 3-4-2",
    )
    _activation_boxes(problem, rev)
    st.selectbox(
        "Loss",
        list(LOSSES),
        index=list(LOSSES).index(problem.loss.name),
        key=f"loss_r{rev}",
        on_change=_rebuild_from,
        args=("loss", f"loss_r{rev}"),
    )
    st.checkbox(
        "Biases",
        value=problem.biases is not None,
        key=f"biases_r{rev}",
        on_change=_rebuild_from,
        args=("biases", f"biases_r{rev}"),
    )
    st.divider()
    st.number_input("Random seed", min_value=0, value=0, step=1, key="seed")
    st.button("Random weights", key="randomise", on_click=_randomise)
    st.divider()


def _activation_boxes(problem: Problem, rev: int) -> None:
    """Each layer's activation, and its parameter where it has one (ELU's alpha)."""
    depth = len(problem.weights)
    for l, act in enumerate(problem.activations):
        choices = activation_names(output=l == depth - 1)  # the table as it is now
        label = "Output activation" if l == depth - 1 else f"Activation of layer {l + 1}"
        st.selectbox(
            label,
            choices,
            index=choices.index(act.name),
            key=f"act{l}_r{rev}",
            on_change=_change_activation,
            args=(l, f"act{l}_r{rev}"),
        )
        if act.function.parameter:
            parameter = act.function.parameter[0]
            st.number_input(
                f"{parameter} of layer {l + 1}",
                value=act.parameter,
                key=f"param{l}_r{rev}",
                on_change=_change_parameter,
                args=(l, f"param{l}_r{rev}"),
                format="%.3f",
            )


def _apply(problem, notice):
    st.session_state.lecture.change_architecture(problem, notice)


@_whole_page
def _choose_preset():
    name = st.session_state.preset
    st.session_state.lecture.start(preset(name), f"Loaded {PRESET_LABELS[name]}.")


@_whole_page
def _change_layers(key):
    lecture = st.session_state.lecture
    text = st.session_state[key].replace(" ", "")
    # at most three digits a size: int() refuses a number of thousands of digits with an error
    sizes = re.fullmatch(r"[0-9]{1,3}(-[0-9]{1,3})+", text)
    layers = [int(n) for n in text.split("-")] if sizes else []
    if not (2 <= len(layers) <= MAX_LAYERS and all(1 <= n <= MAX_NEURONS for n in layers)):
        lecture.refusal = (
            f"Layer sizes {describe(st.session_state[key])} were not changed: expected 2 to "
            f"{MAX_LAYERS} whole numbers from 1 to {MAX_NEURONS} joined by dashes, e.g. 3-4-2."
        )
        lecture.renew()  # the box shows the sizes in force again
        return
    if layers != list(lecture.problem.layers):
        _apply(*with_architecture(lecture.problem, layers=layers, seed=st.session_state.seed))


@_whole_page
def _change_activation(l, key):
    lecture = st.session_state.lecture
    activations = list(lecture.problem.activations)
    activations[l] = Activation(st.session_state[key])
    _apply(*with_architecture(lecture.problem, activations=activations))


@_whole_page
def _change_parameter(l, key):
    lecture = st.session_state.lecture
    activations = list(lecture.problem.activations)
    value = st.session_state[key]
    try:
        data = lecture.problem.to_dict()
        data["activations"][l] = Activation(activations[l].name, value).to_json()
        lecture.change_architecture(Problem.from_dict(data))
    except ProblemError as e:
        lecture.refusal = f"Not changed: {on_screen(str(e))}."
        lecture.renew()


@_whole_page
def _rebuild_from(what, key):
    lecture = st.session_state.lecture
    _apply(*with_architecture(lecture.problem, **{what: st.session_state[key]}))


@_whole_page
def _randomise():
    problem = st.session_state.lecture.problem
    seed = st.session_state.seed
    st.session_state.lecture.start(
        random_problem(
            problem.layers,
            problem.activations,
            problem.loss.name,
            problem.biases is not None,
            seed,
            f"Random weights, seed {seed}",
        ),
        f"Every weight was drawn at random (seed {seed}).",
    )
