"""The session's state, and the rules for changing it. No Streamlit here, so it can be tested
as plain Python; the app keeps one `Lecture` and one `Marking` in st.session_state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from nnviz.core.problem import LIMIT, Problem, ProblemError, out_of_range
from nnviz.files.share import MAX_ITERATION
from nnviz.teaching.grading import AnswerSheet
from nnviz.teaching.reading import Reading


@dataclass
class Lecture:
    """Where the lecture is: the problem of every iteration so far, and the step within one.

    `rev` counts the changes made by code rather than by an editor (a new iteration, going back
    across one, a reset, a new architecture). The weight grids' keys carry it, so that an editor
    never re-applies an old edit over weights the code has changed; a bad cell said in
    `edit_error` goes with its editor. `data_rev` (the x, o* and η grids) and `network_rev` (the
    sidebar's network boxes) count only the changes that touch what those show: a new iteration
    changes the weights alone, and the page need not send the rest again. `uploads` counts the
    problem files opened: the upload box's key carries it, so that it is empty again after each.
    """

    history: list[Problem]
    iteration: int = 0
    step: int = 0
    rev: int = 0
    data_rev: int = 0
    network_rev: int = 0
    notice: str | None = None  # said once, after a change the user may not expect
    refusal: str | None = None  # said once: an input that was not taken, and why
    edit_error: str | None = None  # a bad cell in a grid; the last good problem stays in force
    uploads: int = 0
    # how many updates lie before each problem in history: one a step, n after n trained
    updates: list[int] = field(default_factory=list)
    # the problem as it was set (a preset, a file, a link, a new network), before any step or
    # edit, and its iteration as people count it: what homework on it is marked against
    loaded: Problem | None = None
    loaded_number: int = 1

    def __post_init__(self):
        if len(self.updates) != len(self.history):
            self.updates = list(range(len(self.history)))
        if self.loaded is None:
            self.loaded, self.loaded_number = self.history[0], self.updates[0] + 1

    @property
    def problem(self) -> Problem:
        return self.history[self.iteration]

    @property
    def number(self) -> int:
        """The iteration as people count it: 1 at the start, 1001 after 1000 trained."""
        return self.updates[self.iteration] + 1

    def starts_new_iteration(self, n_steps: int) -> bool:
        """Whether `next` would go past the update into an iteration not yet in the history."""
        return self.step == n_steps - 1 and self.iteration + 1 == len(self.history)

    def next(self, n_steps: int, updated: Problem | None = None) -> None:
        """One step on. After the update, into the next iteration: the one already there (with
        any edit made in it), or a new one from `updated`, the weights after the update."""
        if self.step < n_steps - 1:
            self.step += 1
            return
        if self.starts_new_iteration(n_steps):
            if not self._counts(self.updates[-1] + 1):
                return
            self.history.append(updated)
            self.updates.append(self.updates[-1] + 1)
        self.iteration += 1
        self.step = 0
        self.renew(self.history[self.iteration - 1])

    def prev(self, n_steps: int) -> None:
        """One step back, across iterations too: nothing is lost."""
        if self.step > 0:
            self.step -= 1
        elif self.iteration > 0:
            self.iteration -= 1
            self.step = n_steps - 1
            self.renew(self.history[self.iteration + 1])

    @property
    def revs(self) -> tuple[int, int, int]:
        return self.rev, self.data_rev, self.network_rev

    def renew(self, left: Problem | None = None) -> None:
        """New editors and sidebar boxes, showing the problem as the code left it: all of them,
        or, after a move from the problem `left` to another iteration's, those whose values
        differ. A bad cell renews every grid: the grids after it were not applied either."""
        self.rev += 1
        if left is None or self.edit_error is not None or _data(left) != _data(self.problem):
            self.data_rev += 1
        if left is None or _network(left) != _network(self.problem):
            self.network_rev += 1
        self.edit_error = None

    def start(self, problem: Problem, notice: str | None = None) -> None:
        """Begin again with this problem: a reset, a preset, a new architecture."""
        self.history = [problem]
        self.updates = [0]
        self.loaded, self.loaded_number = problem, 1
        self.iteration = self.step = 0
        self.renew()
        self.notice = notice

    def reset(self) -> None:
        """Back to step 1 of the problem as it was set, and its iteration: the preset, the
        file or the link, not the seed; edits and steps since are gone."""
        problem, number = self.loaded, self.loaded_number
        self.start(problem)
        self.updates, self.loaded_number = [number - 1], number

    def open(self, name: str, data: bytes) -> None:
        """A problem file from the user: opened at its first step, or refused with the reason
        and nothing on screen lost."""
        self.uploads += 1
        try:
            problem = Problem.from_json(data)
        except ProblemError as e:
            self.refusal = f"{name} was not opened: {e}. The network on screen is unchanged."
            return
        self.start(problem, f"Opened {name}.")

    def change_architecture(self, problem: Problem, notice: str | None = None) -> None:
        """A new architecture: the same place in the lecture if it still has the same steps,
        else the start."""
        if problem.layers != self.problem.layers:
            self.start(problem, notice)
            return
        self.edit(problem)
        self.loaded, self.loaded_number = problem, self.number  # another network
        self.renew()
        self.notice = notice

    def edit(self, problem: Problem) -> None:
        """The user changed the current iteration's problem; later iterations no longer hold."""
        self.history[self.iteration] = problem
        del self.history[self.iteration + 1 :]
        del self.updates[self.iteration + 1 :]

    def trained(self, problem: Problem, updates: int, notice: str | None = None) -> bool:
        """Go on from the weights after a training run, at its first step. The iterations
        before it stay in the history, so Previous returns to before the run. False, with a
        refusal, where the count of iterations would pass what a link can carry."""
        if not self._counts(self.updates[self.iteration] + updates):
            return False
        del self.history[self.iteration + 1 :]
        del self.updates[self.iteration + 1 :]
        self.history.append(problem)
        self.updates.append(self.updates[-1] + updates)
        self.iteration += 1
        self.step = 0
        self.renew(self.history[self.iteration - 1])
        self.notice = notice
        return True

    def _counts(self, updates: int) -> bool:
        """Whether an iteration after this many updates can be numbered: a share link carries
        the number, and must be able to open it again."""
        if updates < MAX_ITERATION:
            return True
        self.refusal = (
            f"The lecture counts at most {MAX_ITERATION:,} iterations, so iteration "
            f"{updates + 1:,} cannot start. Reset to begin again."
        )
        return False


def _data(problem: Problem) -> tuple:
    """What the x, o* and η grids show."""
    return problem.x.tolist(), problem.target.tolist(), problem.learning_rate


def _network(problem: Problem) -> tuple:
    """What the sidebar's network boxes show."""
    return (
        list(problem.layers),
        [a.to_json() for a in problem.activations],
        problem.loss.name,
        problem.biases is not None,
    )


@dataclass
class Marking:
    """The "Check answers" tab: the sheet being marked, and what its last action said, once.

    A sheet typed into the tables follows the lecture's problem; one `loaded` from a file (or the
    demo) stays until cleared. `rev` counts the loads and clears: the typed-answer grids' keys
    carry it, so that they show the new sheet.
    """

    sheet: AnswerSheet | None = None
    loaded: bool = False
    rev: int = 0
    message: str | None = None  # said once: what was loaded
    error: str | None = None  # said once: a sheet that was not loaded, and why
    reading: Reading | None = None  # what a worked answer in text gave, shown before its marks

    def sheet_for(self, problem: Problem) -> AnswerSheet:
        """The sheet to mark: a loaded one, else an empty one for this problem."""
        if self.sheet is None or (not self.loaded and self.sheet.problem is not problem):
            self.sheet = AnswerSheet(problem, {})
            self.loaded = False
        return self.sheet

    def load(self, sheet: AnswerSheet, message: str, reading: Reading | None = None) -> None:
        self.sheet = sheet
        self.loaded = True
        self.rev += 1
        self.message = message
        self.reading = reading

    def clear(self) -> None:
        self.sheet = None
        self.loaded = False
        self.rev += 1
        self.reading = None


# --- editing ----------------------------------------------------------------------------------


def with_values(problem: Problem, name: str, values: np.ndarray, cells) -> Problem:
    """The problem with one editable quantity replaced, checked by the problem's own rules.

    `name` is "x", "target", "learning_rate", ("weights", l) or ("biases", l); `cells` names
    each entry for a message, e.g. "v_21 (row h2, column x1)". Raises ProblemError naming the
    first bad cell.
    """
    values = np.asarray(values, dtype=float)
    for index, value in np.ndenumerate(values):
        if np.isnan(value):
            raise ProblemError(f"{cells[index]} is empty or not a number; expected a number")
        if not abs(value) <= LIMIT:
            raise ProblemError(out_of_range(cells[index], float(value)))
    data = problem.to_dict()
    if isinstance(name, tuple):
        data[name[0]][name[1]] = values.tolist()
    elif name == "learning_rate":
        data[name] = float(values.ravel()[0])
    else:
        data[name] = values.tolist()
    try:
        return Problem.from_dict(data)
    except ProblemError as e:
        raise ProblemError(on_screen(str(e))) from None


def on_screen(message: str) -> str:
    """A message about the file's keys, in the names the page shows: o*_2, η, alpha of layer 1."""
    message = re.sub(r"target\[(\d+)\]", lambda m: f"o*_{int(m[1]) + 1}", message)
    message = re.sub(
        r"activations\[(\d+)\]\.(\w+)", lambda m: f"{m[2]} of layer {int(m[1]) + 1}", message
    )
    return message.replace("target", "o*").replace("learning_rate", "η")
