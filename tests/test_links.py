"""Share links and problem files in the app, driven by AppTest: a link opens exactly its view,
a damaged one opens the seed with the reason, and Share link puts the view in the address."""

import json
import zlib
from base64 import urlsafe_b64encode
from pathlib import Path

import numpy as np
import pytest
from fragments import whole_page
from seed import TITLES
from shown import shown
from streamlit.testing.v1 import AppTest

from nnviz.core.networks import random_problem
from nnviz.core.problem import Problem, preset
from nnviz.files.share import ITERATION, PARAM, STEP, decode, encode

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def opened(query=None):
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    return at


def edited_seed():
    data = preset("seed").to_dict()
    data["weights"][0][1][0] = 2.0
    data["title"] = "v_21 = 2"
    return Problem.from_dict(data)


def test_a_link_opens_its_problem_at_its_step():
    problem = edited_seed()
    at = opened({PARAM: encode(problem), STEP: "5"})
    assert at.subheader[0].value == f"Step 5 of 11: {TITLES[4]}"
    assert "v_21 = 2" in " ".join(shown(m.value) for m in at.markdown)
    assert at.session_state["lecture"].problem.to_dict() == problem.to_dict()
    assert not at.info  # a good link says nothing


def test_share_link_puts_this_view_in_the_address_and_the_address_opens_it_again():
    at = opened()
    for _ in range(3):
        at.button(key="next").click().run()
    whole_page(at)  # Next reran the stepper alone; the sidebar is still on the page
    at.button(key="share").click().run()
    params = dict(at.query_params)
    link = params[PARAM][0] if isinstance(params[PARAM], list) else params[PARAM]
    step = params[STEP][0] if isinstance(params[STEP], list) else params[STEP]
    assert step == "4"
    assert decode(link).to_dict() == preset("seed").to_dict()
    assert "The address bar now holds this network at this step" in at.caption[-1].value
    again = opened({PARAM: link, STEP: step})
    assert again.subheader[0].value == f"Step 4 of 11: {TITLES[3]}"


def test_the_address_is_cleared_once_the_view_moves_on():
    at = opened()
    at.button(key="share").click().run()
    assert PARAM in at.query_params
    at.button(key="next").click().run()
    assert PARAM not in at.query_params


@pytest.mark.parametrize(
    "link, reason",
    [
        ("1.@@@", "The share link is damaged: "),
        ("1.eJzLSM3JyQcABiwCFQ", "The share link is damaged: "),  # zlib of "hello"
        ("2." + encode(preset("seed"))[2:], "The share link is damaged: "),
        (encode(preset("seed"))[:-40], "The share link is damaged: "),
    ],
)
def test_a_damaged_link_opens_the_seed_with_its_reason(link, reason):
    at = opened({PARAM: link, STEP: "3"})
    assert at.subheader[0].value == f"Step 1 of 11: {TITLES[0]}"
    notice = shown(at.info[0].value)
    assert notice.startswith(reason) and notice.endswith("The default problem opens instead.")
    assert at.session_state["lecture"].problem.to_dict() == preset("seed").to_dict()
    assert PARAM not in at.query_params


def test_a_link_with_wrong_shapes_names_them():
    data = preset("seed").to_dict()
    data["weights"][1] = [[1.0, 2.0], [3.0, 4.0]]
    packed = urlsafe_b64encode(zlib.compress(json.dumps(data).encode())).decode().rstrip("=")
    at = opened({PARAM: "1." + packed})
    assert "weights[1] has shape (2, 2); layers [3, 4, 2] need (2, 4)" in shown(at.info[0].value)


def test_a_good_link_with_a_bad_step_opens_at_step_1_and_says_so():
    at = opened({PARAM: encode(edited_seed()), STEP: "99"})
    assert at.subheader[0].value == f"Step 1 of 11: {TITLES[0]}"
    assert "step is" in shown(at.info[0].value) and "99" in shown(at.info[0].value)
    assert at.session_state["lecture"].problem.weights[0][1, 0] == 2.0


def test_a_network_too_large_for_a_link_is_told_to_travel_as_a_file():
    at = opened()
    big = random_problem(
        [64] * 4,
        preset("seed").activations[:1] * 2 + preset("seed").activations[1:],
        "cross_entropy",
        True,
        0,
    )
    at.session_state["lecture"].start(big)
    at.run()
    at.button(key="share").click().run()
    assert "This network is too large for a link" in shown(at.warning[0].value)
    assert "Download the problem as JSON" in shown(at.warning[0].value)
    assert PARAM not in at.query_params
    np.testing.assert_array_equal(at.session_state["lecture"].problem.weights[0], big.weights[0])


def test_reset_returns_to_step_1_of_the_link_not_the_seed():
    problem = edited_seed()
    at = opened({PARAM: encode(problem), STEP: "5", ITERATION: "7"})
    for _ in range(8):  # into iteration 8
        at.button(key="next").click().run()
    assert at.subheader[0].value == f"Step 2 of 11: {TITLES[1]}"
    at.button(key="reset").click().run()
    assert at.subheader[0].value == f"Step 1 of 11: {TITLES[0]}"
    assert at.session_state["lecture"].problem.to_dict() == problem.to_dict()
    assert "Iteration 7" in " ".join(shown(m.value) for m in at.markdown)
