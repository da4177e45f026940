"""python -m nnviz solve, as a user at a terminal and a script would run it."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nnviz.core.engine import iterate
from nnviz.core.problem import Problem, preset
from nnviz.core.training import train

ROOT = Path(__file__).resolve().parent.parent


def nnviz(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "nnviz", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def strict_json(text):
    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def rows(text):
    """The text table as {label: [numbers, row after row]}."""
    table, label = {}, None
    for line in text.splitlines():
        m = re.match(r"^  (\S+)\s+=\s+(.*)$", line)
        if m:
            label = m.group(1)
            table[label] = [float(v) for v in m.group(2).split()]
        elif label and re.match(r"^\s+[-\d.]", line):
            table[label] += [float(v) for v in line.split()]
        else:
            label = None
    return table


def test_solve_prints_the_seed_by_default():
    run = nnviz("solve")
    assert run.returncode == 0 and run.stderr == ""
    table = rows(run.stdout)
    p = iterate(preset("seed"))
    assert run.stdout.startswith("Problem 1: 3-4-2, ELU hidden layer, softmax output\n")
    assert table["h"] == [2.0, -0.77687, 4.7, 0.2]
    assert table["L"] == [0.309548]
    expected = {
        "u": p.forward.pre[0],
        "z": p.forward.pre[1],
        "o": p.forward.post[1],
        "dL/dz": p.backward.grad_pre[1],
        "dL/dw": p.backward.grad_weights[1],
        "dL/dh": p.backward.grad_post[0],
        "dL/du": p.backward.grad_pre[0],
        "dL/dv": p.backward.grad_weights[0],
        "w_new": p.updated.weights[1],
        "v_new": p.updated.weights[0],
    }
    for label, value in expected.items():
        np.testing.assert_allclose(table[label], value.ravel(), atol=5e-7, err_msg=label)
    order = [line.strip() for line in run.stdout.splitlines() if line and line[0] != " "]
    assert order[2:] == [
        "Given",
        "Forward pass",
        "Loss",
        "Backward pass",
        "Update (learning rate 0.1)",
    ]


def test_solve_json_is_the_solution_format_at_full_precision():
    run = nnviz("solve", "--format", "json")
    assert run.returncode == 0
    solution = strict_json(run.stdout)
    p = iterate(preset("seed"))
    assert solution["format"] == "nnviz-solution/1"
    assert solution["problem"] == preset("seed").to_dict()
    assert solution["problem"]["biases"] is None and solution["problem"]["title"]
    assert solution["loss"] == p.forward.loss  # bit for bit: repr round-trips a double
    assert solution["output"] == p.forward.post[1].tolist()
    assert [sorted(layer) for layer in solution["layers"]] == [
        sorted(["pre", "post", "grad_post", "grad_pre", "grad_weights", "weights_new"])
    ] * 2
    seed = solution["layers"]
    assert seed[0]["pre"] == p.forward.pre[0].tolist()
    assert seed[1]["grad_pre"] == p.backward.grad_pre[1].tolist()
    assert seed[0]["grad_weights"] == p.backward.grad_weights[0].tolist()
    assert seed[1]["weights_new"] == p.updated.weights[1].tolist()
    assert seed[0]["post"][1] == pytest.approx(-0.7768698398515702, abs=1e-16)


def test_solve_json_with_biases_writes_their_gradients():
    run = nnviz("solve", "examples/tutorial-2-2-2.json", "--format", "json")
    solution = strict_json(run.stdout)
    p = iterate(preset("tutorial"))
    layer = solution["layers"][1]
    assert layer["grad_biases"] == p.backward.grad_biases[1].tolist()
    assert layer["biases_new"] == p.updated.biases[1].tolist()
    assert Problem.from_dict(solution["problem"]).to_dict() == solution["problem"]


def test_a_deep_network_uses_the_generic_names(tmp_path):
    problem = {
        "layers": [2, 3, 3, 1],
        "activations": ["tanh", "relu", "sigmoid"],
        "loss": "binary_cross_entropy",
        "x": [0.5, -1],
        "target": [1],
        "weights": [[[0.1, 0.2]] * 3, [[0.3, -0.1, 0.2]] * 3, [[0.5, 0.5, -0.5]]],
        "biases": [[0, 0, 0], [0.1, 0.1, 0.1], [0]],
        "learning_rate": 0.5,
    }
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(problem))
    table = rows(nnviz("solve", str(path)).stdout)
    for name in ["W1", "b1", "u1", "h1", "u3", "h3", "dL/dh3", "dL/dW1", "dL/db2", "W3_new"]:
        assert name in table
    p = iterate(Problem.from_dict(problem))
    np.testing.assert_allclose(table["h3"], p.forward.post[2], atol=5e-7)


def test_the_command_line_imports_no_ui():
    code = (
        "import runpy, sys\n"
        "sys.argv = ['nnviz', 'solve', '--format', 'json']\n"
        "try:\n    runpy.run_module('nnviz', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print([m for m in ('streamlit', 'plotly', 'pandas') if m in sys.modules],"
        " file=sys.stderr)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.stderr.strip() == "[]"
    assert strict_json(run.stdout)["format"] == "nnviz-solution/1"


@pytest.mark.parametrize(
    "args, message",
    [
        (["solve", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
        ([], "the following arguments are required: command"),
        (["teach"], "invalid choice: 'teach'"),
        (["train"], "the following arguments are required: --iterations"),
        (["solve", "a.json", "b.json"], "unrecognized arguments: b.json"),
    ],
)
def test_usage_errors_are_one_line(args, message):
    run = nnviz(*args)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("nnviz: ")
    assert message in run.stderr and "Traceback" not in run.stderr


def test_help_lists_the_command():
    run = nnviz("--help")
    assert run.returncode == 0 and "solve" in run.stdout


def shell(script, **env):
    return subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_output_nobody_reads_is_no_error():
    """A reader that leaves at once, as `head` may: nnviz exits quietly, with status 0."""
    run = shell(f"{sys.executable} -m nnviz solve --format json | true; echo ${{PIPESTATUS[0]}}")
    assert run.stdout == "0\n"
    assert run.stderr == ""


@pytest.mark.parametrize(
    "redirect, message",
    [
        (">&-", "nnviz: cannot write the output: standard output is closed"),
        (">/dev/full", "nnviz: cannot write the output: No space left on device"),
    ],
)
def test_output_that_cannot_be_written_is_one_line(redirect, message):
    run = shell(f"{sys.executable} -m nnviz solve {redirect}")
    assert run.returncode == 1
    assert run.stderr == message + "\n"


def test_a_title_beyond_ascii_is_written_whatever_the_locale(tmp_path):
    problem = {**preset("seed").to_dict(), "title": "Problème 1 — η"}
    path = tmp_path / "accents.json"
    path.write_text(json.dumps(problem, ensure_ascii=False), encoding="utf-8")
    for fmt in ("text", "json"):
        run = subprocess.run(
            [sys.executable, "-m", "nnviz", "solve", str(path), "--format", fmt],
            cwd=ROOT,
            capture_output=True,
            timeout=60,
            env={**os.environ, "PYTHONIOENCODING": "ascii", "LC_ALL": "C"},
        )
        assert run.returncode == 0 and run.stderr == b""
        assert "Problème 1 — η" in run.stdout.decode("utf-8")


def test_a_path_with_a_newline_stays_on_one_line():
    run = nnviz("solve", "a\nb.json")
    assert run.returncode == 2
    assert run.stderr == "nnviz: 'a\\nb.json': cannot read the file: No such file or directory\n"


# --- train -------------------------------------------------------------------------------------


def test_train_json_is_the_training_format_at_full_precision():
    run = nnviz("train", "--iterations", "1000", "--stop-below", "0.01", "--format", "json")
    assert run.returncode == 0 and run.stderr == ""
    written = strict_json(run.stdout)
    assert written == train(preset("seed"), 1000, 0.01).to_dict()
    assert list(written) == ["format", "iterations_run", "stopped", "loss", "final_loss", "problem"]
    assert written["format"] == "nnviz-training/1"
    assert (written["iterations_run"], written["stopped"], len(written["loss"])) == (
        15,
        "threshold",
        15,
    )
    assert written["loss"][0] == iterate(preset("seed")).forward.loss
    assert written["final_loss"] < 0.01 <= written["loss"][-1]


def test_train_json_with_biases_round_trips_its_problem():
    run = nnviz("train", "examples/tutorial-2-2-2.json", "--iterations", "50", "--format", "json")
    written = strict_json(run.stdout)
    expected = train(preset("tutorial"), 50)
    assert written["stopped"] == "completed" and written["loss"] == expected.loss.tolist()
    again = Problem.from_dict(written["problem"])
    assert again.to_dict() == written["problem"] == expected.final.to_dict()
    assert [b.tolist() for b in again.biases] == [b.tolist() for b in expected.final.biases]


def test_train_text_is_a_summary_for_people():
    run = nnviz("train", "--iterations", "1000", "--stop-below", "0.01")
    assert run.returncode == 0 and run.stderr == ""
    lines = run.stdout.splitlines()
    for line in [
        "Problem 1: 3-4-2, ELU hidden layer, softmax output",
        "learning rate 0.1",
        "iterations run: 15",
        "stopped: threshold. The loss fell below 0.01 after 15 iterations: L = 0.00996011.",
        "loss at the start: 0.309548",
        "final loss: 0.00996011",
        "Loss before the update of iteration",
        "   1  0.309548",
        "Final weights",
    ]:
        assert line in lines, line
    expected = train(preset("seed"), 1000, 0.01)
    assert f"  10  {expected.loss[9]:.6g}" in lines and f"  15  {expected.loss[14]:.6g}" in lines
    table = rows(run.stdout)
    np.testing.assert_allclose(table["v"], expected.final.weights[0].ravel(), atol=5e-7)
    np.testing.assert_allclose(table["w"], expected.final.weights[1].ravel(), atol=5e-7)


def test_train_text_shows_the_loss_at_each_power_of_ten():
    run = nnviz("train", "--iterations", "2500")
    expected = train(preset("seed"), 2500)
    lines = run.stdout.splitlines()
    assert "stopped: completed" in lines
    start = lines.index("Loss before the update of iteration")
    shown = lines[start + 1 : start + 6]
    assert [int(line.split()[0]) for line in shown] == [1, 10, 100, 1000, 2500]
    assert [float(line.split()[1]) for line in shown] == pytest.approx(
        expected.loss[[0, 9, 99, 999, 2499]], rel=1e-5
    )
    assert lines[start + 6] == ""


def test_train_says_where_a_run_diverged(tmp_path):
    problem = preset("seed").to_dict()
    problem.update(activations=["elu", "identity"], loss="squared_error", learning_rate=50)
    path = tmp_path / "linear.json"
    path.write_text(json.dumps(problem))
    run = nnviz("train", str(path), "--iterations", "100")
    assert run.returncode == 0 and run.stderr == ""  # a result, not bad input
    assert "iterations run: 2" in run.stdout.splitlines()
    assert "stopped: diverged. The run diverged at iteration 3: after its update w_13" in run.stdout
    written = strict_json(
        nnviz("train", str(path), "--iterations", "100", "--format", "json").stdout
    )
    assert written["stopped"] == "diverged" and len(written["loss"]) == 2
    assert Problem.from_dict(written["problem"]).to_dict() == written["problem"]


WHOLE = "argument --iterations: expected a whole number from 1 to 100000, not"
FINITE = "argument --stop-below: expected a finite number, not"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--iterations", "0"], f"{WHOLE} '0'"),
        (["--iterations", "-1"], f"{WHOLE} '-1'"),
        (["--iterations", "100001"], f"{WHOLE} '100001'"),
        (["--iterations", "abc"], f"{WHOLE} 'abc'"),
        (["--iterations", "2.5"], f"{WHOLE} '2.5'"),
        (["--iterations", "5", "--stop-below", "nan"], f"{FINITE} 'nan'"),
        (["--iterations", "5", "--stop-below", "inf"], f"{FINITE} 'inf'"),
        (["--iterations", "5", "--stop-below", "1e400"], f"{FINITE} '1e400'"),
        (["--iterations", "5", "--stop-below", "x"], f"{FINITE} 'x'"),
        (
            ["--iterations", "5", "--format", "markdown"],
            "argument --format: invalid choice: 'markdown'",
        ),
        (["missing.json", "--iterations", "5"], "missing.json: cannot read the file: No such file"),
    ],
)
def test_train_refuses_bad_options_in_one_line(args, message):
    run = nnviz("train", *args)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("nnviz: ")
    assert message in run.stderr and "Traceback" not in run.stderr


def test_help_lists_train_and_its_options():
    assert "train" in nnviz("--help").stdout
    run = nnviz("train", "--help")
    assert run.returncode == 0
    for option in ("--iterations N", "--stop-below T", "--format {json,text}", "PROBLEM.json"):
        assert option in run.stdout
