"""What a reader sees of Markdown the app escaped: CommonMark's backslash escapes undone and
the invisible word joiners left out, written here from the rules rather than from nnviz."""

import re

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: str) -> str:
    return _ESCAPE.sub(r"\1", markdown).replace("\u2060", "")
