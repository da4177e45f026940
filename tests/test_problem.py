"""The problem format (shared spec, section 1) and how bad problem files are refused.

Every rule of the format has a bad file in `CASES`, made from a copy of the seed problem. Each
bad file is fed to the library (`load`, `Problem.from_json`, and `Problem.from_dict` when the
file is a plain dict) and to the command line (`python -m nnviz solve FILE`, spec section 7):
the library must raise one `ProblemError` whose one-line message names the key and index and
what was expected; the command line must exit 2 with that message on one line of standard
error, nothing on standard output and never a traceback.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnviz.core.problem import (
    FORMAT,
    LIMIT,
    MAX_BYTES,
    MAX_LAYERS,
    MAX_NEURONS,
    MAX_TITLE,
    TARGET_SUM_TOLERANCE,
    Problem,
    ProblemError,
    load,
    preset,
)

REPO = Path(__file__).resolve().parent.parent
SEED_PATH = REPO / "examples" / "seed-problem.json"
TUTORIAL_PATH = REPO / "examples" / "tutorial-2-2-2.json"
SEED_BYTES = SEED_PATH.read_bytes()
KEYS = (
    "format",
    "title",
    "layers",
    "activations",
    "loss",
    "x",
    "target",
    "weights",
    "biases",
    "learning_rate",
)
REQUIRED = ("layers", "activations", "loss", "x", "target", "weights", "learning_rate")
LOSS_NAMES = ("cross_entropy", "binary_cross_entropy", "squared_error")
SEED_SHAPE = "layers [3, 4, 2]"


def seed() -> dict:
    """A fresh copy of the seed problem, as its file says it."""
    return json.loads(SEED_BYTES)


def tutorial() -> dict:
    return json.loads(TUTORIAL_PATH.read_bytes())


def seed_with_biases() -> dict:
    """The seed problem with biases (values from the tutorial's), so that biases can be broken."""
    d = seed()
    d["biases"] = [[0.35] * 4, [0.60] * 2]
    return d


def put(data, where: tuple, value) -> None:
    for key in where[:-1]:
        data = data[key]
    data[where[-1]] = value


def bits(value):
    """The value with each float replaced by its exact bits and each type made visible, so that
    `==` compares bit for bit (and tells 1 from 1.0, 0.0 from -0.0)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        return ("float", value.hex())
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, list):
        return [bits(v) for v in value]
    if isinstance(value, dict):
        return {k: bits(v) for k, v in value.items()}
    raise AssertionError(f"unexpected {type(value).__name__} in a problem dict: {value!r}")


def floats(value):
    """Numbers as the normalised problem writes them: every number a float."""
    if isinstance(value, list):
        return [floats(v) for v in value]
    return float(value)


def check_message(message: str, expected: tuple[str, ...]) -> None:
    assert message, "empty message"
    assert "\n" not in message and "\r" not in message, f"more than one line: {message!r}"
    assert message == message.strip(), repr(message)
    assert "Traceback" not in message
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in {message!r}"


# --- the bad files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    data: bytes | None  # the file; None for a missing file or a directory
    expected: tuple[str, ...]  # fragments the message must contain
    value: object = None  # the same problem as a Python dict, for from_dict
    kind: str = "file"  # file, missing or directory
    cli: bool = True  # also run through the command line

    def materialise(self, folder: Path) -> Path:
        path = folder / f"{self.id}.json"
        if self.kind == "directory":
            path.mkdir()
        elif self.kind == "file":
            path.write_bytes(self.data)
        return path


def bad(id: str, mutate, *expected: str, base=seed, cli: bool = True) -> Case:
    """A copy of the seed problem, changed by `mutate`."""
    data = base()
    mutate(data)
    return Case(id, json.dumps(data).encode(), expected, value=data, cli=cli)


def bad_literal(id: str, where: tuple, literal: str, *expected: str, base=seed, cli=True) -> Case:
    """A copy of the seed problem with the JSON text `literal` written at `where`: NaN, 1e400
    and friends, which a Python dict cannot hold as written."""
    data = base()
    marker = "\x00literal\x00"
    put(data, where, marker)
    text = json.dumps(data).replace(json.dumps(marker), literal)
    assert literal in text
    return Case(id, text.encode(), expected, cli=cli)


def raw(id: str, data: bytes, *expected: str, cli: bool = True) -> Case:
    return Case(id, data, expected, cli=cli)


def _set(key, value):
    return lambda d: d.__setitem__(key, value)


def _delete(key):
    return lambda d: d.__delitem__(key)


def _put(where, value):
    return lambda d: put(d, where, value)


def _drop_last_column(matrix):
    return [row[:-1] for row in matrix]


def _transpose(matrix):
    return [list(column) for column in zip(*matrix)]


KEY_CASES = [
    bad("unknown_key", _set("colour", "red"), "unknown key", '"colour"', "learning_rate"),
    bad("unknown_key_typo", _set("learningrate", 0.1), '"learningrate"', "unknown key"),
    *(bad(f"missing_{key}", _delete(key), f"'{key}'", "missing") for key in REQUIRED),
    bad(
        "format_wrong_tag",
        _set("format", "nnviz-problem/2"),
        "format",
        "nnviz-problem/2",
        f'expected "{FORMAT}"',
    ),
    bad(
        "format_other_format",
        _set("format", "nnviz-solution/1"),
        "this is a solution, not a problem",
        "open the problem it was solved from",
    ),
    bad("format_unknown", _set("format", "nnviz-problem/2"), "format", f'"{FORMAT}"'),
    bad("format_number", _set("format", 1), "format is 1", f'"{FORMAT}"'),
    bad("title_number", _set("title", 1), "title is 1", "expected text"),
    bad("title_list", _set("title", ["Problem 1"]), "title is a list", "expected text"),
    bad(
        "title_too_long",
        _set("title", "x" * (MAX_TITLE + 1)),
        "title",
        f"{MAX_TITLE + 1} characters",
        f"at most {MAX_TITLE}",
    ),
]

LAYER_CASES = [
    bad("layers_not_a_list", _set("layers", "3-4-2"), "layers", '"3-4-2"', f"2 to {MAX_LAYERS}"),
    bad("layers_object", _set("layers", {"input": 3}), "layers is an object", f"2 to {MAX_LAYERS}"),
    bad("layers_one_entry", _set("layers", [3]), "layers", "a list of 1", f"2 to {MAX_LAYERS}"),
    bad("layers_empty", _set("layers", []), "layers", "a list of 0", f"2 to {MAX_LAYERS}"),
    bad(
        "layers_too_many",
        _set("layers", [3] * (MAX_LAYERS + 1)),
        "layers",
        f"a list of {MAX_LAYERS + 1}",
        f"2 to {MAX_LAYERS}",
    ),
    bad("layers_entry_0", _put(("layers", 1), 0), "layers[1] is 0", f"1 to {MAX_NEURONS}"),
    bad(
        "layers_entry_too_big",
        _put(("layers", 1), MAX_NEURONS + 1),
        f"layers[1] is {MAX_NEURONS + 1}",
        f"1 to {MAX_NEURONS}",
    ),
    bad("layers_entry_negative", _put(("layers", 0), -3), "layers[0] is -3", "whole number"),
    bad("layers_entry_float", _put(("layers", 1), 3.5), "layers[1] is 3.5", "whole number"),
    bad("layers_entry_bool", _put(("layers", 1), True), "layers[1] is true", "whole number"),
    bad("layers_entry_string", _put(("layers", 2), "2"), 'layers[2] is "2"', "whole number"),
    bad("layers_entry_null", _put(("layers", 0), None), "layers[0] is null", "whole number"),
    bad_literal("layers_entry_1e400", ("layers", 1), "1e400", "layers[1]", "whole number"),
    bad_literal(
        "layers_entry_5000_digits", ("layers", 1), "1" + "0" * 4999, "layers[1]", "whole number"
    ),
]

ACTIVATION_CASES = [
    bad(
        "activations_too_few",
        _set("activations", ["softmax"]),
        "activations",
        "a list of 1",
        f"{SEED_SHAPE} need 2",
    ),
    bad(
        "activations_too_many",
        _set("activations", ["elu", "elu", "softmax"]),
        "activations",
        "a list of 3",
        f"{SEED_SHAPE} need 2",
    ),
    bad("activations_not_a_list", _set("activations", "elu"), "activations", '"elu"', "need 2"),
    bad(
        "activation_unknown_name",
        _put(("activations", 0), "gelu"),
        'activations[0] is "gelu"',
        "expected one of",
        "elu",
        "leaky_relu",
        "identity",
    ),
    bad(
        "activation_unknown_name_in_object",
        _put(("activations", 0, "name"), "selu"),
        'activations[0] is "selu"',
        "expected one of",
    ),
    bad(
        "activation_name_not_text",
        _put(("activations", 1), 1),
        "activations[1] is 1",
        "expected one of",
    ),
    bad(
        "activation_softmax_hidden",
        _set("activations", ["softmax", "softmax"]),
        "activations[0]",
        "softmax",
        "output layer only",
    ),
    bad(
        "activation_object_without_name",
        _put(("activations", 0), {"alpha": 1.0}),
        "activations[0]",
        "'name'",
        "expected one of",
    ),
    bad(
        "activation_unknown_parameter",
        _put(("activations", 0), {"name": "elu", "beta": 1.0}),
        "activations[0]",
        '"beta"',
        "'alpha'",
    ),
    bad(
        "activation_parameter_of_another",
        _put(("activations", 0), {"name": "elu", "negative_slope": 0.01}),
        "activations[0]",
        '"negative_slope"',
        "'alpha'",
    ),
    bad(
        "activation_parameter_on_relu",
        _put(("activations", 0), {"name": "relu", "alpha": 1.0}),
        "activations[0]",
        '"alpha"',
        "relu takes no parameters",
    ),
    bad(
        "activation_parameter_on_softmax",
        _put(("activations", 1), {"name": "softmax", "alpha": 1.0}),
        "activations[1]",
        '"alpha"',
        "softmax takes no parameters",
    ),
    bad(
        "activation_alpha_string",
        _put(("activations", 0, "alpha"), "1.0"),
        'activations[0].alpha is "1.0"',
        "expected a number",
    ),
    bad(
        "activation_alpha_null",
        _put(("activations", 0, "alpha"), None),
        "activations[0].alpha is null",
        "expected a number",
    ),
    bad(
        "activation_negative_slope_bool",
        _put(("activations", 0), {"name": "leaky_relu", "negative_slope": True}),
        "activations[0].negative_slope is true",
        "expected a number",
    ),
]


def _output(name):
    return _put(("activations", 1), name)


def _both(*changes):
    def change(d):
        for c in changes:
            c(d)

    return change


LOSS_CASES = [
    bad(
        "loss_unknown",
        _set("loss", "mean_squared_error"),
        "loss",
        '"mean_squared_error"',
        "expected one of",
        *LOSS_NAMES,
    ),
    bad("loss_null", _set("loss", None), "loss is null", "expected one of"),
    bad(
        "loss_cross_entropy_without_softmax",
        _output("sigmoid"),
        "cross_entropy",
        "softmax output",
        "activations[1] is sigmoid",
    ),
    bad(
        "loss_binary_cross_entropy_without_sigmoid",
        _set("loss", "binary_cross_entropy"),
        "binary_cross_entropy",
        "sigmoid output",
        "activations[1] is softmax",
    ),
]

VECTOR_CASES = [
    bad("x_too_short", _set("x", [1.0, 1.5]), "x has length 2", "need 3"),
    bad("x_too_long", _set("x", [1.0, 1.5, -0.5, 0.0]), "x has length 4", "need 3"),
    bad("x_not_a_list", _set("x", 1.0), "x is 1", "a list of 3 numbers"),
    bad("x_null", _set("x", None), "x is null", "a list of 3 numbers"),
    bad("x_string", _set("x", "1.0 1.5 -0.5"), "x is", "a list of 3 numbers"),
    bad("x_entry_nested_list", _put(("x", 2), [-0.5]), "x[2]", "expected a number"),
    bad("target_too_short", _set("target", [1]), "target has length 1", "need 2"),
    bad("target_too_long", _set("target", [1, 0, 0]), "target has length 3", "need 2"),
    bad("target_null", _set("target", None), "target is null", "a list of 2 numbers"),
    bad("target_entry_string", _put(("target", 0), "1"), 'target[0] is "1"', "expected a number"),
    bad("target_entry_bool", _put(("target", 0), True), "target[0] is true", "expected a number"),
    bad("target_entry_null", _put(("target", 1), None), "target[1] is null", "expected a number"),
    bad(
        "cross_entropy_target_negative",
        _set("target", [1.5, -0.5]),
        "target[1]",
        "-0.5",
        "negative",
        "cross_entropy",
    ),
    bad(
        "cross_entropy_target_sum_over",
        _set("target", [1 + 1e-6, 0]),
        "target",
        "1.000001",
        "sums to 1",
    ),
    bad("cross_entropy_target_sum_under", _set("target", [0.5, 0]), "target", "0.5", "sums to 1"),
    bad("cross_entropy_target_all_zero", _set("target", [0, 0]), "target", "sums to 1"),
    bad(
        "binary_cross_entropy_target_over_1",
        _both(_output("sigmoid"), _set("loss", "binary_cross_entropy"), _set("target", [1.5, 0])),
        "target[0]",
        "1.5",
        "[0, 1]",
    ),
    bad(
        "binary_cross_entropy_target_negative",
        _both(_output("sigmoid"), _set("loss", "binary_cross_entropy"), _set("target", [1, -0.5])),
        "target[1]",
        "-0.5",
        "[0, 1]",
    ),
]

SPEC_EXAMPLE = "weights[1] has shape (2, 3); layers [3, 4, 2] need (2, 4)"


def _matrix(index, change):
    return lambda d: d["weights"].__setitem__(index, change(d["weights"][index]))


WEIGHT_CASES = [
    bad(
        "weights_one_matrix_missing",
        lambda d: d["weights"].pop(),
        "weights",
        "a list of 1",
        f"{SEED_SHAPE} need 2 matrices",
    ),
    bad(
        "weights_one_matrix_too_many",
        lambda d: d["weights"].append(d["weights"][1]),
        "weights",
        "a list of 3",
        "need 2 matrices",
    ),
    bad("weights_null", _set("weights", None), "weights is null", "need 2 matrices"),
    bad("weights_wrong_shape_spec_example", _matrix(1, _drop_last_column), SPEC_EXAMPLE),
    bad(
        "weights_transposed",
        _matrix(0, _transpose),
        "weights[0] has shape (3, 4)",
        f"{SEED_SHAPE} need (4, 3)",
    ),
    bad(
        "weights_row_missing",
        _matrix(0, lambda m: m[:-1]),
        "weights[0] has shape (3, 3)",
        "need (4, 3)",
    ),
    bad("weights_matrix_empty", _put(("weights", 0), []), "weights[0]", "0 rows", "need 4"),
    bad(
        "weights_matrix_not_a_list",
        _put(("weights", 1), 1.0),
        "weights[1] is 1",
        "2 rows of 4 numbers",
    ),
    bad(
        "weights_ragged_row_short",
        _put(("weights", 0, 1), [0.5, -1.0]),
        "weights[0][1] has length 2",
        "need 3",
    ),
    bad(
        "weights_ragged_row_long",
        _put(("weights", 1, 0), [1.0, 1.0, 0.5, 0.5, 0.0]),
        "weights[1][0] has length 5",
        "need 4",
    ),
    # A row that is not a list: the message should name the row, as for a short row.
    bad(
        "weights_row_not_a_list",
        _put(("weights", 0, 1), 0.5),
        "weights[0][1]",
        "expected a list of 3 numbers",
    ),
    bad(
        "weights_deep_string",
        _put(("weights", 0, 1, 2), "1.0"),
        'weights[0][1][2] is "1.0"',
        "expected a number",
    ),
    bad(
        "weights_deep_bool",
        _put(("weights", 0, 1, 2), False),
        "weights[0][1][2] is false",
        "expected a number",
    ),
    bad(
        "weights_deep_null",
        _put(("weights", 0, 1, 2), None),
        "weights[0][1][2] is null",
        "expected a number",
    ),
    bad(
        "weights_deep_list",
        _put(("weights", 0, 1, 2), [1.0]),
        "weights[0][1][2] is a list",
        "expected a number",
    ),
]

BIAS_CASES = [
    bad(
        "biases_too_few",
        _set("biases", [[0.35] * 4]),
        "biases",
        "a list of 1",
        f"{SEED_SHAPE} need null or 2 vectors",
    ),
    bad(
        "biases_too_many",
        _set("biases", [[0.35] * 4, [0.60] * 2, [0.60] * 2]),
        "biases",
        "a list of 3",
        "need null or 2 vectors",
    ),
    bad("biases_number", _set("biases", 0.35), "biases is 0.35", "need null or 2 vectors"),
    bad(
        "biases_wrong_length",
        _put(("biases", 0), [0.35] * 3),
        "biases[0] has length 3",
        "need 4",
        base=seed_with_biases,
    ),
    bad(
        "biases_vector_null",
        _put(("biases", 1), None),
        "biases[1] is null",
        "a list of 2 numbers",
        base=seed_with_biases,
    ),
    bad(
        "biases_entry_string",
        _put(("biases", 1, 0), "0.6"),
        'biases[1][0] is "0.6"',
        "expected a number",
        base=seed_with_biases,
    ),
]

LEARNING_RATE_CASES = [
    bad("learning_rate_zero", _set("learning_rate", 0), "learning_rate", "0", "> 0"),
    bad("learning_rate_zero_float", _set("learning_rate", 0.0), "learning_rate", "> 0"),
    bad("learning_rate_negative", _set("learning_rate", -0.1), "learning_rate", "-0.1", "> 0"),
    bad(
        "learning_rate_string",
        _set("learning_rate", "0.1"),
        'learning_rate is "0.1"',
        "expected a number",
    ),
    bad(
        "learning_rate_bool",
        _set("learning_rate", True),
        "learning_rate is true",
        "expected a number",
    ),
    bad(
        "learning_rate_null",
        _set("learning_rate", None),
        "learning_rate is null",
        "expected a number",
    ),
    bad("learning_rate_list", _set("learning_rate", [0.1]), "learning_rate", "expected a number"),
]

# Every number must be a finite JSON number within the project's range: each literal below at
# each position, the message naming the position. (name, JSON text, fragments after the position)
LITERALS = [
    ("NaN", "NaN", ("NaN", "expected a finite number")),
    ("Infinity", "Infinity", ("Infinity", "expected a finite number")),
    ("minus_Infinity", "-Infinity", ("-Infinity", "expected a finite number")),
    ("1e400", "1e400", ("1e400", "expected a finite number")),
    ("minus_1e400", "-1e400", ("-1e400", "expected a finite number")),
    ("1e308", "1e308", ("out of range", f"at most {LIMIT:g}")),
    ("minus_1e308", "-1e308", ("out of range", f"at most {LIMIT:g}")),
    ("5000_digits", "1" + "0" * 4999, ("expected a finite number",)),
    ("true", "true", ("true", "expected a number")),
    ("false", "false", ("false", "expected a number")),
    ("string", '"0.5"', ('"0.5"', "expected a number")),
    ("null", "null", ("null", "expected a number")),
    ("list", "[0.5]", ("a list", "expected a number")),
]
# (where in the dict, how the message names it, base problem, also on the command line)
POSITIONS = [
    (("x", 1), "x[1]", seed, True),
    (("weights", 1, 0, 3), "weights[1][0][3]", seed, True),
    (("target", 0), "target[0]", seed, False),
    (("weights", 0, 3, 0), "weights[0][3][0]", seed, False),
    (("biases", 1, 1), "biases[1][1]", seed_with_biases, False),
    (("learning_rate",), "learning_rate", seed, False),
    (("activations", 0, "alpha"), "activations[0].alpha", seed, False),
]
# On the command line: every literal at x[1], these at weights[1][0][3] too.
CLI_LITERALS_DEEP = {"NaN", "1e400", "1e308", "string"}
NUMBER_CASES = [
    bad_literal(
        f"number_{name}_at_{label}",
        where,
        literal,
        label,
        *fragments,
        base=base,
        cli=cli and (label == "x[1]" or name in CLI_LITERALS_DEEP),
    )
    for where, label, base, cli in POSITIONS
    for name, literal, fragments in LITERALS
]

_QUOTED = SEED_BYTES.decode().replace('"', "'")  # a Python dict, not JSON
_LATIN1 = json.dumps({**seed(), "title": "Problème 1"}, ensure_ascii=False).encode("latin-1")
_PADDED = SEED_BYTES + b" " * (MAX_BYTES + 1 - len(SEED_BYTES))  # valid but for its size

FILE_CASES = [
    raw("not_json", b"layers: 3 4 2\n", "not valid JSON", "line 1"),
    raw("not_json_single_quotes", _QUOTED.encode(), "not valid JSON", "line 2, column 3"),
    raw(
        "not_json_trailing_comma",
        SEED_BYTES.replace(b'"learning_rate": 0.1', b'"learning_rate": 0.1,'),
        "not valid JSON",
        "line 15",
    ),
    raw("not_json_two_problems", SEED_BYTES + SEED_BYTES, "not valid JSON"),
    raw("truncated_half", SEED_BYTES[: len(SEED_BYTES) // 2], "truncated"),
    raw("empty_file", b"", "the file is empty", "expected a JSON problem"),
    raw("whitespace_only", b" \n\n", "the file is empty"),
    raw(
        "json_list",
        json.dumps([seed()]).encode(),
        "the problem is a list of 1",
        "expected a JSON object",
    ),
    raw("json_empty_list", b"[]", "the problem is a list of 0", "expected a JSON object"),
    raw("json_number", b"0.1", "the problem is 0.1", "expected a JSON object"),
    raw("json_string", json.dumps(FORMAT).encode(), "the problem is", "expected a JSON object"),
    raw("json_null", b"null", "the problem is null", "expected a JSON object"),
    raw("json_integer_5000_digits", b"1" + b"0" * 4999, "the problem is", "expected a JSON object"),
    raw("not_utf8_latin1", _LATIN1, "not UTF-8"),
    raw("not_utf8_utf16", SEED_BYTES.decode().encode("utf-16"), "not UTF-8"),
    raw("over_1_mb", _PADDED, "1 MB"),
    raw("over_1_mb_not_utf8", b"\xff" * (MAX_BYTES + 1), "1 MB"),
    raw("deeply_nested_list", b"[" * 100_000, "nested too deeply"),
    raw("deeply_nested_closed", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    raw(
        "deeply_nested_in_x",
        SEED_BYTES.replace(b"[1.0, 1.5, -0.5]", b"[" * 100_000),
        "nested too deeply",
    ),
    Case("missing_file", None, ("cannot read", "No such file"), kind="missing"),
    Case("directory", None, ("cannot read",), kind="directory"),
]

CASES = [
    *KEY_CASES,
    *LAYER_CASES,
    *ACTIVATION_CASES,
    *LOSS_CASES,
    *VECTOR_CASES,
    *WEIGHT_CASES,
    *BIAS_CASES,
    *LEARNING_RATE_CASES,
    *NUMBER_CASES,
    *FILE_CASES,
]
LIBRARY_CASES = [c for c in CASES if c.kind == "file"]
# Further examples of a rule already run through the command line: library only, to keep the
# command-line runs (a fresh interpreter each) to one or two per rule.
LIBRARY_ONLY = {
    "unknown_key_typo",
    "format_other_format",
    "title_list",
    "layers_object",
    "layers_empty",
    "layers_entry_negative",
    "layers_entry_null",
    "activation_unknown_name_in_object",
    "activation_parameter_of_another",
    "activation_alpha_null",
    "x_too_long",
    "x_string",
    "target_too_long",
    "target_entry_bool",
    "cross_entropy_target_all_zero",
    "weights_one_matrix_too_many",
    "weights_deep_bool",
    "weights_deep_list",
    "biases_too_many",
    "learning_rate_zero_float",
    "learning_rate_list",
    "json_empty_list",
    "whitespace_only",
    "deeply_nested_closed",
    "not_json_two_problems",
}
CLI_CASES = [c for c in CASES if c.cli and c.id not in LIBRARY_ONLY]


def test_case_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


def test_problem_error_is_a_value_error():
    assert issubclass(ProblemError, ValueError)


# --- the library ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", LIBRARY_CASES, ids=lambda c: c.id)
def test_library_refuses(case, tmp_path):
    path = case.materialise(tmp_path)
    with pytest.raises(ProblemError) as from_file:
        load(path)
    message = str(from_file.value)
    check_message(message, case.expected)

    with pytest.raises(ProblemError) as from_bytes:
        Problem.from_json(case.data)
    assert str(from_bytes.value) == message

    try:
        text = case.data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        with pytest.raises(ProblemError) as from_text:
            Problem.from_json(text)
        assert str(from_text.value) == message

    if case.value is not None:
        with pytest.raises(ProblemError) as from_dict:
            Problem.from_dict(copy.deepcopy(case.value))
        assert str(from_dict.value) == message


def test_spec_example_message_is_reproduced_exactly():
    data = seed()
    data["weights"][1] = _drop_last_column(data["weights"][1])
    with pytest.raises(ProblemError) as caught:
        Problem.from_dict(data)
    assert str(caught.value) == SPEC_EXAMPLE


def test_a_python_nan_or_infinity_in_a_dict_is_refused_with_its_position():
    for where, label in [(("x", 1), "x[1]"), (("weights", 1, 0, 3), "weights[1][0][3]")]:
        for value in (float("nan"), float("inf"), -float("inf")):
            data = seed()
            put(data, where, value)
            with pytest.raises(ProblemError) as caught:
                Problem.from_dict(data)
            check_message(str(caught.value), (label, "finite"))


def test_a_file_over_1_mb_is_refused_unread(tmp_path, monkeypatch):
    path = tmp_path / "big.json"
    path.write_bytes(_PADDED)

    def no_reading(*args, **kwargs):
        raise AssertionError("a file over 1 MB was read")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    monkeypatch.setattr(Path, "read_text", no_reading)
    monkeypatch.setattr(Path, "open", no_reading)
    monkeypatch.setattr("builtins.open", no_reading)
    with pytest.raises(ProblemError) as caught:
        load(path)
    check_message(str(caught.value), ("1 MB",))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_stream_over_1_mb_is_refused_without_reading_it_all(tmp_path):
    """`solve <(generate)` hands nnviz a pipe, whose size stat() cannot tell: reading must still
    stop soon after 1 MB, not go on to the end of the stream (think /dev/zero)."""
    fifo = tmp_path / "stream.json"
    os.mkfifo(fifo)
    chunk = b" " * 65536
    total = 128 * len(chunk)  # over 8 MB
    written = []

    def writer():
        count = 0
        try:
            fd = os.open(fifo, os.O_WRONLY)
            try:
                while count < total:
                    count += os.write(fd, chunk)
            finally:
                os.close(fd)
        except OSError:  # BrokenPipeError once the reader has stopped
            pass
        written.append(count)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        with pytest.raises(ProblemError) as caught:
            load(fifo)
    finally:
        # should load not have opened the pipe, open it here so that the writer finishes
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        os.close(fd)
        thread.join(timeout=30)
    check_message(str(caught.value), ("1 MB",))
    assert written and written[0] < total, f"all {total} bytes of the stream were read"


TRUNCATION_POINTS = {
    "inside_the_title": b'"Problem 1',
    "after_a_decimal_point": b'"x": [1.',
    "after_a_minus_sign": b"[[-",
    "inside_null": b'"biases": nu',
}


@pytest.mark.parametrize("end", TRUNCATION_POINTS.values(), ids=TRUNCATION_POINTS.keys())
def test_a_file_cut_short_anywhere_looks_truncated(end):
    cut = SEED_BYTES[: SEED_BYTES.index(end) + len(end)]
    with pytest.raises(ProblemError) as caught:
        Problem.from_json(cut)
    check_message(str(caught.value), ("truncated",))


# --- the command line -------------------------------------------------------------------------


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nnviz", "solve", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    """Every bad file through the command line, a few at a time (each run takes a while)."""
    folder = tmp_path_factory.mktemp("cli")
    paths = {case.id: case.materialise(folder) for case in CLI_CASES}
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = {cid: pool.submit(run_cli, path) for cid, path in paths.items()}
        return {cid: (paths[cid], run.result()) for cid, run in runs.items()}


@pytest.mark.parametrize("case", CLI_CASES, ids=lambda c: c.id)
def test_cli_refuses(case, cli_runs):
    path, run = cli_runs[case.id]
    stdout, stderr = run.stdout.decode("utf-8"), run.stderr.decode("utf-8")
    assert "Traceback" not in stderr, stderr
    assert run.returncode == 2, stderr
    assert stdout == ""
    assert stderr.endswith("\n") and stderr.count("\n") == 1, f"not one line: {stderr!r}"
    line = stderr.rstrip("\n")
    assert line.startswith("nnviz: "), line
    check_message(line, case.expected)
    if case.kind == "file":
        with pytest.raises(ProblemError) as caught:
            load(path)
        assert str(caught.value) in line


def test_cli_an_empty_path_is_not_the_seed_problem(tmp_path):
    """`solve ""` is a bad path, not "no PROBLEM.json"; the message must not blame the seed."""
    run = run_cli("")
    stderr = run.stderr.decode("utf-8")
    assert run.returncode == 2
    assert stderr.count("\n") == 1 and stderr.startswith("nnviz: ")
    assert "seed problem" not in stderr, stderr


def test_cli_solves_the_seed_file():
    run = run_cli(SEED_PATH)
    assert run.returncode == 0, run.stderr
    assert run.stdout and not run.stderr


def test_cli_accepts_a_utf8_bom(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + SEED_BYTES)
    run = run_cli(path)
    assert run.returncode == 0, run.stderr
    assert run.stdout and not run.stderr
    assert run.stdout == run_cli(SEED_PATH).stdout


# --- good problems ----------------------------------------------------------------------------


def same(a: dict, b: dict) -> None:
    assert bits(a) == bits(b)


@pytest.mark.parametrize(("name", "path"), [("seed", SEED_PATH), ("tutorial", TUTORIAL_PATH)])
def test_presets_load_as_their_files_say(name, path):
    p = preset(name)
    out = p.to_dict()
    data = json.loads(path.read_bytes())
    assert out["format"] == FORMAT
    assert out["title"] == data["title"]
    assert out["layers"] == data["layers"]
    assert out["loss"] == data["loss"]
    for key in ("x", "target", "weights", "learning_rate"):
        same({key: out[key]}, {key: floats(data[key])})
    if data["biases"] is None:
        assert out["biases"] is None and p.biases is None
    else:
        same({"b": out["biases"]}, {"b": floats(data["biases"])})
    same(load(path).to_dict(), out)


def test_the_default_preset_is_the_seed():
    same(preset().to_dict(), preset("seed").to_dict())


def test_the_seed_as_read():
    p = preset("seed")
    assert p.layers == (3, 4, 2)
    assert [a.name for a in p.activations] == ["elu", "softmax"]
    assert p.activations[0].parameter == 1.0
    assert p.loss.name == "cross_entropy"
    assert p.x.shape == (3,) and p.target.shape == (2,)
    assert [w.shape for w in p.weights] == [(4, 3), (2, 4)]
    assert p.weights[0][1, 0] == 0.5  # v_21 is weights[0][1][0]
    assert p.biases is None
    assert p.learning_rate == 0.1


@pytest.mark.parametrize("name", ["seed", "tutorial"])
def test_presets_round_trip_exactly(name):
    p = preset(name)
    q = Problem.from_json(p.to_json())
    same(q.to_dict(), p.to_dict())
    same(Problem.from_dict(p.to_dict()).to_dict(), p.to_dict())
    same(Problem.from_json(p.to_json().encode()).to_dict(), p.to_dict())
    assert json.loads(p.to_json()) == p.to_dict()


def test_a_problem_with_biases_round_trips():
    p = Problem.from_dict(seed_with_biases())
    assert p.biases is not None and [b.shape for b in p.biases] == [(4,), (2,)]
    out = p.to_dict()
    same({"b": out["biases"]}, {"b": [[0.35] * 4, [0.60] * 2]})
    same(Problem.from_json(p.to_json()).to_dict(), out)


def test_normalisation_writes_every_optional_key():
    data = seed()
    for key in ("format", "title", "biases"):
        del data[key]
    data["activations"] = ["elu", "softmax"]
    out = Problem.from_dict(data).to_dict()
    assert set(out) == set(KEYS)
    assert out["format"] == FORMAT
    assert out["title"] == ""
    assert out["biases"] is None
    assert out["activations"] == [{"name": "elu", "alpha": 1.0}, "softmax"]
    same(Problem.from_json(json.dumps(data)).to_dict(), out)


def test_leaky_relu_gets_its_default_slope():
    data = seed()
    data["activations"] = ["leaky_relu", {"name": "softmax"}]
    out = Problem.from_dict(data).to_dict()
    assert out["activations"] == [{"name": "leaky_relu", "negative_slope": 0.01}, "softmax"]


def test_activation_parameters_are_kept():
    data = seed()
    data["activations"] = [{"name": "elu", "alpha": 0.5}, "softmax"]
    assert Problem.from_dict(data).to_dict()["activations"][0] == {"name": "elu", "alpha": 0.5}
    data["activations"] = [{"name": "leaky_relu", "negative_slope": 0.2}, "softmax"]
    out = Problem.from_dict(data).to_dict()["activations"][0]
    assert out == {"name": "leaky_relu", "negative_slope": 0.2}
    data["activations"] = [{"name": "relu"}, "softmax"]
    assert Problem.from_dict(data).to_dict()["activations"][0] == "relu"


def test_biases_absent_or_null_mean_no_biases():
    data = seed()
    data["biases"] = None
    assert Problem.from_dict(data).biases is None
    del data["biases"]
    assert Problem.from_dict(data).biases is None
    assert Problem.from_dict(data).to_dict()["biases"] is None


def test_integers_become_floats():
    data = seed()
    data["x"][0] = 1  # the seed's 1.0
    data["weights"][0][0] = [-1, 2, 0]  # the seed's [-1.0, 2.0, 0.0]
    data["learning_rate"] = 1
    out = Problem.from_dict(data).to_dict()
    assert data["target"] == [1, 0]  # written as integers in the seed file
    same({"t": out["target"]}, {"t": [1.0, 0.0]})
    same({"x": out["x"]}, {"x": [1.0, 1.5, -0.5]})
    same({"w": out["weights"][0][0]}, {"w": [-1.0, 2.0, 0.0]})
    same({"eta": out["learning_rate"]}, {"eta": 1.0})
    assert all(isinstance(n, int) for n in out["layers"])


def test_a_utf8_bom_is_accepted(tmp_path):
    with_bom = b"\xef\xbb\xbf" + SEED_BYTES
    same(Problem.from_json(with_bom).to_dict(), preset("seed").to_dict())
    path = tmp_path / "bom.json"
    path.write_bytes(with_bom)
    same(load(path).to_dict(), preset("seed").to_dict())


def test_text_and_bytes_read_alike():
    same(Problem.from_json(SEED_BYTES.decode()).to_dict(), Problem.from_json(SEED_BYTES).to_dict())


def test_the_limits_themselves_are_accepted(tmp_path):
    data = seed()
    data["title"] = "x" * MAX_TITLE
    data["x"] = [LIMIT, -LIMIT, -0.5]
    data["learning_rate"] = LIMIT
    out = Problem.from_dict(data).to_dict()
    assert out["title"] == "x" * MAX_TITLE
    same({"x": out["x"]}, {"x": [LIMIT, -LIMIT, -0.5]})

    path = tmp_path / "exactly-max.json"
    path.write_bytes(SEED_BYTES + b" " * (MAX_BYTES - len(SEED_BYTES)))
    assert path.stat().st_size == MAX_BYTES
    same(load(path).to_dict(), preset("seed").to_dict())


def _zeros(layers):
    return [[[0.0] * n for _ in range(m)] for n, m in pairwise(layers)]


@pytest.mark.parametrize(
    "layers",
    [[1, 1], [MAX_NEURONS, 1], [2, MAX_NEURONS, 2], [2] * MAX_LAYERS],
    ids=["smallest", "widest_input", "widest_hidden", "deepest"],
)
def test_the_layer_limits_are_accepted(layers):
    data = {
        "layers": layers,
        "activations": ["tanh"] * (len(layers) - 2) + ["identity"],
        "loss": "squared_error",
        "x": [0.0] * layers[0],
        "target": [0.0] * layers[-1],
        "weights": _zeros(layers),
        "learning_rate": 0.1,
    }
    p = Problem.from_dict(data)
    assert p.layers == tuple(layers)
    same(Problem.from_json(p.to_json()).to_dict(), p.to_dict())


def test_cross_entropy_target_sum_tolerance():
    assert TARGET_SUM_TOLERANCE == 1e-9  # the spec's "sum 1 within 1e-9"
    data = seed()
    data["target"] = [1 + 1e-12, 0]
    p = Problem.from_dict(data)
    same({"t": p.to_dict()["target"]}, {"t": [1 + 1e-12, 0.0]})
    data["target"] = [1 + 1e-6, 0]
    with pytest.raises(ProblemError):
        Problem.from_dict(data)
    data["target"] = [0.5, 0.5]
    Problem.from_dict(data)


def test_binary_cross_entropy_takes_0_and_1():
    data = seed()
    data["activations"][1] = "sigmoid"
    data["loss"] = "binary_cross_entropy"
    data["target"] = [0, 1]
    same({"t": Problem.from_dict(data).to_dict()["target"]}, {"t": [0.0, 1.0]})


# --- property: every valid problem round-trips exactly ----------------------------------------

FINITE = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)
NUMBER = st.one_of(FINITE, st.integers(min_value=-1000, max_value=1000))
PLAIN = st.sampled_from(["elu", "relu", "leaky_relu", "sigmoid", "tanh", "identity"])
HIDDEN = st.one_of(
    PLAIN,
    PLAIN.map(lambda name: {"name": name}),
    FINITE.map(lambda a: {"name": "elu", "alpha": a}),
    FINITE.map(lambda s: {"name": "leaky_relu", "negative_slope": s}),
)
OUTPUT = {
    "cross_entropy": st.sampled_from(["softmax", {"name": "softmax"}]),
    "binary_cross_entropy": st.sampled_from(["sigmoid", {"name": "sigmoid"}]),
    "squared_error": st.one_of(HIDDEN, st.just("softmax")),
}


def _vector(n, elements=NUMBER):
    return st.lists(elements, min_size=n, max_size=n)


@st.composite
def distributions(draw, n):
    if draw(st.booleans()):
        hot = draw(st.integers(0, n - 1))
        return [1 if k == hot else 0 for k in range(n)]
    weights = draw(_vector(n, st.floats(min_value=0, max_value=1)).filter(lambda w: sum(w) > 0))
    total = sum(weights)
    return [w / total for w in weights]


@st.composite
def problem_dicts(draw):
    layers = draw(st.lists(st.integers(1, 6), min_size=2, max_size=5))
    depth = len(layers) - 1
    loss = draw(st.sampled_from(LOSS_NAMES))
    activations = [draw(HIDDEN) for _ in range(depth - 1)] + [draw(OUTPUT[loss])]
    n_out = layers[-1]
    if loss == "cross_entropy":
        target = draw(distributions(n_out))
    elif loss == "binary_cross_entropy":
        target = draw(_vector(n_out, st.floats(min_value=0, max_value=1)))
    else:
        target = draw(_vector(n_out))
    data = {
        "layers": layers,
        "activations": activations,
        "loss": loss,
        "x": draw(_vector(layers[0])),
        "target": target,
        "weights": [
            draw(st.lists(_vector(n), min_size=m, max_size=m)) for n, m in pairwise(layers)
        ],
        "learning_rate": draw(st.floats(min_value=0, max_value=1e3, exclude_min=True)),
    }
    if draw(st.booleans()):
        data["biases"] = [draw(_vector(m)) for m in layers[1:]]
    elif draw(st.booleans()):
        data["biases"] = None
    if draw(st.booleans()):
        data["format"] = FORMAT
    if draw(st.booleans()):
        data["title"] = draw(st.text(max_size=MAX_TITLE).filter(str.isprintable))
    return data


@settings(max_examples=200, deadline=None)
@given(problem_dicts())
def test_valid_problems_round_trip_exactly(data):
    p = Problem.from_dict(copy.deepcopy(data))
    out = p.to_dict()
    assert set(out) == set(KEYS)
    same(Problem.from_json(p.to_json()).to_dict(), out)
    same(Problem.from_json(p.to_json().encode()).to_dict(), out)
    same(Problem.from_dict(copy.deepcopy(out)).to_dict(), out)
    same(Problem.from_json(json.dumps(data)).to_dict(), out)
    # and the numbers are the ones given, as floats, bit for bit
    for key in ("x", "target", "weights", "learning_rate"):
        same({key: out[key]}, {key: floats(data[key])})
    if data.get("biases") is None:
        assert out["biases"] is None
    else:
        same({"b": out["biases"]}, {"b": floats(data["biases"])})
    assert out["layers"] == data["layers"]
    assert out["title"] == data.get("title", "")
