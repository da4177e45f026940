"""Text from outside (a title, a file name, a quoted value) made safe for each place it is shown.

Anything a file, a link or a form supplies is shown as text, never as markup: on a Streamlit
page and in the Markdown worksheet through `markdown`, in messages through `clip`.
"""

from __future__ import annotations

import re

CLIP = 20  # characters of a user's value quoted in a message

# Markdown's own syntax is ASCII punctuation, and CommonMark lets a backslash escape each one.
_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
# What renderers find in the text after parsing, where escapes no longer count: emoji and icon
# shortcodes (:smile:, :material/home:), links found in bare text (https://, www., a@b.c) and
# Streamlit's arrows and dashes (-> becomes →). An invisible word joiner breaks each one.
_FOUND_IN_TEXT = re.compile(r"(?<=[:@])(?=[\w+/-])|(?i:(?<=www))(?=\.)|(?<=[-<>~])(?=[-<>=])")
JOINER = "\u2060"


def clip(text: str, limit: int = CLIP) -> str:
    """At most `limit` characters of a user's text, with … where it was cut."""
    return text if len(text) <= limit else text[:limit] + "…"


def markdown(text: str) -> str:
    """Markdown that shows `text` exactly as typed, on one line: no link, image, formula,
    emphasis, heading or HTML can come of it."""
    text = " ".join(text.split())  # one line: no block of its own, no hard break
    return _PUNCTUATION.sub(r"\\\g<0>", _FOUND_IN_TEXT.sub(JOINER, text))
