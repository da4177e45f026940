"""The "Check answers" tab: a student's answers, typed into tables or uploaded, marked as an
examiner would, with the working beside each mistake."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from nnviz.core.notation import number
from nnviz.core.problem import Problem, dumps, shipped
from nnviz.core.text import markdown
from nnviz.teaching import worksheet
from nnviz.teaching.grading import (
    GIVEN,
    MARKS,
    AnswerError,
    AnswerSheet,
    Report,
    Tolerance,
    decimals_of,
    mark,
    quantities,
    read_answers,
    sheet_dict,
    written_decimals,
)
from nnviz.teaching.lesson import one_line
from nnviz.teaching.reading import TEXT_SUFFIXES, Reading, read_text
from nnviz.ui import computed, say
from nnviz.ui import grid as cells
from nnviz.ui.state import Lecture, Marking

MIME = {"json": "application/json", "md": "text/markdown", "tex": "text/x-tex"}
COLOURS = {"correct": "green", "carried": "blue", "wrong": "red"}  # as the marked LaTeX sheet
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


def check_tab(lecture: Lecture, solutions: bool = True) -> None:
    """`solutions`: the expected values and the working of each mistake; an exercise gives the
    marks alone."""
    marking = _marking()
    sheet = marking.sheet_for(_marked_against(lecture, marking))
    score = st.empty()  # at the top, once the tables below are marked
    tolerance = _sheet_controls(marking, sheet, solutions)
    if sheet.problem.title:
        say.title(sheet.problem.title)
    typed, slots = _answer_tables(sheet, marking.rev)
    report, by_name = _marked(typed, tolerance)
    for q, slot in slots:
        items = by_name.get(q.name)
        if items:
            with slot:
                _marks(items, typed, f"marks_page_{q.name}_r{marking.rev}", solutions)
    _sheet_downloads(typed, tolerance, solutions)
    score.subheader(report.headline())


def _sheet_downloads(sheet: AnswerSheet, tolerance: Tolerance, solutions: bool) -> None:
    """The answers as typed, as a sheet to upload again; a blank sheet of this network to fill
    in; and the marked sheet to print. Each is written on the click."""
    marked = replace(sheet, tolerance=tolerance)
    st.markdown("**Download**")
    report = lambda: _marked(marked, tolerance)[0]  # noqa: E731
    downloads = (
        ("These answers", lambda: dumps(sheet_dict(marked)) + "\n", "answers.json"),
        (
            "A blank sheet",
            lambda: dumps(sheet_dict(replace(marked, answers={}), every=True)) + "\n",
            "blank-sheet.json",
        ),
        ("Marked (Markdown)", lambda: worksheet.marked_markdown(marked, report()), "marked.md"),
        ("Marked (LaTeX)", lambda: worksheet.marked_latex(marked, report()), "marked.tex"),
    )[: None if solutions else 2]  # the marked sheets hold the working
    for column, (label, write, name) in zip(st.columns(len(downloads)), downloads):
        column.download_button(
            label,
            write,
            name,
            MIME[name.rpartition(".")[2]],
            key=f"sheet_{name}",
            on_click="ignore",
            icon=":material/download:",
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


def _sheet_controls(marking: Marking, sheet: AnswerSheet, solutions: bool) -> Tolerance:
    """The upload box, the demo and clear buttons, the tolerance, and what the last of them
    said. Returns the tolerance: the sheet's own until it is changed here."""
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
    if solutions:  # an exercise of the seed would be answered by it
        middle.button("Load the seed demo", key="check_demo", on_click=_load_demo)
    middle.button("Clear", key="check_clear", on_click=_clear)
    with right:
        tolerance = _tolerance(sheet.tolerance or Tolerance(), marking.rev)
    if marking.message:
        say.info(marking.message)
        marking.message = None
    if marking.error:
        say.error(marking.error)
        marking.error = None
    if marking.reading:
        _what_was_read(marking.reading)
    return tolerance


def _tolerance(start: Tolerance, rev: int) -> Tolerance:
    """Within atol or rtol, or right to the decimals the student wrote (spec section 10)."""
    digits = st.radio(
        "Right when",
        [False, True],
        index=int(start.digits),
        format_func=lambda d: "to the decimals written" if d else "within atol or rtol",
        key=f"tolerance_r{rev}",
    )
    if digits:
        least = st.number_input(
            "at least this many decimals", 0, 15, start.min_decimals or 0, key=f"decimals_r{rev}"
        )
        return Tolerance(min_decimals=int(least))
    atol = st.number_input(
        "atol", min_value=0.0, value=start.atol, format="%.4f", key=f"atol_r{rev}"
    )
    rtol = st.number_input(
        "rtol", min_value=0.0, value=start.rtol, format="%.4f", key=f"rtol_r{rev}"
    )
    return Tolerance(atol, rtol)


