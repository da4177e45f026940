"""Quiz mode: the current step's new values stay hidden until the student has predicted them,
and each prediction is marked by the same rule as an answer sheet."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from nnviz.core.engine import Iteration
from nnviz.core.notation import element_name
from nnviz.teaching.grading import Tolerance, decimals_of
from nnviz.teaching.lesson import Step
from nnviz.teaching.quantities import Quantity, plan, value_of
from nnviz.ui.state import Lecture

# dL/db is dL/du again, and b_new follows from it; L_k and f'(u) are steps on the way
ASKED_NOT = {"grad_biases", "biases_new", "loss_terms", "slope"}
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
    grids = {}
    for q in asked:
        shape = q.shape or (1,)
        frame = pd.DataFrame(
            np.full((1, shape[0]) if len(shape) == 1 else shape, np.nan),
            columns=[f"{c + 1}" for c in range(shape[-1])],
        )
        st.markdown(q.name)
        grids[q.name] = (q, st.data_editor(frame, key=quiz_key(q.name, lecture), hide_index=True))
    if st.button("Check my prediction", key="quiz_check"):
        lines = []
        for q, frame in grids.values():
            typed = frame.to_numpy(dtype=float, na_value=np.nan).reshape(q.shape)
            truth = value_of(p, q.key)
            for index, value in np.ndenumerate(typed):
                if np.isnan(value):
                    continue
                right = bool(Tolerance().right(value, truth[index], decimals_of(value)))
                score[0] += right
                score[1] += 1
                name = element_name(q.name, tuple(i + 1 for i in index))
                lines.append(
                    f"{'✓ right' if right else '✗ wrong'}, {name}: you said {value:g}, "
                    f"it is {truth[index]:.4f}"
                )
        done[key] = lines or ["Nothing typed: here are the values."]
        st.rerun()
    return replace(
        current, reveals=lesson[lecture.step - 1].reveals, equations=current.equations[:1]
    )
