"""Download buttons for a figure: PNG and SVG for slides, HTML that stays interactive.

The files are made only when a button is clicked (a deferred download), so a rerun costs
nothing; PNG and SVG come from the one kaleido browser the process keeps running.
"""

from __future__ import annotations

import streamlit as st

from nnviz import export

FAILED = "export_failed"  # session-state key: why the last PNG or SVG could not be made


def export_buttons(fig, name: str, key: str) -> None:
    failed = st.session_state.pop(FAILED, None)
    if failed:
        st.warning(failed)
    have_browser = export.browser() is not None
    formats = ("png", "svg", "html") if have_browser else ("html",)
    columns = st.columns(len(formats) + 2)
    for column, fmt in zip(columns, formats):
        column.download_button(
            fmt.upper(),
            _maker(fig, fmt, st.session_state),
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


def _maker(fig, fmt: str, state):
    """The file, made when the button is clicked, outside the script's thread: a failure is
    kept in this session's state for the next rerun to show."""

    def make() -> bytes | str:
        if fmt == "html":
            return export.html(fig)
        try:
            return export.image(fig, fmt)
        except export.ExportUnavailable as e:
            state[FAILED] = str(e)
            raise

    return make
