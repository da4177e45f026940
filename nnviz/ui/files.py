"""Save, open and share a network: the problem as a JSON file (spec section 1), and as a link
that carries the whole problem and the step, so that a student opens exactly the lecturer's
view."""

from __future__ import annotations

import re

import streamlit as st

from nnviz.core.problem import Problem, dumps, preset
from nnviz.files import share
from nnviz.ui.state import Lecture

SHARED = "shared"  # session-state key: the (problem, step) the address bar holds, if any
EXERCISE = "exercise"  # session-state key: opened from an exercise link, for homework


def exercise() -> bool:
    """Homework from an exercise link: the page works nothing out for the student. It hides,
    it does not lock: the link without its mode shows everything."""
    return bool(st.session_state.get(EXERCISE))


def first_lecture() -> Lecture:
    """The lecture a new session opens: the one in its link, or the seed. A damaged link opens
    the seed, with a notice saying what was wrong."""
    link = share.from_query(st.query_params)
    if link is None:
        return Lecture([preset("seed")])
    lecture = Lecture([link.problem], step=link.step, notice=link.notice, updates=[link.iteration])
    st.session_state[EXERCISE] = link.exercise
    if link.notice:
        st.query_params.clear()  # the address bar must not keep a link that did not open
    else:
        st.session_state[SHARED] = (link.problem, link.step)
    return lecture


def files_sidebar(lecture: Lecture) -> None:
    problem = lecture.problem
    shared = st.session_state.get(SHARED)
    moved = shared and (shared[0] is not problem or shared[1] != lecture.step)
    if moved and not exercise():  # homework keeps its link: a reload opens it again
        st.query_params.clear()  # the address bar no longer shows what is on screen
        st.session_state[SHARED] = None
    st.subheader("Save and share")
    st.download_button(
        "Download the problem (JSON)",
        lambda: dumps(lecture.problem.to_dict(), "  ") + "\n",  # made on the click
        _file_name(problem),
        "application/json",
        key="problem_download",
        on_click="ignore",
        icon=":material/download:",
        width="stretch",
    )
    st.file_uploader(
        "Open a problem (nnviz-problem/1 JSON)",
        type=["json"],
        key=f"problem_upload_r{lecture.uploads}",
        on_change=_open,
        args=(f"problem_upload_r{lecture.uploads}",),
    )
    st.button(
        "Exercise link" if exercise() else "Share link",
        key="share",
        on_click=_share,
        args=(exercise(),),
        width="stretch",
        icon=":material/link:",
    )
    if not exercise():
        st.button(
            "Exercise link",
            key="share_exercise",
            on_click=_share,
            args=(True,),
            width="stretch",
            icon=":material/assignment:",
            help="For homework: this network, with the solutions, the Train and Gradient "
            "check tabs and the worked-solution downloads hidden",
        )
    if st.session_state.get(SHARED):
        st.caption(
            "The address bar now holds an exercise link: this network as homework, with the "
            "solutions hidden. Copy it from here:"
            if st.query_params.get(share.MODE) == share.EXERCISE
            else "The address bar now holds this network at this step. Copy it from here:"
        )
        query = "&".join(f"{k}={v}" for k, v in st.query_params.to_dict().items())
        st.code(f"{_base_url()}?{query}", language=None, wrap_lines=True)


def _file_name(problem: Problem) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", problem.title.lower()).strip("-")[:40]
    return f"{slug or 'network'}.json"


def _base_url() -> str:
    return (st.context.url or "").split("?")[0]


def _open(key: str) -> None:
    upload = st.session_state.get(key)
    if upload is not None:
        st.session_state.lecture.open(upload.name, upload.getvalue())  # and the box empty again


def _share(as_exercise: bool) -> None:
    lecture: Lecture = st.session_state.lecture
    query = share.query(lecture.problem, lecture.step, lecture.number - 1, as_exercise)
    if len(query[share.PARAM]) > share.MAX_LINK:
        lecture.refusal = (
            f"This network is too large for a link ({len(query[share.PARAM]):,} characters; "
            f"a web server takes about {share.MAX_LINK:,}). Download the problem as JSON "
            "and share the file instead."
        )
        return
    st.query_params.from_dict(query)
    st.session_state[SHARED] = (lecture.problem, lecture.step)
