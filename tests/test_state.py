"""The lecture's state rules, as plain Python: stepping, history, edits and architecture."""

import numpy as np
import pytest

from nnviz.core.engine import iterate
from nnviz.core.functions import Activation
from nnviz.core.networks import random_problem, with_architecture
from nnviz.core.problem import Problem, ProblemError, preset
from nnviz.ui.state import Lecture, with_values

N = 11  # steps of the seed lecture


def test_next_walks_the_steps_then_starts_the_next_iteration():
    seed = preset("seed")
    lecture = Lecture([seed])
    for k in range(1, N):
        lecture.next(N, seed)
        assert (lecture.iteration, lecture.step, lecture.rev) == (0, k, 0)
    updated = iterate(seed).updated
    lecture.next(N, updated)
    assert (lecture.iteration, lecture.step, lecture.rev) == (1, 0, 1)
    assert lecture.problem is updated and lecture.history[0] is seed


def test_prev_goes_back_across_iterations_and_nothing_is_lost():
    seed = preset("seed")
    lecture = Lecture([seed])
    lecture.step = N - 1
    lecture.next(N, iterate(seed).updated)
    lecture.prev(N)
    assert (lecture.iteration, lecture.step) == (0, N - 1) and lecture.problem is seed
    assert len(lecture.history) == 2  # iteration 2 is still there to step into again
    for _ in range(N - 1):
        lecture.prev(N)
    lecture.prev(N)  # at the very start: stays
    assert (lecture.iteration, lecture.step) == (0, 0)


def test_an_edit_replaces_this_iteration_and_forgets_the_later_ones():
    seed = preset("seed")
    lecture = Lecture([seed, iterate(seed).updated], iteration=0, step=4)
    edited = with_values(seed, "learning_rate", np.array([[0.5]]), np.array([["η"]]))
    lecture.edit(edited)
    assert lecture.history == [edited] and lecture.step == 4 and lecture.rev == 0


def test_start_begins_again_and_renews_the_editors():
    lecture = Lecture([preset("seed")], iteration=0, step=7, rev=3)
    lecture.start(preset("tutorial"), "Loaded")
    assert (lecture.step, lecture.rev, lecture.notice) == (0, 4, "Loaded")


V_CELLS = np.array(
    [[f"v_{j}{i} (row h{j}, column x{i})" for i in (1, 2, 3)] for j in (1, 2, 3, 4)], dtype=object
)


def test_a_good_edit_flows_through():
    v = preset("seed").weights[0].copy()
    v[1, 0] = 2.0
    problem = with_values(preset("seed"), ("weights", 0), v, V_CELLS)
    assert problem.weights[0][1, 0] == 2.0
    assert iterate(problem).forward.pre[0][1] == 0.0  # u_2 = 2(1) - 1(1.5) + 1(-0.5)


@pytest.mark.parametrize(
    "value, message",
    [
        (np.nan, "v_21 (row h2, column x1) is empty or not a number; expected a number"),
        (
            1e308,
            "v_21 (row h2, column x1) = 1e+308 is out of range; expected at most 1e+06 in size",
        ),
        (-np.inf, "v_21 (row h2, column x1) = -inf is out of range"),
    ],
)
def test_a_bad_cell_is_named(value, message):
    v = preset("seed").weights[0].copy()
    v[1, 0] = value
    with pytest.raises(
        ProblemError, match=message.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")
    ):
        with_values(preset("seed"), ("weights", 0), v, V_CELLS)


def test_a_target_that_is_no_distribution_is_named():
    with pytest.raises(ProblemError, match=r"o\* sums to 0.9; cross_entropy needs"):
        with_values(
            preset("seed"), "target", np.array([0.9, 0.0]), np.array(["o*_1", "o*_2"], dtype=object)
        )


