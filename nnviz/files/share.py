"""A share link: the whole problem and the place in the lecture, in the URL's query.

A link is untrusted input like a problem file, so `decode` is a door of the same kind: every
way a link can be damaged or hostile ends in one `ProblemError` with a one-line message, and
the problem's own rules are checked by `Problem.from_dict`. `from_query` never raises: a bad
link still opens the app, with a notice that says what was wrong.

The problem travels as "1." + base64url(zlib(compact JSON)), unpadded. JSON because Python
writes and reads a float's repr exactly, and the numbers people type (0.1, -1.5) stay short;
raw float64 bytes would be only about a sixth shorter for full-precision weights and longer
for short decimals. The "1." names the format, so that a later one can be told apart.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from nnviz.core.problem import MAX_BYTES, Problem, ProblemError, describe, preset, read_json
from nnviz.teaching.lesson import step_count

PARAM = "p"  # the problem
STEP = "step"  # the step within the iteration, 1-based as people count; optional
ITERATION = "it"  # the iteration the problem belongs to, 1-based; optional, 1 when absent
MODE = "mode"  # "exercise": homework, with the solutions hidden; optional
EXERCISE = "exercise"
VERSION = "1"

# The longest link a browser can reliably open on Streamlit's own server: uvicorn's HTTP parser
# (h11) refuses a request line plus headers over 16 KB once the request arrives in more than
# one network packet, with a bare "400 Bad Request" that nnviz never sees. So nnviz writes no
# longer link, and refuses a longer one that got through, saying why: what it reads is what it
# writes. A larger network travels as a file.
MAX_LINK = 14_000
MAX_ITERATION = 999_999_999  # what nine digits hold; the lecture counts no further

_DAMAGED = "The share link is damaged: "
_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")
_NUMBER = re.compile(r"[0-9]{1,9}")


def encode(problem: Problem) -> str:
    """The problem as URL-safe text; `decode` gives back every float bit for bit."""
    data = {
        k: v
        for k, v in problem.to_dict().items()
        if k != "format" and not (k == "title" and v == "") and not (k == "biases" and v is None)
    }
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    packed = base64.urlsafe_b64encode(zlib.compress(text.encode("utf-8"), 9))
    return f"{VERSION}.{packed.rstrip(b'=').decode('ascii')}"


def decode(text: str) -> Problem:
    """The problem in a link's text; a ProblemError saying what is wrong, never anything else."""
    try:
        return Problem.from_dict(read_json(_unpack(text)))
    except ProblemError as e:
        message = str(e).replace("the file", "the packed problem")
        raise ProblemError(
            message if message.startswith(_DAMAGED) else _DAMAGED + message
        ) from None


def _damaged(why: str) -> ProblemError:
    return ProblemError(_DAMAGED + why)


def _unpack(text) -> bytes:
    """The JSON bytes, unpacked no further than MAX_BYTES: a small link may hold a bomb."""
    if not isinstance(text, str):
        raise _damaged(f"it is {describe(text)}, not text")
    if len(text) > MAX_LINK:
        raise _damaged(
            f"it is {len(text):,} characters long; a share link has at most {MAX_LINK:,}, "
            "what a web server reliably takes"
        )
    if not text:
        raise _damaged("it is empty; it holds no problem")
    version, dot, data = text.partition(".")
    if not dot or version != VERSION:
        if dot and _NUMBER.fullmatch(version):
            raise _damaged(
                f"it is in format {version}, which this version of nnviz cannot read "
                f"(it reads format {VERSION})"
            )
        raise _damaged(f'it does not start with "{VERSION}."; it is not a link nnviz made')
    data = data.rstrip("=")  # the padding, which encode leaves out, is harmless
    if not _ALPHABET.fullmatch(data):
        at = next(i for i, c in enumerate(data) if not _ALPHABET.fullmatch(c))
        raise _damaged(
            f"it has {describe(data[at])} at character {len(version) + 1 + at + 1}, "
            "which a share link never contains"
        )
    if len(data) % 4 == 1:
        raise _damaged("its data is not whole base64 (cut short, or a character too many)")
    packed = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(packed, MAX_BYTES + 1)
    except zlib.error as e:
        raise _damaged(f"its data is not a zlib stream ({str(e).split(': ', 1)[-1]})") from None
    if len(out) > MAX_BYTES:
        raise _damaged(f"it unpacks to over {MAX_BYTES:,} bytes; a problem has at most that")
    if not inflater.eof:
        raise _damaged("its data ends early; the link looks cut short")
    if inflater.unused_data:
        raise _damaged("it has data after the end of the problem")
    return out


