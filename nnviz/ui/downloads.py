"""Download buttons for a figure: PNG and SVG for slides, HTML that stays interactive.

The files are made only when a button is clicked (a deferred download), so a rerun costs
nothing; PNG and SVG come from the one kaleido browser the process keeps running.
"""

from __future__ import annotations

import streamlit as st

from nnviz.files import export
from nnviz.ui import say

FAILURES = "export_failures"  # session-state key: figure key -> why its last image failed


def export_buttons(fig, name: str, key: str) -> None:
    failures = st.session_state.setdefault(FAILURES, {})
    if key in failures:
        say.warning(failures.pop(key))
    have_browser = export.browser() is not None
    formats = ("png", "svg", "html") if have_browser else ("html",)
    columns = st.columns(len(formats) + 2)
    for column, fmt in zip(columns, formats):
        column.download_button(
            fmt.upper(),
            file_maker(fig, fmt, failures, key),
            f"{name}.{fmt}",
            export.FORMATS[fmt],
            key=f"{key}_{fmt}",
            on_click="ignore",
            icon=":material/download:",
            help="The figure as an interactive web page: it needs no browser on the server"
            if fmt == "html"
            else f"The figure as {fmt.upper()}, for slides",
        )
    if not have_browser:
        st.caption(export.NO_BROWSER)


def file_maker(fig, fmt: str, failures: dict, key: str):
    """The file, made when the button is clicked. Streamlit calls this in a thread of its own,
    where st.session_state is not this session's: a failure goes into this session's own dict,
    for the next rerun to show beside the figure."""

    def make() -> bytes | str:
        if fmt == "html":
            return export.html(fig)
        try:
            return export.image(fig, fmt)
        except export.ExportUnavailable as e:
            failures[key] = str(e)
            raise

    return make