def test_a_new_shape_draws_new_weights_with_a_notice():
    problem, notice = with_architecture(preset("seed"), layers=[3, 5, 2], seed=4)
    assert problem.layers == (3, 5, 2) and problem.weights[0].shape == (5, 3)
    assert notice == (
        "The layer sizes changed, so every weight was drawn again at random (seed 4)."
    )
    again, _ = with_architecture(preset("seed"), layers=[3, 5, 2], seed=4)
    np.testing.assert_array_equal(problem.weights[0], again.weights[0])


def test_a_loss_gets_the_output_layer_it_needs():
    problem, notice = with_architecture(preset("tutorial"), loss="cross_entropy")
    assert problem.activations[-1].name == "softmax" and problem.loss.name == "cross_entropy"
    assert "the output layer is now softmax" in notice
    np.testing.assert_array_equal(problem.weights[1], preset("tutorial").weights[1])


def test_an_output_layer_change_moves_the_loss_along():
    activations = [Activation("elu"), Activation("tanh")]
    problem, notice = with_architecture(preset("seed"), activations=activations)
    assert problem.loss.name == "squared_error" and "the loss is now squared_error" in notice


def test_a_target_the_new_loss_cannot_take_becomes_one_hot():
    data = {
        **preset("seed").to_dict(),
        "loss": "squared_error",
        "target": [2.0, -1.0],
        "activations": ["elu", "tanh"],
    }
    problem, notice = with_architecture(Problem.from_dict(data), loss="binary_cross_entropy")
    assert problem.target.tolist() == [1.0, 0.0] and "one-hot" in notice


def test_biases_on_and_off():
    on, notice = with_architecture(preset("seed"), biases=True)
    assert [b.tolist() for b in on.biases] == [[0.0] * 4, [0.0] * 2] and "Biases" in notice
    off, notice = with_architecture(on, biases=False)
    assert off.biases is None and notice is None


def test_random_problems_are_valid_and_repeatable():
    activations = [Activation("relu"), Activation("softmax")]
    a = random_problem([4, 6, 3], activations, "cross_entropy", True, seed=9)
    b = random_problem([4, 6, 3], activations, "cross_entropy", True, seed=9)
    assert a.to_dict() == b.to_dict()
    assert a.target.sum() == 1.0 and np.all(np.round(a.weights[0], 2) == a.weights[0])


def test_a_new_architecture_of_the_same_shape_keeps_the_place():
    lecture = Lecture([preset("seed")], step=5)
    problem, notice = with_architecture(lecture.problem, biases=True)
    lecture.change_architecture(problem, notice)
    assert (lecture.step, lecture.rev, lecture.notice) == (5, 1, notice)
    problem, notice = with_architecture(lecture.problem, layers=[3, 3, 2])
    lecture.change_architecture(problem, notice)
    assert (lecture.step, lecture.rev) == (0, 2)


def test_an_edit_in_a_later_iteration_survives_going_back_and_forth():
    seed = preset("seed")
    lecture = Lecture([seed], step=N - 1)
    lecture.next(N, iterate(seed).updated)
    edited = with_values(lecture.problem, "learning_rate", np.array([[0.5]]), np.array([["η"]]))
    lecture.edit(edited)
    lecture.prev(N)
    lecture.next(N, iterate(seed).updated)  # back into iteration 2: the edited one, not a new one
    assert lecture.problem is edited and lecture.iteration == 1


def test_a_training_run_is_one_more_entry_in_the_history_and_counts_its_updates():
    seed = preset("seed")
    lecture = Lecture([seed], step=5)
    trained = iterate(iterate(seed).updated).updated
    lecture.trained(trained, 1000, "Applied")
    assert lecture.problem is trained and (lecture.step, lecture.rev) == (0, 1)
    assert lecture.number == 1001 and lecture.notice == "Applied"
    lecture.step = N - 1
    lecture.next(N, iterate(trained).updated)
    assert lecture.number == 1002
    lecture.prev(N)
    lecture.step = 0
    lecture.prev(N)
    assert lecture.problem is seed and lecture.number == 1 and lecture.step == N - 1
    lecture.trained(trained, 5)  # from before the run again: the old run is forgotten
    assert lecture.history == [seed, trained] and lecture.number == 6


