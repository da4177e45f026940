"""The app at its limits, through AppTest: what it refuses, what it shares out, and what it says
then. Numbers are worked out here, not taken from nnviz."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from shown import shown
from streamlit.testing.v1 import AppTest

from nnviz.core.problem import Problem, preset
from nnviz.files import share
from nnviz.ui import heavy

APP = str(Path(__file__).resolve().parent.parent / "app.py")
BIG = {  # 8 layers of 64, with biases: 7 * 64 * 64 + 7 * 64 = 29,120 parameters
    "layers": [64] * 8,
    "activations": ["tanh"] * 6 + ["softmax"],
    "loss": "cross_entropy",
    "x": [0.5] * 64,
    "target": [1.0] + [0.0] * 63,
    "weights": [(np.eye(64) * 0.5).tolist()] * 7,
    "biases": [[0.0] * 64] * 7,
    "learning_rate": 0.1,
}


def opened(problem: Problem | None = None, tab: str = "Lecture", **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if problem is not None:
        at.query_params[share.PARAM] = share.encode(problem)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if problem is not None and len(share.encode(problem)) > share.MAX_LINK:
        at.session_state["lecture"].open("big.json", problem.to_json().encode())
    at.session_state["tab"] = tab
    return run(at)


def run(at) -> AppTest:
    """Run the app, from itself or from one of its widgets."""
    at = at.run()
    assert not at.exception, at.exception
    return at


def softmax_of_one_input(x: float, weights: list[float]) -> Problem:
    """z = w x into a softmax of two, with cross-entropy against o* = [1, 0]."""
    return Problem.from_dict(
        {
            "layers": [1, 2],
            "activations": ["softmax"],
            "loss": "cross_entropy",
            "x": [x],
            "target": [1.0, 0.0],
            "weights": [[[w] for w in weights]],
            "learning_rate": 0.1,
        }
    )


def said(at: AppTest) -> list[str]:
    return [
        shown(a.value) for kind in ("info", "warning", "error", "success") for a in at.get(kind)
    ]


# --- the layer box ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["3-" + "9" * 5000 + "-2", "9" * 5000, "3-0004-2", "3-65-2", "-".join(["3"] * 9)],
    ids=["5000-digits", "one-huge", "four-digits", "65-wide", "nine-layers"],
)
def test_the_layer_box_refuses_sizes_out_of_range_with_its_message(typed):
    at = opened()
    box = at.text_input(key=f"layers_r{at.session_state['lecture'].rev}")
    run(box.set_value(typed))
    (message,) = [m for m in said(at) if m.startswith("Layer sizes")]
    quoted = typed if len(typed) <= 20 else typed[:20] + "…"
    assert message == (
        f'Layer sizes "{quoted}" were not changed: expected 2 to 8 whole numbers from 1 to 64 '
        "joined by dashes, e.g. 3-4-2."
    )
    assert at.session_state["lecture"].problem.layers == (3, 4, 2)


# --- the header -------------------------------------------------------------------------------


def test_a_loss_of_minus_zero_reads_zero():
    """z = [1000, 200]: o_1 = 1 exactly, and L = -(1)(ln 1) is -0.0 in floating point."""
    problem = softmax_of_one_input(1000.0, [1.0, 0.2])
    at = opened(problem, step="4")  # the loss, after the setup, z and o
    header = [shown(m.value) for m in at.markdown if "Iteration" in m.value]
    assert header == ["Iteration 1 · loss L = 0.0000"]


# --- the iteration count ----------------------------------------------------------------------


def test_the_lecture_stops_at_the_last_iteration_a_link_can_carry():
    last = share.MAX_ITERATION
    at = opened(preset("seed"), step="11", it=str(last))
    assert f"Iteration {last:,}" in " ".join(shown(m.value) for m in at.markdown)
    run(at.button(key="next").click())
    lecture = at.session_state["lecture"]
    assert (lecture.number, lecture.step) == (last, 10)  # still the update of the last one
    assert f"at most {last:,} iterations, so iteration {last + 1:,} cannot start" in " ".join(
        said(at)
    )
    run(at.button(key="share").click())
    link = share.from_query(at.query_params)
    assert link.notice is None and (link.iteration, link.step) == (last - 1, 10)


def test_the_link_of_every_iteration_it_counts_opens_again():
    for number in (1, 2, 10**6, share.MAX_ITERATION):
        query = share.query(preset("seed"), 3, number - 1)
        link = share.from_query(query)
        assert link.notice is None and (link.iteration, link.step) == (number - 1, 3)


# --- heavy work -------------------------------------------------------------------------------


def train(at: AppTest, n: int) -> AppTest:
    at.number_input(key="train_iterations").set_value(n)
    return run(at.button(key="train_run").click())


def test_a_run_is_limited_by_its_number_of_parameter_updates():
    problem = Problem.from_dict(BIG)
    assert problem.parameters == 29_120
    most = 100_000_000 // 29_120
    at = opened(problem, tab="Train")
    train(at, most + 1)
    assert at.session_state.get("training") is None
    (message,) = said(at)
    assert message.startswith(
        f"Not trained: this network has 29,120 weights and biases, and a run here makes at "
        f"most 100,000,000 updates of them, so at most {most:,} iterations."
    )
    train(at, 5)
    assert at.session_state["training"].iterations_run == 5


def test_the_seed_may_still_train_its_100000_iterations():
    from nnviz.ui.train import most_iterations

    assert most_iterations(preset("seed")) == 100_000


def test_a_run_waits_its_turn_and_gives_up_when_the_server_stays_busy(monkeypatch):
    monkeypatch.setattr(heavy, "WAIT", 0.3)
    at = opened(tab="Train")
    assert heavy._TURNS.acquire(timeout=5)  # another student's run
    try:
        train(at, 10)
    finally:
        heavy._TURNS.release()
    assert at.session_state.get("training") is None
    assert said(at) == [
        "The server stayed busy with other students' work for 0.3 s, so your training run "
        "did not start. Try again in a minute, or ask for less."
    ]


def test_a_run_starts_when_the_turn_before_it_ends(monkeypatch):
    monkeypatch.setattr(heavy, "WAIT", 30.0)
    at = opened(tab="Train")
    assert heavy._TURNS.acquire(timeout=5)
    threading.Timer(0.5, heavy._TURNS.release).start()
    train(at, 10)
    assert at.session_state["training"].iterations_run == 10
    assert heavy._TURNS.acquire(blocking=False)  # and its turn was given back
    heavy._TURNS.release()


# --- the gradient check's reasons -------------------------------------------------------------


def test_a_disagreement_at_a_large_scale_is_said_to_be_the_scale_not_a_kink():
    """x = 1e6 and w = 1e-6: a nudge of h = 1e-4 moves z_1 by 100, and the finite difference
    measures a chord; there is no ReLU to blame."""
    problem = softmax_of_one_input(1e6, [1e-6, 0.0])
    at = opened(problem, tab="Gradient check")
    assert said(at)[0].startswith("2 of 2 gradients disagree with finite differences")
    captions = " ".join(c.value for c in at.caption)
    assert "The network's values reach 1.0e+06" in captions and "ReLU" not in captions


def test_a_relu_at_its_kink_is_named_as_the_reason():
    data = preset("seed").to_dict()
    data["activations"][0] = "relu"
    data["weights"][0][1] = [0.5, -1.0, -2.0]  # u_2 = 0.5 - 1.5 + 1.0 = 0
    at = opened(Problem.from_dict(data), tab="Gradient check")
    assert "gradients disagree" in said(at)[0]
    captions = " ".join(c.value for c in at.caption)
    assert "gets exactly u = 0" in captions and "values reach" not in captions


# --- what a student never sees ----------------------------------------------------------------


def test_an_unexpected_error_shows_no_traceback_or_paths():
    import tomllib

    config = tomllib.loads((Path(APP).parent / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "type"  # the type and a generic message only


def test_a_link_longer_than_a_server_takes_opens_the_seed_and_says_why():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params[share.PARAM] = "1." + "A" * 20_000
    run(at)
    assert said(at) == [
        "The share link is damaged: it is 20,002 characters long; a share link has at most "
        "14,000, what a web server reliably takes. The default problem opens instead."
    ]
    assert at.session_state["lecture"].problem.to_dict() == preset("seed").to_dict()


def test_typed_answers_at_the_edge_of_a_double_are_marked_without_a_warning():
    """pytest makes warnings errors, in the app's thread too: an overflow would be an
    exception on the page."""
    from nnviz.ui.check import answer_key

    at = opened(tab="Check answers")
    problem = at.session_state["lecture"].problem
    at.session_state[answer_key("u", 0, problem)] = {
        "edited_rows": {0: {"h1": "1e308", "h2": "-1e308", "h3": "1e308"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    run(at)
    summary = next(s.value for s in at.subheader if "answers:" in s.value)
    assert summary == "3 answers: 0 correct, 0 carried forward, 3 wrong"
    run(at.number_input(key="rtol_r0").set_value(1e308))  # rtol |expected| is beyond a double
    summary = next(s.value for s in at.subheader if "answers:" in s.value)
    assert summary == "3 answers: 3 correct, 0 carried forward, 0 wrong"


def test_a_file_opened_from_another_tab_says_so_there():
    at = opened(tab="Train")
    at.session_state["lecture"].open("mine.json", preset("tutorial").to_json().encode())
    run(at)
    assert said(at) == ["Opened mine.json."]
    assert at.session_state["tab"] == "Train"


def test_answers_for_the_given_x_and_target_are_marked_without_working(tmp_path):
    """x and o* are part of the problem: a wrong copy of them is wrong, and has no working."""
    import json
    import subprocess
    import sys

    sheet = {"answers": {"x": [1.0, 1.5, -0.4], "o*": [1, 0], "u": [2, -1.5, 4.7, 0.2]}}
    path = tmp_path / "given.json"
    path.write_text(json.dumps(sheet))
    done = subprocess.run(
        [sys.executable, "-m", "nnviz", "check", str(path), "--format", "json"],
        cwd=Path(APP).parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    marks = {(i["symbol"], tuple(i["index"])): i for i in json.loads(done.stdout)["items"]}
    assert marks["x", (3,)]["status"] == "wrong" and "note" not in marks["x", (3,)]
    assert marks["x", (1,)]["status"] == marks["o*", (1,)]["status"] == "correct"
    assert marks["u", (3,)]["status"] == "correct"

    from nnviz.teaching.grading import read_answers
    from nnviz.ui.state import Marking

    at = opened(tab="Check answers")
    at.session_state["marking"] = Marking(read_answers(json.dumps(sheet)), loaded=True)
    run(at)
    summary = next(s.value for s in at.subheader if "answers:" in s.value)
    assert summary == "9 answers: 8 correct, 0 carried forward, 1 wrong"
