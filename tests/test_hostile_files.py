"""Files built to break the reader: repeated keys, deep nesting, huge text to quote, silent
pipes and numbers at the edge of a double. Each is refused with one short line that names the
key, or marked without a sound, and never hangs, through the library and the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nnviz.core import problem as problem_module
from nnviz.core.problem import Problem, ProblemError, load, preset
from nnviz.teaching.grading import AnswerError, mark, read_answers

ROOT = Path(__file__).resolve().parent.parent
SEED = json.loads((ROOT / "examples" / "seed-problem.json").read_text())
SHORT = 300  # characters: a message quotes at most a clipped value


def nnviz(*args, timeout=60, warnings_are_errors=False) -> subprocess.CompletedProcess:
    flags = ["-W", "error"] if warnings_are_errors else []
    return subprocess.run(
        [sys.executable, *flags, "-m", "nnviz", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def one_line_refusal(run: subprocess.CompletedProcess, *fragments: str) -> str:
    assert run.returncode == 2, run.stderr
    assert run.stdout == "" and run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    for fragment in fragments:
        assert fragment in run.stderr, run.stderr
    return run.stderr


# --- a key given twice ------------------------------------------------------------------------


def seed_text_with(duplicate: str, where: str = '"learning_rate": 0.1') -> str:
    text = (ROOT / "examples" / "seed-problem.json").read_text()
    assert where in text
    return text.replace(where, f"{duplicate}, {where}")


@pytest.mark.parametrize(
    "text, key",
    [
        (seed_text_with('"learning_rate": 500000'), "learning_rate"),
        (seed_text_with('"x": [0, 0, 0]'), "x"),
        (seed_text_with('"title": "one"', '"title": "Problem 1'), "title"),
    ],
    ids=["learning_rate", "x", "title"],
)
def test_a_key_given_twice_is_refused_by_name(text, key, tmp_path):
    message = f'the key "{key}" is given twice; each key may appear once'
    with pytest.raises(ProblemError, match=message):
        Problem.from_json(text)
    path = tmp_path / "twice.json"
    path.write_text(text)
    one_line_refusal(nnviz("solve", path), message)


def test_a_key_twice_inside_an_activation_or_a_sheet_is_refused():
    text = json.dumps(SEED).replace('"elu"', '{"name": "elu", "alpha": 1, "alpha": 50}')
    with pytest.raises(ProblemError, match='the key "alpha" is given twice'):
        Problem.from_json(text)
    with pytest.raises(AnswerError, match='the key "L" is given twice'):
        read_answers('{"answers": {"L": 0.3095, "L": 0.5}}')


def test_the_same_value_twice_is_refused_too():
    """Even an agreeing repeat is refused: which one counts must never be a guess."""
    with pytest.raises(ProblemError, match='"learning_rate" is given twice'):
        Problem.from_json(seed_text_with('"learning_rate": 0.1'))


# --- deep nesting -----------------------------------------------------------------------------


def test_nesting_3000_deep_names_the_key():
    text = json.dumps(SEED).replace("[1.0, 1.5, -0.5]", "[" * 3000 + "]" * 3000)
    with pytest.raises(ProblemError) as caught:
        Problem.from_json(text)
    assert str(caught.value) == (
        "the JSON is nested too deeply to be a problem, at x[0][0][0][0][0][0][0]…"
    )


def test_nesting_in_an_answer_sheet_names_the_key_and_the_sheet(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"answers": {"u": [1, ' + "[" * 3000 + "]" * 3000 + "]}}")
    run = nnviz("check", path)
    one_line_refusal(run, "the JSON is nested too deeply to be an answer sheet, at answers.u[1][0]")


def test_nesting_under_a_long_or_odd_key_is_quoted_short():
    key = "k" * 500 + '\\"[x](https://evil.example)'
    with pytest.raises(ProblemError) as caught:
        Problem.from_json('{"' + key + '": ' + "[" * 5000 + "]" * 5000 + "}")
    message = str(caught.value)
    assert len(message) < SHORT and message.startswith(
        'the JSON is nested too deeply to be a problem, at "kkkk'
    )


# --- long text quoted in messages -------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["format", "loss", "layers", "activations", "z" * 500_000],
    ids=["format", "loss", "layers", "activations", "a-long-key"],
)
def test_a_long_value_is_quoted_clipped(key, tmp_path):
    data = dict(SEED)
    data[key] = "z" * 500_000 if len(key) < 100 else 1
    path = tmp_path / "long.json"
    path.write_text(json.dumps(data))
    stderr = one_line_refusal(nnviz("solve", path))
    assert len(stderr) < SHORT + len(str(path)), stderr[:SHORT]
    assert '"zzzzzzzzzzzzzzzzzzzz…"' in stderr


@pytest.mark.parametrize(
    "sheet",
    [
        {"format": "f" * 500_000, "answers": {}},
        {"answers": {"s" * 500_000: 1}},
        {"x" * 500_000: 1, "answers": {}},
        {"answers": {}, "problem": {**SEED, "title": 7, "t" * 400_000: 1}},
    ],
    ids=["format", "symbol", "key", "problem-key"],
)
def test_a_long_value_in_a_sheet_is_quoted_clipped(sheet, tmp_path):
    path = tmp_path / "sheet.json"
    path.write_text(json.dumps(sheet))
    stderr = one_line_refusal(nnviz("check", path))
    assert len(stderr) < 2_000 + len(str(path)), stderr[:SHORT]  # the valid names are listed


# --- pipes that never write -------------------------------------------------------------------


@pytest.fixture
def silent_pipe(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs named pipes")
    path = tmp_path / "silent.json"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("command", [["solve"], ["check"], ["train", "--iterations", "1"]])
def test_a_pipe_nobody_writes_to_is_given_up_within_seconds(command, silent_pipe):
    args = [command[0], silent_pipe, *command[1:]]
    start = time.monotonic()
    run = nnviz(*args, timeout=30)
    took = time.monotonic() - start
    one_line_refusal(run, f"nothing came from the pipe for {problem_module.STREAM_TIMEOUT:g} s")
    assert took < problem_module.STREAM_TIMEOUT + 10


def test_a_pipe_that_writes_slowly_is_read_whole(silent_pipe, monkeypatch):
    """A generator that takes its time, within the timeout between pieces, is waited for."""
    monkeypatch.setattr(problem_module, "STREAM_TIMEOUT", 2.0)
    text = (ROOT / "examples" / "seed-problem.json").read_bytes()

    def writer():
        fd = os.open(silent_pipe, os.O_WRONLY)
        try:
            for k in range(0, len(text), 200):
                os.write(fd, text[k : k + 200])
                time.sleep(0.05)
        finally:
            os.close(fd)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    assert load(silent_pipe).to_dict() == preset("seed").to_dict()
    thread.join(timeout=10)


def test_a_folder_is_refused_with_its_name(tmp_path):
    one_line_refusal(nnviz("solve", tmp_path), "is a folder")


# --- numbers at the edge of a double ----------------------------------------------------------


@pytest.mark.parametrize(
    "answers, options",
    [
        ({"L": 1e308, "u": [-1e308, 1e308, -1e308, 1e308]}, []),
        ({"L": -1e308, "dL/dw": [[1e308] * 4, [-1e308] * 4]}, []),
        ({"L": 1e308}, ["--atol", "1e308"]),
        ({"u": [1e308, 2, 3, 4]}, ["--rtol", "1e308"]),
        ({"o": [1e308, -1e308], "L": None, "dL/dz": [1e308, 1e308]}, []),
    ],
    ids=["huge-both-signs", "huge-gradients", "huge-atol", "huge-rtol", "huge-outputs"],
)
def test_answers_at_the_edge_of_a_double_are_marked_silently(answers, options, tmp_path):
    path = tmp_path / "edge.json"
    path.write_text(json.dumps({"answers": answers}))
    for fmt in ("text", "json"):
        run = nnviz("check", path, *options, "--format", fmt, warnings_are_errors=True)
        assert run.returncode == 0 and run.stderr == "", run.stderr
    marks = {i["status"] for i in json.loads(run.stdout)["items"]}
    huge_tolerance = bool(options)
    assert marks == {"correct"} if huge_tolerance else "wrong" in marks and "correct" not in marks


def test_marking_at_the_edge_raises_no_warning():
    import warnings

    sheet = read_answers(json.dumps({"answers": {"L": 1e308, "o": [-1e308, 1e308]}}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = mark(sheet, atol=1e308, rtol=1e308)
    assert {i.status for i in report.items} == {"correct"}