def _what_was_read(reading: Reading) -> None:
    """The text's answers as they were read, symbol by symbol, and what was left out and why:
    a student sees how their writing was understood before the marks."""
    st.markdown(f"**{reading.headline()}**")
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


def _answer_tables(sheet: AnswerSheet, rev: int) -> tuple[AnswerSheet, list]:
    """A table for each quantity the student answers, holding the sheet's answers as written,
    and beside it a slot for its marks. Returns the sheet as typed now, with the decimals of
    each typed number, and (quantity, slot) pairs. A cell that is no number is named, and
    left out of the marking until it is one."""
    answers, decimals = dict(sheet.answers), dict(sheet.decimals)
    layers = sheet.problem.layers
    slots = []
    for q in quantities(sheet.problem):
        if q.kind in GIVEN:
            continue
        given = np.atleast_2d(answers.get(q.name, np.full(q.shape, np.nan)))
        texts = cells.as_written(given, decimals.get(q.name))
        label, marks = st.columns([3, 2])
        with label:
            key = answer_key(q.name, rev, sheet.problem)
            new, typed, bad = cells.answers(q, layers, given, texts, key)
            if bad:
                say.error(f"{bad}. It is left out of the marking until it is a number.")
        written = np.array(np.atleast_2d(written_decimals(given, decimals.get(q.name))))
        for at, text in typed.items():
            written[at] = decimals_of(text)
        if np.isnan(new).all():
            answers.pop(q.name, None)
        else:
            answers[q.name] = new.reshape(q.shape)
            decimals[q.name] = written.reshape(q.shape)
        slots.append((q, marks))
    return replace(sheet, answers=answers, decimals=decimals), slots


def _marked(sheet: AnswerSheet, tolerance: Tolerance) -> tuple[Report, dict]:
    """The report, and its items by symbol, kept while the sheet and the tolerance stay the
    same: a sheet of 60,000 answers takes seconds to mark, and every click anywhere on the page
    reruns this tab."""
    fingerprint = [
        (name, a.tobytes(), sheet.decimals.get(name, np.zeros(0)).tobytes())
        for name, a in sheet.answers.items()
    ]
    return computed.kept(
        MARKED,
        (sheet.problem, tolerance, sheet.delta, tuple(sheet.written_as.items()), fingerprint),
        lambda: _mark(sheet, tolerance),
    )


def _mark(sheet: AnswerSheet, tolerance: Tolerance) -> tuple[Report, dict]:
    report = mark(sheet, tolerance=tolerance)
    written = {symbol: name for name, symbol in sheet.written_as.items()}  # delta_z: dL/dz
    by_name = {}
    for item in report.items:
        by_name.setdefault(written.get(item.symbol, item.symbol), []).append(item)
    return report, by_name


def _marks(items, sheet: AnswerSheet, page_key: str, solutions: bool) -> None:
    """One row an answer, named by its neurons, its mark in a symbol and a word, with what a
    carried one follows from; then each wrong answer's working, typeset, under a mark in
    colour. PAGE rows at a time. (Not coloured by a pandas Styler: that costs some 45 ms a
    table, on every rerun, for each of a sheet's dozens of tables.)"""
    if len(items) > PAGE:
        pages = -(-len(items) // PAGE)
        page = st.number_input(f"Page (of {pages})", 1, pages, 1, key=page_key)
        start = (page - 1) * PAGE
        st.caption(
            f"{len(items):,} answers; rows {start + 1:,} to {min(start + PAGE, len(items)):,}"
        )
        items = items[start : start + PAGE]
    labels, given, _ = zip(*worksheet.marked_rows(sheet, items))
    rows = {"answer": labels, "given": given, "mark": [MARKS[i.status] for i in items]}
    if solutions:
        rows["expected"] = [number(i.expected, 4) for i in items]
        rows["from your answers"] = [
            "" if i.follow_through is None else number(i.follow_through, 4) for i in items
        ]
        rows["working"] = [i.note for i in items]
    else:  # what a carried answer follows from is the student's own
        rows["working"] = [i.note if i.status == "carried" else "" for i in items]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={
            **{
                c: st.column_config.TextColumn(alignment="right")
                for c in ("given", "expected", "from your answers")
            },
            "working": st.column_config.TextColumn(width="large"),  # typeset in full below
        },
    )
    counts = {s: sum(i.status == s for i in items) for s in MARKS}
    st.markdown(" · ".join(f":{COLOURS[s]}[{n} {MARKS[s]}]" for s, n in counts.items() if n))
    for label, typed, item in zip(labels, given, items):
        if solutions and item.status == "wrong" and item.working:
            st.markdown(f":{COLOURS['wrong']}[{MARKS['wrong']}: {markdown(f'{label} = {typed}')}]")
            st.latex(one_line(item.working))
