"""Heavy work (a training run, a large gradient check) takes turns: one at a time in the
process, which all the students of a lecture share.

Python runs on one core at a time, so two runs at once each take twice as long and slow every
other student's click as much; six made the hall's clicks nine times slower. A student whose
turn has not come sees that they are waiting, and gives up after WAIT seconds with a message.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from nnviz.ui import say

AT_ONCE = 1
WAIT = 60.0  # seconds a student waits for a turn before being told to try again
_TURNS = threading.BoundedSemaphore(AT_ONCE)  # shared by every session of the process


@contextmanager
def turn(what: str) -> Iterator[bool]:
    """Yields True once it is this session's turn for `what` ("the training run"), False if
    the server stayed busy for WAIT seconds (after saying so)."""
    if not _TURNS.acquire(blocking=False):
        waiting = st.empty()
        waiting.info(
            f"Another student's heavy work is running on the server; {what} starts when it ends."
        )
        got = _TURNS.acquire(timeout=WAIT)
        waiting.empty()
        if not got:
            say.warning(
                f"The server stayed busy with other students' work for {WAIT:g} s, so {what} "
                "did not start. Try again in a minute, or ask for less."
            )
            yield False
            return
    try:
        yield True
    finally:
        _TURNS.release()
