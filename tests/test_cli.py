"""python -m nnviz solve, as a user at a terminal and a script would run it."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nnviz.engine import step
from nnviz.problem import Problem, preset

ROOT = Path(__file__).resolve().parent.parent


def nnviz(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "nnviz", *args], cwd=cwd, capture_output=True, text=True, timeout=60
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
    p = step(preset("seed"))
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
    p = step(preset("seed"))
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
    p = step(preset("tutorial"))
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
    p = step(Problem.from_dict(problem))
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
        (["train"], "invalid choice: 'train'"),
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
