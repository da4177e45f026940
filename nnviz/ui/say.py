"""What the page says in words that may come, even in part, from outside: a title, a file's
name, a value quoted in a refusal. Streamlit renders all of these as Markdown, so each goes
through `nnviz.core.text.markdown` here and is shown as typed, never as a link, image or formula."""

from __future__ import annotations

import streamlit as st

from nnviz.core.text import markdown


def title(text: str) -> None:
    st.markdown(f"**{markdown(text)}**")


def line(text: str) -> None:
    """A plain line of the page that quotes such words."""
    st.markdown(markdown(text))


def info(text: str) -> None:
    st.info(markdown(text))


def success(text: str) -> None:
    st.success(markdown(text))


def warning(text: str) -> None:
    st.warning(markdown(text))


def error(text: str) -> None:
    st.error(markdown(text))