def test_an_opened_file_starts_the_lecture_and_a_bad_one_changes_nothing():
    seed = preset("seed")
    lecture = Lecture([seed], step=3)
    lecture.open("truncated.json", seed.to_json()[:-20].encode())
    assert lecture.refusal == (
        "truncated.json was not opened: the JSON ends early (line 25); the file looks "
        "truncated. The network on screen is unchanged."
    )
    assert lecture.problem is seed and lecture.step == 3
    lecture.open(
        "nan.json", seed.to_json().replace('"learning_rate": 0.1', '"learning_rate": NaN').encode()
    )
    assert "nan.json was not opened: learning_rate" in lecture.refusal
    tutorial = preset("tutorial")
    lecture.open("tutorial.json", tutorial.to_json().encode())
    assert lecture.problem.to_dict() == tutorial.to_dict() and lecture.step == 0
    assert lecture.notice == "Opened tutorial.json."


def _seed_text(old: str = "", new: str = "") -> bytes:
    return preset("seed").to_json().replace(old, new, 1).encode()


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "the file is empty; expected a JSON problem"),
        (b"weights: [[1, 2]]", "not valid JSON at line 1, column 1: Expecting value"),
        (b"\xff\xfe{}", "the file is not UTF-8 text; expected a JSON problem"),
        (
            _seed_text('"weights": [\n    [', '"weights": [\n    [[0.0, 0.0, 0.0], '),
            "weights[0] has shape (5, 3); layers [3, 4, 2] need (4, 3)",
        ),
        (b" " * 1_000_001, "the file is over 1.0 MB; a problem file may be at most 1 MB"),
        (_seed_text('"learning_rate": 0.1', '"learning_rate": Infinity'), "learning_rate"),
        (
            _seed_text('"learning_rate": 0.1', '"learning_rate": 1e308'),
            "η (learning_rate) = 1e+308 is out of range",
        ),
    ],
)
def test_every_bad_problem_file_is_refused_with_its_reason(data, reason):
    seed = preset("seed")
    lecture = Lecture([seed], step=2)
    lecture.open("f.json", data)
    assert lecture.refusal.startswith(f"f.json was not opened: {reason}")
    assert lecture.refusal.endswith(". The network on screen is unchanged.")
    assert lecture.problem is seed and lecture.step == 2 and lecture.rev == 0


def test_a_new_iteration_renews_the_editors_and_forgets_their_bad_cell():
    seed = preset("seed")
    lecture = Lecture([seed], step=N - 1)
    lecture.edit_error = "x_2 is empty or not a number; expected a number"
    lecture.next(N, iterate(seed).updated)
    assert (lecture.rev, lecture.edit_error) == (1, None)
    lecture.edit_error = "x_2 is empty or not a number; expected a number"
    lecture.prev(N)  # within no iteration: back across the update, new editors again
    assert (lecture.rev, lecture.edit_error) == (2, None)
    lecture.edit_error = "still in its grid"
    lecture.prev(N)  # within the iteration: the same editors, the same bad cell
    assert (lecture.rev, lecture.edit_error) == (2, "still in its grid")


def hidden(problem: Problem, name: str) -> Problem:
    """The problem with another hidden activation, as the sidebar changes it."""
    return with_architecture(problem, activations=[Activation(name), problem.activations[-1]])[0]


