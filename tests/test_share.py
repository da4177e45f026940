"""Share links: a problem and a place in the lecture, in the URL's query.

A link must give back its problem exactly, every float bit for bit, and a damaged or hostile
link must be refused with its one-line message, never a traceback and never after inflating a
bomb. `from_query`, which the app calls, must never raise at all.
"""

from __future__ import annotations

import base64
import json
import tracemalloc
import zlib
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnviz.core import engine
from nnviz.core.functions import ACTIVATIONS, activation_names
from nnviz.core.problem import LIMIT, MAX_BYTES, MAX_TITLE, Problem, ProblemError, preset
from nnviz.files.share import (
    ITERATION,
    MAX_ITERATION,
    MAX_LINK,
    PARAM,
    STEP,
    Link,
    decode,
    encode,
    from_query,
    query,
)
from nnviz.teaching.lesson import step_count

DAMAGED = "The share link is damaged: "
SEED_LINK_BOUND = 320  # measured: 300 characters


def pack(data: bytes) -> str:
    """A link made by hand around any bytes, as a hostile page could make one."""
    return "1." + base64.urlsafe_b64encode(zlib.compress(data, 9)).rstrip(b"=").decode()


def seed_json(old: str = "", new: str = "") -> bytes:
    """The seed problem as JSON, with its first `old` replaced by `new`."""
    text = json.dumps(preset("seed").to_dict())
    assert not old or old in text
    return text.replace(old, new, 1).encode() if old else text.encode()


def assert_same(a: Problem, b: Problem) -> None:
    """Equal in every key, and every float bit for bit (so -0.0 is not 0.0)."""
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
    assert a.layers == b.layers
    assert a.activations == b.activations
    assert a.loss == b.loss
    assert a.title == b.title
    assert a.learning_rate.hex() == b.learning_rate.hex()
    arrays = [a.x, a.target, *a.weights, *(a.biases or ())]
    others = [b.x, b.target, *b.weights, *(b.biases or ())]
    assert len(arrays) == len(others)
    assert (a.biases is None) == (b.biases is None)
    for x, y in zip(arrays, others):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert np.array_equal(x, y)
        assert x.tobytes() == y.tobytes()


def refusal(text) -> str:
    with pytest.raises(ProblemError) as caught:
        decode(text)
    message = str(caught.value)
    assert message.startswith(DAMAGED)
    assert "\n" not in message
    return message.removeprefix(DAMAGED)


# --- exact round trips ------------------------------------------------------------------------


def test_the_seed_round_trips_exactly_in_a_short_link():
    seed = preset("seed")
    link = encode(seed)
    assert link.startswith("1.")
    assert len(link) < SEED_LINK_BOUND < MAX_LINK
    assert_same(decode(link), seed)


def test_a_link_is_plain_url_text():
    link = encode(preset("seed"))
    assert set(link) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_weights_after_iterations_round_trip_exactly():
    """The updates leave full-precision doubles, which the lecture must share as they are."""
    problem = preset("seed")
    for _ in range(10):
        problem = engine.iterate(problem).updated
        assert_same(decode(encode(problem)), problem)


def test_odd_floats_round_trip_exactly():
    data = preset("seed").to_dict()
    data["weights"][0] = [
        [-0.0, 5e-324, -2.2250738585072014e-308],
        [LIMIT, -LIMIT, 0.1 + 0.2],
        [1 / 3, -999999.9999999999, 2.5e-300],
        [np.nextafter(1.0, 2.0), np.nextafter(0.0, -1.0), 1e-7],
    ]
    data["title"] = "Ω η σ ∂ — ünïcödé 🧠 «quoted» \"and\" 'this'"
    data["learning_rate"] = 1e-300
    problem = Problem.from_dict(data)
    again = decode(encode(problem))
    assert_same(again, problem)
    assert np.signbit(again.weights[0][0, 0])


