"""Quiz mode: the current step's new values stay hidden until the student has predicted them,
and each prediction is marked by the same rule as an answer sheet."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

from nnviz.core.engine import Iteration
from nnviz.core.notation import number
from nnviz.teaching.grading import Tolerance, decimals_of
from nnviz.teaching.lesson import Step
from nnviz.teaching.quantities import (
    ON_THE_WAY,
    Quantity,
    element_label,
    plan,
    value_of,
)
from nnviz.ui import grid as cells
from nnviz.ui import say
from nnviz.ui.state import Lecture

# dL/db is dL/du again, and b_new follows from it
ASKED_NOT = {"grad_biases", "biases_new", *ON_THE_WAY}
QUIZ = "quiz_mode"  # the toggle's key


def quiz_key(name: str, lecture: Lecture) -> str:
    """A prediction grid's key: one per quantity, step and iteration."""
    return f"quiz_{name}_{lecture.iteration}_{lecture.step}_r{lecture.rev}"


def questions(p: Iteration, k: int) -> list[Quantity]:
    """The quantities step k works out, in the lecture's order."""
    return [q for q in plan(p.problem).quantities if q.step == k and q.kind not in ASKED_NOT]


def _asked(lecture: Lecture) -> tuple:
    """Where a question is asked, as quiz_done remembers the ones answered."""
    return lecture.iteration, lecture.step, lecture.rev


def hidden(lecture: Lecture, p: Iteration) -> set[tuple]:
    """What the page must not show yet: the quiz's open questions at this step, where the quiz
    is on. The line beside Reset and the worked solution read it, as the board does."""
    if not st.session_state.get(QUIZ):
        return set()
    if _asked(lecture) in st.session_state.get("quiz_done", {}):
        return set()
    return {q.key for q in questions(p, lecture.step)}


def quiz(lecture: Lecture, p: Iteration, lesson: list[Step]) -> Step:
    """The quiz for this step, if it has open questions; returns the step to show, with its
    new values still hidden until they are answered."""
    current = lesson[lecture.step]
    asked = questions(p, lecture.step)
    done = st.session_state.setdefault("quiz_done", {})
    score = st.session_state.setdefault("quiz_score", [0, 0])
    key = _asked(lecture)
    st.caption(f"Quiz score: {score[0]} of {score[1]} right")
    if not asked:
        return current
    if key in done:
        for line in done[key]:
            st.markdown(line)
        return current
    st.markdown("**Your prediction** (leave a cell empty to skip it):")
    typed = {}
    layers = p.problem.layers
    for q in asked:
        blank = np.atleast_2d(np.full(q.shape, np.nan))
        blanks = cells.board(blank)
        values, written, bad = cells.answers(q, layers, blank, blanks, quiz_key(q.name, lecture))
        if bad:
            say.error(f"{bad}. It is not marked.")
        typed[q.name] = (q, values.reshape(q.shape), written)
    if st.button("Check my prediction", key="quiz_check"):
        lines = []
        for q, values, written in typed.values():
            truth = value_of(p, q.key)
            for index, value in np.ndenumerate(values):
                if np.isnan(value):
                    continue
                text = written[(0, 0, *index)[-2:]]
                right = bool(Tolerance().right(value, truth[index], decimals_of(text)))
                score[0] += right
                score[1] += 1
                name = element_label(q, index, layers)
                lines.append(
                    f"{'✓ right' if right else '✗ wrong'}, {name}: you said {text}, "
                    f"it is {number(truth[index], 4)}"
                )
        done[key] = lines or ["Nothing typed: here are the values."]
        st.rerun()
    return replace(
        current, reveals=lesson[lecture.step - 1].reveals, equations=current.equations[:1]
    )
