"""The "Check answers" tab: a student's answers, typed into tables or uploaded, marked as an
examiner would, with the working beside each mistake."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from nnviz.core.notation import element_name
from nnviz.core.problem import Problem, shipped
from nnviz.teaching.grading import (
    ATOL,
    GIVEN,
    RTOL,
    AnswerError,
    AnswerSheet,
    Report,
    Tolerance,
    mark,
    quantities,
    read_answers,
)
from nnviz.teaching.reading import TEXT_SUFFIXES, Reading, read_text
from nnviz.ui import computed, say
from nnviz.ui.state import Lecture, Marking

MARKS = {"correct": "✓ correct", "carried": "↻ carried", "wrong": "✗ wrong"}
MARKED = "marks"  # what computed.kept calls the marks of the sheet on screen
PAGE = 50  # marks shown at a time for one quantity: a 64x64 layer has 4,096


def answer_key(name: str, rev: int, problem: Problem) -> str:
    """A typed-answers grid's key: new when a sheet is loaded or the network changes shape."""
    return f"answer_{name}_r{rev}_{'-'.join(map(str, problem.layers))}"


def _marking() -> Marking:
    if "marking" not in st.session_state:
        st.session_state.marking = Marking()
    return st.session_state.marking


def _load_demo():
    _marking().load(
        read_answers(shipped("seed-answers.json")),
        "Loaded the seed's own worked answer, mistakes and all.",
    )


def _upload():
    upload = st.session_state.get("sheet_upload")
    if upload is None:
        return
    lecture: Lecture = st.session_state.lecture
    problem = lecture.problem if st.session_state.get("mark_on_screen") else lecture.loaded
    try:
        if upload.name.lower().endswith(TEXT_SUFFIXES):  # a worked answer, as students write it
            reading = read_text(upload.getvalue(), problem)
            _marking().load(reading.sheet, f"Read {upload.name}.", reading)
        else:
            _marking().load(read_answers(upload.getvalue(), problem), f"Loaded {upload.name}.")
    except AnswerError as e:
        _marking().error = f"{upload.name} was not loaded: {e}"


def _clear():
    _marking().clear()


def check_tab(lecture: Lecture) -> None:
    marking = _marking()
    sheet = marking.sheet_for(_marked_against(lecture, marking))
    score = st.empty()  # at the top, once the tables below are marked
    atol, rtol = _sheet_controls(marking)
    if sheet.problem.title:
        say.title(sheet.problem.title)
    answers, slots = _answer_tables(sheet, marking.rev)
    report, by_symbol = _marked(sheet.problem, answers, atol, rtol)
    for q, slot in slots:
        items = by_symbol.get(q.name)
        if items:
            with slot:
                _marks(items, f"marks_page_{q.name}_r{marking.rev}")
    s = report.summary()
    score.subheader(
        f"{s['graded']} answers: {s['correct']} correct, {s['carried']} carried "
        f"forward, {s['wrong']} wrong"
    )


def _marked_against(lecture: Lecture, marking: Marking) -> Problem:
    """Homework is on the problem as it was set: a step into the next iteration, an edit or a
    training run must not turn right answers wrong. A switch marks the iteration on screen
    instead; a loaded sheet carries its own problem."""
    if marking.loaded:
        what = "the problem the text was read for" if marking.reading else "the sheet's own problem"
        title = marking.sheet.problem.title
        say.line(f"Marking against: {what}" + (f" ({title})." if title else "."))
        return marking.sheet.problem
    moved = lecture.problem is not lecture.loaded
    on_screen = moved and st.toggle(
        f"Mark against iteration {lecture.number:,} on screen, with its weights",
        key="mark_on_screen",
        help="Homework is marked against the problem as it was set; this marks the weights "
        "on screen instead",
    )
    if on_screen:
        st.markdown(f"Marking against: iteration {lecture.number:,} on screen, with its weights.")
        return lecture.problem
    title = f" ({lecture.loaded.title})" if lecture.loaded.title else ""
    say.line(f"Marking against: the problem as set{title}, iteration {lecture.loaded_number:,}.")
    return lecture.loaded