def _big(rng, exponents: bool) -> Problem:
    """8 layers of 64 with biases, every number a random double: the largest a link carries."""

    def draw(*shape):
        values = rng.uniform(-1, 1, shape)
        if exponents:  # mantissas and exponents all over the range the format allows
            values *= 10.0 ** rng.integers(-300, 6, shape)
        return values.tolist()

    return Problem.from_dict(
        {
            "title": "x" * MAX_TITLE,
            "layers": [64] * 8,
            "activations": [{"name": "leaky_relu", "negative_slope": 0.1}] * 6 + ["softmax"],
            "loss": "cross_entropy",
            "x": draw(64),
            "target": [1.0] + [0.0] * 63,
            "weights": [draw(64, 64) for _ in range(7)],
            "biases": [draw(64) for _ in range(7)],
            "learning_rate": 0.1,
        }
    )


@pytest.mark.parametrize("exponents", [False, True], ids=["normal", "all-exponents"])
def test_the_largest_problem_is_too_long_for_a_link_and_says_so(exponents):
    """A web server takes about 16 KB of request: a link is refused past what nnviz writes."""
    problem = _big(np.random.default_rng(7), exponents)
    link = encode(problem)
    assert len(link) > 300_000  # measured: about 355,000 characters, 382,000 with exponents
    with pytest.raises(ProblemError) as caught:
        decode(link)
    assert str(caught.value) == (
        f"{DAMAGED}it is {len(link):,} characters long; a share link has at most "
        f"{MAX_LINK:,}, what a web server reliably takes"
    )


def test_a_link_of_the_longest_length_is_read():
    """What the app writes (up to MAX_LINK characters), it reads: a problem whose title pads
    its link to exactly the limit."""
    seed = preset("seed").to_dict()
    rng = np.random.default_rng(3)
    seed["weights"] = [rng.normal(size=(64, 3)).tolist(), rng.normal(size=(2, 64)).tolist()]
    seed["layers"] = [3, 64, 2]
    seed["activations"] = ["relu", "softmax"]
    problem = Problem.from_dict(seed)
    link = encode(problem)
    assert 4_000 < len(link) <= MAX_LINK
    assert_same(decode(link), problem)
    assert_same(decode(link + "=" * (MAX_LINK - len(link))), problem)  # padding counts too
    with pytest.raises(ProblemError):
        decode(link + "=" * (MAX_LINK - len(link) + 1))


# --- random valid problems --------------------------------------------------------------------

NUMBER = st.one_of(
    st.floats(min_value=-LIMIT, max_value=LIMIT, allow_nan=False),  # subnormals, -0.0, LIMIT
    st.floats(min_value=-1, max_value=1, allow_nan=False),
    st.integers(-10, 10).map(lambda k: k / 4),
)
HIDDEN_NAMES = list(activation_names(output=False))


@st.composite
def activations(draw, names):
    name = draw(st.sampled_from(names))
    if ACTIVATIONS[name].parameter and draw(st.booleans()):
        return {"name": name, ACTIVATIONS[name].parameter[0]: draw(NUMBER)}
    return name


@st.composite
def problems(draw):
    layers = draw(st.lists(st.integers(1, 6), min_size=2, max_size=4))
    depth = len(layers) - 1
    loss = draw(st.sampled_from(["cross_entropy", "binary_cross_entropy", "squared_error"]))
    output = {"cross_entropy": ["softmax"], "binary_cross_entropy": ["sigmoid"]}.get(
        loss, list(activation_names())
    )
    n_out = layers[-1]
    if loss == "cross_entropy":
        target = [0.0] * n_out
        target[draw(st.integers(0, n_out - 1))] = 1.0
    elif loss == "binary_cross_entropy":
        target = draw(st.lists(st.floats(0, 1), min_size=n_out, max_size=n_out))
    else:
        target = draw(st.lists(NUMBER, min_size=n_out, max_size=n_out))

    def vector(n):
        return st.lists(NUMBER, min_size=n, max_size=n)

    data = {
        "title": draw(st.text(max_size=MAX_TITLE).filter(str.isprintable)),
        "layers": layers,
        "activations": [draw(activations(HIDDEN_NAMES)) for _ in range(depth - 1)]
        + [draw(activations(output))],
        "loss": loss,
        "x": draw(vector(layers[0])),
        "target": target,
        "weights": [draw(st.lists(vector(n), min_size=m, max_size=m)) for n, m in pairwise(layers)],
        "biases": draw(st.none() | st.tuples(*(vector(m) for m in layers[1:])).map(list)),
        "learning_rate": draw(st.floats(min_value=0, max_value=LIMIT, exclude_min=True)),
    }
    return Problem.from_dict(data)


