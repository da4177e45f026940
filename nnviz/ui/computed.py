"""Everything the page computes from the state, computed once, in this one place.

A problem's pass, lesson and network figures (`of`) are the same for everyone who shows that
problem, and a hall follows one lecture: the process keeps the last few problems' results for
all its sessions, found by the problem's whole JSON, so a student's own network is only ever
found by someone with exactly that network. Each session also remembers the one it shows, and
what it computed for itself (`kept`): a gradient check, the marks of its sheet, the curves of
its training run. No other module keeps results of its own.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go
import streamlit as st
from _plotly_utils.utils import convert_to_base64

from nnviz.core.engine import Iteration, iterate
from nnviz.core.problem import Problem
from nnviz.plots.network import figure_dict
from nnviz.teaching.lesson import Step, steps

PROBLEMS = 8  # problems the process keeps, shared by its sessions
SHARED_UP_TO = 5_000  # parameters; a larger network's results stay in its own session
FIGURES = 33  # figures kept for a small problem: 11 steps of the seed in 3 colour modes
SESSION = "computed"  # session-state key of this session's own results

_shared: OrderedDict[str, Computed] = OrderedDict()
_lock = threading.Lock()  # sessions run in threads of their own


@dataclass(eq=False)
class Computed:
    """One problem's pass, its lesson, and its figure at each step as it was asked for."""

    problem: Problem
    p: Iteration
    lesson: list[Step]
    _figures: OrderedDict = field(default_factory=OrderedDict, repr=False)

    def figure(self, k: int, mode: str):
        """The network at step k in this colour mode. Shared by sessions: never change it."""
        key = (k, mode)
        fig = self._figures.get(key)
        if fig is None:
            fig = _Drawn(figure_dict(self.p, self.lesson[k], mode))
            with _lock:
                self._figures[key] = fig
                while len(self._figures) > (FIGURES if _small(self.problem) else 2):
                    self._figures.popitem(last=False)
        return fig


class _Drawn(go.Figure):
    """A kept figure as Streamlit and plotly.io read a figure: through `to_dict` alone. So it is
    made once, from the figure's dict, without Plotly's objects for every trace (1 ms on the
    seed) or Plotly's copy of them, arrays in base64, on every rerun (1.3 ms). The copy handed
    out is shallow, new at the top and in the layout."""

    def __init__(self, made: dict):  # not Figure's: nothing else is asked of a kept figure
        convert_to_base64(made)  # what Figure.to_dict does: typed arrays, a third of the bytes
        self._made = made

    def to_dict(self) -> dict:
        return {
            **self._made,
            "data": list(self._made["data"]),
            "layout": dict(self._made["layout"]),
        }


def _small(problem: Problem) -> bool:
    return problem.parameters <= SHARED_UP_TO


def of(problem: Problem) -> Computed:
    """The results for this problem: this session's if it shows it, else the process's, else
    computed now."""
    mine = _session()
    if mine.shown is not None and mine.problem is problem:
        return mine.shown
    mine.problem, mine.shown = problem, _find(problem)
    return mine.shown


def _find(problem: Problem) -> Computed:
    if not _small(problem):
        p = iterate(problem)
        return Computed(problem, p, steps(p))
    key = json.dumps(problem.to_dict(), separators=(",", ":"))
    with _lock:
        done = _shared.get(key)
        if done is not None:
            _shared.move_to_end(key)
    if done is None:
        p = iterate(problem)  # outside the lock: another session's click need not wait
        done = Computed(problem, p, steps(p))
        with _lock:
            _shared[key] = done
            while len(_shared) > PROBLEMS:
                _shared.popitem(last=False)
    return done


@dataclass
class _Session:
    problem: Problem | None = None  # this session's problem on screen (shown's may be another's)
    shown: Computed | None = None
    kept: dict[str, tuple[tuple, Any]] = field(default_factory=dict)


def _session() -> _Session:
    mine = st.session_state.get(SESSION)
    if mine is None:
        mine = st.session_state[SESSION] = _Session()
    return mine


def kept(name: str, made_of: tuple, make: Callable[[], Any] | None = None) -> Any:
    """What `make()` gave, kept in this session while `made_of` stays the same: the same
    objects (a problem, a training run) and equal values (tolerances, answers). Without
    `make`, None where nothing is kept for `made_of` yet."""
    mine = _session()
    have = mine.kept.get(name)
    if have is not None and _same(have[0], made_of):
        return have[1]
    if make is None:
        return None
    value = make()
    mine.kept[name] = (made_of, value)
    return value


def forget(name: str) -> None:
    """Let go of a result: a stale training run's curves."""
    _session().kept.pop(name, None)


def _same(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(
        x is y or (isinstance(x, str | bytes | int | float | tuple | list) and x == y)
        for x, y in zip(a, b)
    )