def _sheet_controls(marking: Marking) -> tuple[float, float]:
    """The upload box, the demo and clear buttons, the tolerances, and what the last of them
    said. Returns the tolerances."""
    st.markdown(
        "Type your answers into the tables (leave a cell empty for a blank), or upload "
        "an answer sheet. Each answer is marked **correct**, **carried** (wrong, but "
        "right from your own earlier answers) or **wrong**."
    )
    left, middle, right = st.columns([2, 1, 1])
    left.file_uploader(
        "Answer sheet: nnviz-answers/1 JSON, or a worked answer as text, Markdown or LaTeX",
        type=["json", *(s.lstrip(".") for s in TEXT_SUFFIXES)],
        key="sheet_upload",
        on_change=_upload,
    )
    middle.button("Load the seed demo", key="check_demo", on_click=_load_demo)
    middle.button("Clear", key="check_clear", on_click=_clear)
    atol = right.number_input("atol", min_value=0.0, value=ATOL, format="%.4f", key="atol")
    rtol = right.number_input("rtol", min_value=0.0, value=RTOL, format="%.4f", key="rtol")
    if marking.message:
        say.info(marking.message)
        marking.message = None
    if marking.error:
        say.error(marking.error)
        marking.error = None
    if marking.reading:
        _what_was_read(marking.reading)
    return atol, rtol


def _what_was_read(reading: Reading) -> None:
    """The text's answers as they were read, symbol by symbol, and what was left out and why:
    a student sees how their writing was understood before the marks."""
    read = {r.symbol for r in reading.read}
    st.markdown(f"**Read {len(read)} answers from the text**")
    st.dataframe(
        pd.DataFrame(
            [{"line": r.line, "symbol": r.symbol, "as written": r.text} for r in reading.read],
            columns=["line", "symbol", "as written"],
        ),
        key="reading_read",
        hide_index=True,
    )
    if reading.skipped:
        st.markdown("**Skipped**")
        st.dataframe(
            pd.DataFrame(reading.skipped, columns=["line", "statement", "why"]),
            key="reading_skipped",
            hide_index=True,
        )


def _answer_tables(sheet: AnswerSheet, rev: int) -> tuple[dict, list]:
    """A table for each quantity the student answers, holding the sheet's answers, and beside
    it a slot for its marks. Returns the answers as typed now, and (quantity, slot) pairs."""
    answers = dict(sheet.answers)
    slots = []
    for q in quantities(sheet.problem):
        if q.kind in GIVEN:
            continue
        grid = np.atleast_2d(answers.get(q.name, np.full(q.shape, np.nan)))
        label, marks = st.columns([3, 2])
        with label:
            st.markdown(f"**{q.name}**")
            edited = st.data_editor(
                pd.DataFrame(grid, columns=[f"{c + 1}" for c in range(grid.shape[1])]),
                key=answer_key(q.name, rev, sheet.problem),
                hide_index=q.shape == (),
            )
        typed = edited.to_numpy(dtype=float, na_value=np.nan).reshape(q.shape)
        if not np.all(np.isnan(typed)):
            answers[q.name] = typed
        else:
            answers.pop(q.name, None)
        slots.append((q, marks))
    return answers, slots


def _marked(problem: Problem, answers: dict, atol: float, rtol: float) -> tuple[Report, dict]:
    """The report, and its items by symbol, kept while the problem, the answers and the
    tolerances stay the same: a sheet of 60,000 answers takes seconds to mark, and every click
    anywhere on the page reruns this tab."""
    fingerprint = [(name, a.tobytes()) for name, a in answers.items()]
    return computed.kept(
        MARKED, (problem, atol, rtol, fingerprint), lambda: _mark(problem, answers, atol, rtol)
    )


def _mark(problem: Problem, answers: dict, atol: float, rtol: float) -> tuple[Report, dict]:
    report = mark(AnswerSheet(problem, answers), tolerance=Tolerance(atol, rtol))
    by_symbol = {}
    for item in report.items:
        by_symbol.setdefault(item.symbol, []).append(item)
    return report, by_symbol


def _marks(items, page_key: str) -> None:
    """One row an answer, its mark in a symbol and a word, with the working or the reason
    beside it; PAGE rows at a time. (Not coloured by a pandas Styler: that costs some 45 ms a
    table, on every rerun, for each of a sheet's dozens of tables.)"""
    if len(items) > PAGE:
        pages = -(-len(items) // PAGE)
        page = st.number_input(f"Page (of {pages})", 1, pages, 1, key=page_key)
        start = (page - 1) * PAGE
        st.caption(
            f"{len(items):,} answers; rows {start + 1:,} to {min(start + PAGE, len(items)):,}"
        )
        items = items[start : start + PAGE]
    rows = pd.DataFrame(
        [
            {
                "answer": element_name(i.symbol, i.index),
                "given": i.given,
                "expected": i.expected,
                "mark": MARKS[i.status],
                "working": i.note,
            }
            for i in items
        ]
    )
    st.dataframe(
        rows,
        hide_index=True,
        column_config={
            "given": st.column_config.NumberColumn(format="%.4f"),
            "expected": st.column_config.NumberColumn(format="%.4f"),
            "working": st.column_config.TextColumn(width="large"),
        },
    )