@settings(max_examples=300, deadline=None)
@given(problems())
def test_every_valid_problem_round_trips_exactly(problem):
    link = encode(problem)
    assert len(link) <= MAX_LINK
    assert_same(decode(link), problem)


@settings(max_examples=100, deadline=None)
@given(problems(), st.data())
def test_a_query_round_trips_the_problem_and_the_place(problem, data):
    step = data.draw(st.integers(0, step_count(problem) - 1))
    iteration = data.draw(st.integers(0, MAX_ITERATION - 1))
    params = query(problem, step, iteration)
    assert params[STEP] == str(step + 1)
    assert all(isinstance(v, str) for v in params.values())
    link = from_query(params)
    assert link.notice is None
    assert (link.step, link.iteration) == (step, iteration)
    assert_same(link.problem, problem)


def test_a_query_names_the_step_as_people_count_and_leaves_out_iteration_1():
    seed = preset("seed")
    assert query(seed, 0) == {PARAM: encode(seed), STEP: "1"}
    assert query(seed, 4, 2) == {PARAM: encode(seed), STEP: "5", ITERATION: "3"}


# --- damaged and hostile links ----------------------------------------------------------------

SEED_LINK = encode(preset("seed"))
BOMB = pack(bytes(10_000_000))  # 10 MB of zeros in a link of 13,000 characters

BAD_LINKS = {
    "empty": ("", "it is empty; it holds no problem"),
    "no data": ("1.", "its data ends early; the link looks cut short"),
    "bad character": (
        "1.eNo1$jz2P",
        'it has "$" at character 7, which a share link never contains',
    ),
    "a space, as a + becomes": (
        "1.eNo1 jz2P",
        'it has " " at character 7, which a share link never contains',
    ),
    "non-ASCII": ("1.eNoé", 'it has "é" at character 6, which a share link never contains'),
    "standard base64": (
        "1.eNo/jz2P",
        'it has "/" at character 6, which a share link never contains',
    ),
    "padding inside": ("1.ab=cd", 'it has "=" at character 5, which a share link never contains'),
    "padding of a wrong length": (
        "1.abcde===",
        "its data is not whole base64 (cut short, or a character too many)",
    ),
    "cut to a partial base64 character": (
        SEED_LINK[: 2 + 4 * 30 + 1],
        "its data is not whole base64 (cut short, or a character too many)",
    ),
    "cut short": (SEED_LINK[: 2 + 4 * 30], "its data ends early; the link looks cut short"),
    "cut by one character": (SEED_LINK[:-1], None),  # either message above, by length
    "extra data": (pack(seed_json()) + "AAAA", "it has data after the end of the problem"),
    "not zlib": (
        "1." + base64.urlsafe_b64encode(b"just some garbage bytes").decode().rstrip("="),
        "its data is not a zlib stream (incorrect header check)",
    ),
    "no version": ("eNo1jz2P", 'it does not start with "1."; it is not a link nnviz made'),
    "a dot first": (".eNo1jz2P", 'it does not start with "1."; it is not a link nnviz made'),
    "a word for the version": (
        "v1.eNo1jz2P",
        'it does not start with "1."; it is not a link nnviz made',
    ),
    "a later version": (
        "2." + SEED_LINK[2:],
        "it is in format 2, which this version of nnviz cannot read (it reads format 1)",
    ),
    "over MAX_LINK": (
        "1." + "A" * MAX_LINK,
        f"it is {MAX_LINK + 2:,} characters long; a share link has at most {MAX_LINK:,}, "
        "what a web server reliably takes",
    ),
    "not text": (None, "it is null, not text"),
    "not UTF-8": (
        pack(b"\xff\xfe{}"),
        "the packed problem is not UTF-8 text; expected a JSON problem",
    ),
    "nothing packed": (pack(b""), "the packed problem is empty; expected a JSON problem"),
    "not JSON": (pack(b"layers: 3, 4, 2"), "not valid JSON at line 1, column 1: Expecting value"),
    "JSON cut short": (
        pack(seed_json()[:100]),
        "the JSON ends early (line 1); the packed problem looks truncated",
    ),
    "a JSON list": (pack(b"[3, 4, 2]"), "the problem is a list of 3; expected a JSON object"),
    "a JSON string": (pack(b'"seed"'), 'the problem is "seed"; expected a JSON object'),
    "JSON null": (pack(b"null"), "the problem is null; expected a JSON object"),
    "nested deeply": (
        pack(b"[" * 200_000),
        "the JSON is nested too deeply to be a problem, at " + "[0]" * 8 + "…",
    ),
    "NaN": (
        pack(seed_json("-1.0", "NaN")),
        "weights[0][0][0] is NaN; expected a finite number",
    ),
    "Infinity": (
        pack(seed_json("-1.0", "-Infinity")),
        "weights[0][0][0] is -Infinity; expected a finite number",
    ),
    "1e400": (
        pack(seed_json("-1.0", "1e400")),
        "weights[0][0][0] is 1e400; expected a finite number",
    ),
    "1e308": (
        pack(seed_json("-1.0", "1e308")),
        "v_11 (weights[0][0][0]) = 1e+308 is out of range; expected at most 1e+06 in size",
    ),
    "a huge integer": (
        pack(seed_json("-1.0", "9" * 5000)),
        "weights[0][0][0] is 99999999999999999999…; expected a finite number",
    ),
    "a string for a number": (
        pack(seed_json("-1.0", '"-1.0"')),
        'weights[0][0][0] is "-1.0"; expected a number',
    ),
    "wrong shape": (
        pack(seed_json("[[1.0, 1.0, 0.5, 0.5], [0.3, 0.4, 0.5, 0.1]]", "[[1.0, 1.0], [0.3, 0.4]]")),
        "weights[1] has shape (2, 2); layers [3, 4, 2] need (2, 4)",
    ),
    "a huge title": (
        pack(seed_json('"Problem 1', '"' + "Ω" * 300_000)),
        f"title has {300_000 + 41} characters; expected at most {MAX_TITLE}",
    ),
    "a huge key": (
        pack(b'{"' + b"k" * 900_000 + b'": 1}'),
        'unknown key "kkkkkkkkkkkkkkkkkkkk…"; a problem has the keys format, title, layers, '
        "activations, loss, x, target, weights, biases, learning_rate",
    ),
    "a huge list": (
        pack(seed_json("[1.0, 1.5, -0.5]", json.dumps([0.5] * 100_000))),
        "x has length 100000; layers [3, 4, 2] (layers[0]) need 3",
    ),
    "too wide": (
        pack(seed_json("[3, 4, 2]", "[3, 4000, 2]")),
        "layers[1] is 4000; expected a whole number from 1 to 64",
    ),
    "a bomb of zeros": (
        BOMB,
        f"it unpacks to over {MAX_BYTES:,} bytes; a problem has at most that",
    ),
    "a bomb in a title": (
        pack(b'{"title": "' + b"a" * 5_000_000 + b'"}'),
        f"it unpacks to over {MAX_BYTES:,} bytes; a problem has at most that",
    ),
}