def query(
    problem: Problem, step: int, iteration: int = 0, exercise: bool = False
) -> dict[str, str]:
    """The query parameters of a link to this problem at this step (both 0-based here); an
    exercise link opens it as homework."""
    params = {PARAM: encode(problem), STEP: str(step + 1)}
    if iteration:
        params[ITERATION] = str(iteration + 1)
    if exercise:
        params[MODE] = EXERCISE
    return params


@dataclass(frozen=True)
class Link:
    """What to open for a link: always a problem, so the app just starts the lecture with it.

    `step` and `iteration` are 0-based. `notice` is None for a good link; otherwise one line
    saying what was wrong and what opened instead: a refused problem gives the default problem
    at step 1; a good problem with a bad step (or iteration) opens at step 1 (iteration 1).
    `iteration` only numbers the lecture: the link holds that iteration's problem, not the
    ones before it.
    """

    problem: Problem
    step: int = 0
    iteration: int = 0
    notice: str | None = None
    exercise: bool = False  # homework: the solutions, the Train tab and the downloads hidden


def from_query(
    params: Mapping[str, str | list[str]], default: Callable[[], Problem] = preset
) -> Link | None:
    """The link in these query parameters, or None when there is no problem in them (a step
    alone is ignored). Never raises: what is wrong goes into the Link's notice."""
    if PARAM not in params:
        return None
    try:
        problem = decode(_one(params[PARAM], PARAM))
    except ProblemError as e:
        return Link(default(), notice=f"{e}. The default problem opens instead.")
    notices = []
    step = _count(params.get(STEP), STEP, "step", step_count(problem), notices)
    iteration = _count(params.get(ITERATION), ITERATION, "iteration", MAX_ITERATION, notices)
    exercise = _exercise(params.get(MODE), notices)
    return Link(problem, step, iteration, " ".join(notices) or None, exercise)


def _exercise(raw, notices: list[str]) -> bool:
    """Whether the link is an exercise. A mode it does not know opens as an exercise all the
    same, with a notice: a damaged homework link must not show the solutions."""
    if raw is None:
        return False
    try:
        raw = _one(raw, MODE)
    except ProblemError:
        raw = None
    if raw != EXERCISE:
        notices.append(
            f'The share link\'s mode is {describe(raw)}; expected "{EXERCISE}", so it opens as '
            "an exercise, with the solutions hidden."
        )
    return True


def _one(value, key: str):
    """A parameter's one value; a list (as parse_qs gives) must hold exactly one."""
    if isinstance(value, list | tuple):
        if len(value) != 1:
            raise _damaged(f"it has {len(value)} values for {key}=; expected one")
        return value[0]
    return value


def _count(raw, key: str, what: str, highest: int, notices: list[str]) -> int:
    """A 1-based number from the link as 0-based; 0, with a notice, when it is bad."""
    if raw is None:
        return 0
    try:
        raw = _one(raw, key)
    except ProblemError:
        notices.append(f"The share link has {len(raw)} values for {key}=; expected one.")
        return 0
    if isinstance(raw, str) and _NUMBER.fullmatch(raw) and 1 <= int(raw) <= highest:
        return int(raw) - 1
    notices.append(
        f"The share link's {what} is {describe(raw)}; expected a whole number from 1 to "
        f"{highest:,}, so the lecture opens at {what} 1."
    )
    return 0