def test_a_move_between_iterations_renews_only_the_editors_of_what_changed():
    seed = preset("seed")
    lecture = Lecture([seed], step=N - 1)
    lecture.next(N, iterate(seed).updated)
    assert lecture.revs == (1, 0, 0)  # new weights; the same x, o*, η and network
    lecture.trained(iterate(lecture.problem).updated, 10)
    assert lecture.revs == (2, 0, 0)
    eta = np.array([["η"]])
    lecture.edit(with_values(lecture.problem, "learning_rate", np.array([[0.5]]), eta))
    lecture.prev(N)
    assert lecture.revs == (3, 1, 0)  # back to η = 0.1
    lecture.edit(hidden(lecture.problem, "sigmoid"))
    lecture.step = N - 1
    lecture.next(N, iterate(lecture.problem).updated)
    assert lecture.revs == (4, 1, 0)  # the edit made iteration 2 anew, from sigmoid's update
    lecture.edit(hidden(lecture.problem, "elu"))
    lecture.prev(N)
    assert lecture.revs == (5, 1, 1)  # back to the sigmoid layer
    lecture.edit_error = "x_2 is empty or not a number; expected a number"
    lecture.step = N - 1
    lecture.next(N, iterate(lecture.problem).updated)
    assert lecture.revs == (6, 2, 2)  # a bad cell: every grid anew; iteration 2 is ELU again
    lecture.step = N - 1
    lecture.next(N, iterate(lecture.problem).updated)
    assert lecture.revs == (7, 2, 2)
    lecture.start(seed)
    assert lecture.revs == (8, 3, 3)


def test_each_opened_file_empties_the_upload_box_refused_or_not():
    lecture = Lecture([preset("seed")])
    lecture.open("bad.json", b"{")
    lecture.open("seed.json", preset("seed").to_json().encode())
    assert lecture.uploads == 2 and lecture.notice == "Opened seed.json."


def test_a_typed_sheet_follows_the_lecture_and_a_loaded_one_stays_until_cleared():
    from nnviz.teaching.grading import read_answers
    from nnviz.ui.state import Marking

    seed, tutorial = preset("seed"), preset("tutorial")
    marking = Marking()
    typed = marking.sheet_for(seed)
    assert typed.problem is seed and marking.sheet_for(seed) is typed
    assert marking.sheet_for(tutorial).problem is tutorial  # the lecture moved on: a new sheet
    loaded = read_answers(b'{"answers": {"u": [2, -1.5, 4.7, 0.2]}}')
    marking.load(loaded, "Loaded mine.json.")
    assert (marking.rev, marking.message, marking.loaded) == (1, "Loaded mine.json.", True)
    assert marking.sheet_for(tutorial) is loaded  # whatever the lecture shows
    marking.clear()
    assert marking.rev == 2 and marking.sheet_for(tutorial).problem is tutorial


def test_the_problem_as_set_stays_through_steps_edits_and_training_until_a_new_one():
    seed = preset("seed")
    lecture = Lecture([seed], step=N - 1)
    lecture.next(N, iterate(seed).updated)
    lecture.edit(with_values(lecture.problem, "learning_rate", np.array([[0.5]]), ["η"]))
    lecture.trained(iterate(lecture.problem).updated, 100)
    assert lecture.loaded is seed and lecture.loaded_number == 1 and lecture.number == 102
    other, _ = with_architecture(seed, biases=True)
    lecture.change_architecture(other)
    assert lecture.loaded is lecture.problem and lecture.loaded_number == 102
    lecture.start(preset("tutorial"))
    assert lecture.loaded is lecture.problem and lecture.loaded_number == 1
    linked = Lecture([seed], updates=[41])  # a link to iteration 42
    assert linked.loaded is seed and linked.loaded_number == 42


def test_reset_returns_to_step_1_of_the_problem_as_set_not_the_seed():
    tutorial = preset("tutorial")
    lecture = Lecture([tutorial], step=3, updates=[41])  # a link to iteration 42, step 4
    lecture.edit(with_values(tutorial, "learning_rate", np.array([[0.5]]), ["η"]))
    lecture.next(N, iterate(lecture.problem).updated)
    lecture.reset()
    assert lecture.problem is tutorial and (lecture.step, lecture.number) == (0, 42)
    assert lecture.history == [tutorial] and lecture.loaded_number == 42
    lecture.open("mine.json", preset("seed").to_json().encode())
    opened = lecture.problem
    lecture.next(N)
    lecture.reset()
    assert lecture.problem is opened and (lecture.step, lecture.number) == (0, 1)