@pytest.mark.parametrize(("text", "message"), BAD_LINKS.values(), ids=BAD_LINKS.keys())
def test_a_bad_link_is_refused_with_its_message(text, message):
    got = refusal(text)
    if message is None:
        assert got in (
            "its data ends early; the link looks cut short",
            "its data is not whole base64 (cut short, or a character too many)",
        )
    else:
        assert got == message


@pytest.mark.parametrize("cut", range(1, 60))
def test_a_link_cut_anywhere_is_refused(cut):
    assert refusal(SEED_LINK[:-cut])


def test_a_bomb_is_refused_without_being_inflated():
    assert len(BOMB) < MAX_LINK  # so it is the unpacking that must stop it
    tracemalloc.start()
    try:
        refusal(BOMB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_BYTES  # the link, its bytes and at most 1 MB unpacked; not 10 MB


@settings(max_examples=300, deadline=None)
@given(st.text() | st.text("1.-_=AZaz09").map(lambda t: "1." + t))
def test_any_text_is_a_problem_or_refused(text):
    try:
        decode(text)
    except ProblemError as e:
        assert str(e).startswith(DAMAGED) and "\n" not in str(e)


JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(preset("seed").to_dict())), JSON, st.binary(max_size=64))
def test_any_packed_data_is_a_problem_or_refused(key, value, garbage):
    data = preset("seed").to_dict()
    data[key] = value
    for text in (pack(json.dumps(data).encode()), pack(garbage), pack(json.dumps(value).encode())):
        try:
            decode(text)
        except ProblemError as e:
            assert str(e).startswith(DAMAGED) and "\n" not in str(e)


# --- from_query: what the app opens -----------------------------------------------------------


def test_no_problem_in_the_query_is_no_link():
    assert from_query({}) is None
    assert from_query({STEP: "3"}) is None
    assert from_query({"other": "x"}) is None


def test_a_good_link_opens_its_problem_at_its_step():
    seed = preset("seed")
    n = step_count(seed)
    link = from_query({PARAM: SEED_LINK, STEP: str(n)})
    assert isinstance(link, Link)
    assert (link.step, link.iteration, link.notice) == (n - 1, 0, None)
    assert_same(link.problem, seed)
    assert from_query({PARAM: SEED_LINK}).step == 0


def test_list_values_with_one_entry_are_read():
    link = from_query({PARAM: [SEED_LINK], STEP: ["2"], ITERATION: ["7"]})
    assert (link.step, link.iteration, link.notice) == (1, 6, None)
    assert_same(link.problem, preset("seed"))


BAD_STEPS = ["abc", "0", "-1", "999", "1e3", "", " 2", "2.0", "+2", "\uff11", "12", "9" * 40]


@pytest.mark.parametrize("step", BAD_STEPS)
def test_a_bad_step_opens_the_problem_at_step_1_with_a_notice(step):
    link = from_query({PARAM: SEED_LINK, STEP: step})
    assert_same(link.problem, preset("seed"))
    assert (link.step, link.iteration) == (0, 0)
    quoted = json.dumps(step if len(step) <= 20 else step[:20] + "…", ensure_ascii=False)
    assert link.notice == (
        f"The share link's step is {quoted}; expected a whole number from 1 to "
        f"{step_count(preset('seed'))}, so the lecture opens at step 1."
    )


def test_several_steps_are_a_notice():
    link = from_query({PARAM: SEED_LINK, STEP: ["2", "3"]})
    assert link.step == 0
    assert link.notice == "The share link has 2 values for step=; expected one."


@pytest.mark.parametrize("iteration", ["0", "abc", str(MAX_ITERATION + 1)])
def test_a_bad_iteration_is_a_notice(iteration):
    link = from_query({PARAM: SEED_LINK, STEP: "3", ITERATION: iteration})
    assert (link.step, link.iteration) == (2, 0)
    assert link.notice == (
        f'The share link\'s iteration is "{iteration}"; expected a whole number from 1 to '
        f"{MAX_ITERATION:,}, so the lecture opens at iteration 1."
    )


def test_a_bad_step_and_iteration_are_both_told():
    link = from_query({PARAM: SEED_LINK, STEP: "x", ITERATION: "y"})
    assert link.notice.count("The share link's") == 2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1.abc$", 'it has "$" at character 6, which a share link never contains'),
        ([SEED_LINK, SEED_LINK], "it has 2 values for p=; expected one"),
        ([], "it has 0 values for p=; expected one"),
        (BOMB, f"it unpacks to over {MAX_BYTES:,} bytes; a problem has at most that"),
    ],
    ids=["damaged", "two", "none", "bomb"],
)
def test_a_bad_problem_opens_the_default_with_a_notice(value, message):
    link = from_query({PARAM: value, STEP: "5"})
    assert_same(link.problem, preset("seed"))
    assert (link.step, link.iteration) == (0, 0)
    assert link.notice == f"{DAMAGED}{message}. The default problem opens instead."


def test_the_default_problem_can_be_chosen():
    tutorial = preset("tutorial")
    link = from_query({PARAM: "junk"}, default=lambda: tutorial)
    assert link.problem is tutorial
    assert link.notice.startswith(DAMAGED)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([PARAM, STEP, ITERATION, "x"]),
        st.text() | st.lists(st.text(), max_size=3) | st.just(SEED_LINK),
    )
)
def test_from_query_never_raises(params):
    link = from_query(params)
    if PARAM not in params:
        assert link is None
    else:
        assert isinstance(link.problem, Problem)
        assert 0 <= link.step < step_count(link.problem)
        assert 0 <= link.iteration < MAX_ITERATION
        assert link.notice is None or "\n" not in link.notice
