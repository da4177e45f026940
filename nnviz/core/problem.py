"""The problem: a network, its weights, one example and a learning rate.

`Problem.from_json` and `Problem.from_dict` are the only doors for untrusted input; each rule of
the format (shared spec, section 1) is checked there, and a broken file is refused with one
`ProblemError` that names the key, the index and what was expected. The dataclass itself does
no checking, so that the engine can make the next iteration's problem cheaply.
"""

from __future__ import annotations

import json
import math
import os
import re
import select
import stat
from dataclasses import dataclass
from importlib import resources

import numpy as np

from nnviz.core.functions import ACTIVATIONS, LOSSES, Activation, Loss, activation_names
from nnviz.core.notation import element_name, layer_symbols
from nnviz.core.text import clip

FORMAT = "nnviz-problem/1"
MAX_BYTES = 1_000_000
MAX_LAYERS, MAX_NEURONS = 8, 64
MAX_TITLE = 200
# Inputs, weights, biases, eta and activation parameters stay within this, so that every value
# the engine derives, through up to seven 64-wide layers, stays a finite double.
LIMIT = 1e6
TARGET_SUM_TOLERANCE = 1e-9
STREAM_TIMEOUT = 5.0  # seconds a pipe may stay silent before it is given up
NESTING = 8  # a problem or an answer sheet nests 4 deep; past this, the message says where

PRESETS = {"seed": "seed-problem.json", "tutorial": "tutorial-2-2-2.json"}

_KEYS = (
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
_REQUIRED = ("layers", "activations", "loss", "x", "target", "weights", "learning_rate")


class ProblemError(ValueError):
    """A problem that breaks a rule of the format. The message is one line for a person."""


@dataclass(eq=False, slots=True)
class Problem:
    """Treat it as immutable: the engine never changes one, and history in the app relies on
    that. (Not frozen=True only because that makes the next iteration's problem cost a
    microsecond more, a twentieth of a whole step.)"""

    layers: tuple[int, ...]
    activations: tuple[Activation, ...]
    loss: Loss
    x: np.ndarray
    target: np.ndarray
    weights: tuple[np.ndarray, ...]  # weights[l][to, from], shape (layers[l+1], layers[l])
    biases: tuple[np.ndarray, ...] | None
    learning_rate: float
    title: str = ""

    @classmethod
    def from_dict(cls, data) -> Problem:
        return _parse(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> Problem:
        return _parse(read_json(text))

    def to_dict(self) -> dict:
        """The normalised problem: every optional key written out, numbers at full precision."""
        return {
            "format": FORMAT,
            "title": self.title,
            "layers": list(self.layers),
            "activations": [a.to_json() for a in self.activations],
            "loss": self.loss.name,
            "x": self.x.tolist(),
            "target": self.target.tolist(),
            "weights": [w.tolist() for w in self.weights],
            "biases": None if self.biases is None else [b.tolist() for b in self.biases],
            "learning_rate": self.learning_rate,
        }

    def to_json(self) -> str:
        return dumps(self.to_dict())

    @property
    def heading(self) -> str:
        """Its title, or for an untitled problem its shape: "3-4-2 network"."""
        return self.title or "-".join(map(str, self.layers)) + " network"

    @property
    def parameters(self) -> int:
        """How many weights and biases the network has."""
        return sum(w.size for w in self.weights) + sum(b.size for b in self.biases or ())

    def with_parameters(self, weights, biases) -> Problem:
        """The same problem with other weights and biases (None for none), e.g. after an
        update."""
        # not dataclasses.replace, which costs several microseconds
        return Problem(
            self.layers,
            self.activations,
            self.loss,
            self.x,
            self.target,
            tuple(weights),
            None if biases is None else tuple(biases),
            self.learning_rate,
            self.title,
        )


def load(path) -> Problem:
    return Problem.from_json(read_file(path))


def read_file(path, what: str = "a problem file") -> bytes:
    """A file's bytes; one over MAX_BYTES is refused unread. A pipe or a device (`solve
    <(generate)`) is read as it comes, up to MAX_BYTES, and refused once nothing has come for
    STREAM_TIMEOUT seconds: a named pipe that nobody writes to must not hang the command."""
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise ProblemError(f"cannot read the file: {clip(str(path), 60)} is a folder")
        if not stat.S_ISREG(info.st_mode):
            return _read_stream(path)
        if info.st_size > MAX_BYTES:
            raise ProblemError(_too_big(info.st_size, what))
        with open(path, "rb") as f:
            return f.read(MAX_BYTES + 1)
    except OSError as e:
        raise ProblemError(f"cannot read the file: {e.strerror or e}") from None


def _read_stream(path) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        chunks, size = [], 0
        while size <= MAX_BYTES:
            if not select.select([fd], [], [], STREAM_TIMEOUT)[0]:
                raise ProblemError(
                    f"nothing came from the pipe for {STREAM_TIMEOUT:g} s; expected a file, "
                    "or a program writing one"
                )
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def preset(name: str = "seed") -> Problem:
    """A shipped example: 'seed' (the exam problem, the default) or 'tutorial' (2-2-2)."""
    return Problem.from_json(shipped(PRESETS[name]))


def shipped(name: str) -> bytes:
    """A file of nnviz/presets, read from wherever the package is installed."""
    return resources.files("nnviz").joinpath("presets", name).read_bytes()


def dumps(data, indent: str = "") -> str:
    """JSON as people read it: objects one key a line, each vector or matrix row on one line."""
    inner = indent + "  "
    nested = isinstance(data, dict | list) and any(
        isinstance(v, list | dict) for v in (data.values() if isinstance(data, dict) else data)
    )
    written = isinstance(data, dict) and any(isinstance(v, Written) for v in data.values())
    if isinstance(data, dict) and (nested or written or len(data) > 2):
        items = [f"{inner}{json.dumps(k)}: {dumps(v, inner)}" for k, v in data.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(data, list) and nested:
        return "[\n" + ",\n".join(inner + dumps(v, inner) for v in data) + "\n" + indent + "]"
    if isinstance(data, list) and any(isinstance(v, Written) for v in data):
        return "[" + ", ".join(dumps(v) for v in data) + "]"
    if isinstance(data, Written):  # as the student wrote it: 0.80 keeps its zero
        return data.text
    return json.dumps(data, ensure_ascii=False, separators=(", ", ": "))


# --- reading JSON -----------------------------------------------------------------------------


class _NotFinite:
    """What the JSON reader makes of NaN, Infinity and 1e400, so that the rule that refuses
    them can say where they were."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def _parse_float(text):
    value = float(text)
    return value if math.isfinite(value) else _NotFinite(text)


def _parse_int(text):
    return int(text) if len(text) <= 18 else _parse_float(text)


class Written(float):
    """A number with the text the file wrote it as: 0.80 has two decimals, 0.8 one."""

    text: str


def _written_float(text):
    value = _parse_float(text)
    if isinstance(value, float):
        value = Written(value)
        value.text = text
    return value


def _too_big(size: int, what: str = "a problem file") -> str:
    size = max(size, MAX_BYTES + 1) / 1e6
    return f"the file is over {size:.1f} MB; {what} may be at most 1 MB"


# what is left where a JSON text was cut inside a number or a literal
_CUT_SHORT = re.compile(
    r"-?[0-9]*(\.[0-9]*)?([eE][+-]?[0-9]*)?|t(r(ue?)?)?|f(a(l(se?)?)?)?|n(u(ll?)?)?"
)


def read_json(text: str | bytes, what: str = "problem", written: bool = False):
    """JSON text as Python, for a problem or an answer sheet, with the format's reading rules:
    at most 1 MB, UTF-8, each key once, no NaN or Infinity (kept so that a rule can name where
    they were). `written`: each float a `Written`, which keeps its text."""
    a = "an" if what[0] in "aeiou" else "a"
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "replace"))
    if size > MAX_BYTES:
        raise ProblemError(_too_big(size, f"{a} {what} file"))
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ProblemError(f"the file is not UTF-8 text; expected a JSON {what}") from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ProblemError(f"the file is empty; expected a JSON {what}")
    try:
        return json.loads(
            text,
            object_pairs_hook=_object,
            parse_constant=_NotFinite,
            parse_float=_written_float if written else _parse_float,
            parse_int=_parse_int,
        )
    except json.JSONDecodeError as e:
        rest = text[e.pos :].strip()
        if e.msg.startswith("Unterminated string") or (
            e.msg.startswith("Expecting") and e.pos > 0 and _CUT_SHORT.fullmatch(rest)
        ):
            raise ProblemError(
                f"the JSON ends early (line {e.lineno}); the file looks truncated"
            ) from None
        raise ProblemError(
            f"not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}"
        ) from None
    except RecursionError:
        raise ProblemError(
            f"the JSON is nested too deeply to be {a} {what}, at {_nested_at(text)}"
        ) from None


def _object(pairs: list) -> dict:
    """A JSON object, refused if it names a key twice: json.loads would keep the last."""
    data = dict(pairs)
    if len(data) < len(pairs):
        seen = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ProblemError(f"the key {describe(twice)} is given twice; each key may appear once")
    return data


_PLAIN_KEY = re.compile(r"[\w/*']{1,20}")  # x, dL/dw, o*: named as they are
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[][{},]')


def _nested_at(text: str) -> str:
    """Where a JSON text first nests deeper than NESTING, as a message names a place:
    weights[0][1][0][0]…"""
    stack: list[list] = []  # per open container: its bracket, then its current key or index
    previous = ""
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            if len(stack) == NESTING:
                break
            stack.append([token, 0 if token == "[" else "?"])
        elif token in "]}":
            if stack:
                stack.pop()
        elif token == ",":
            if stack and stack[-1][0] == "[":
                stack[-1][1] += 1
        elif stack and stack[-1][0] == "{" and previous in "{,":
            key = json.loads(token, strict=False)
            stack[-1][1] = key if _PLAIN_KEY.fullmatch(key) else describe(key)
        previous = token[0]
    where = ""
    for bracket, key in stack:
        where += f"[{key}]" if bracket == "[" else (f".{key}" if where else key)
    return (where or "the top") + "…"


# --- the rules of the format ------------------------------------------------------------------


def describe(value) -> str:
    """A value as a message quotes it: short, on one line, printable."""
    if isinstance(value, _NotFinite):
        return clip(value.text)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):  # json.dumps escapes control characters, and lone surrogates:
        quoted = json.dumps(clip(value), ensure_ascii=False)
        return quoted.encode(errors="backslashreplace").decode()
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value) if value.bit_length() < 64 else f"an integer of {value.bit_length()} bits"
    return f"a {type(value).__name__}"


def out_of_range(name: str, value: float) -> str:
    """The one message for a number beyond LIMIT, by its name on the page (w_13, x_2, η)."""
    return f"{name} = {_beyond(value)} is out of range; expected at most {LIMIT:g} in size"


def parameter_out_of_range(problem: Problem) -> str | None:
    """The message for the weight or bias furthest beyond LIMIT (a NaN counts as furthest),
    by its name on the page; None if none is. For the stepper and training, which make new
    weights; a file or a link is checked as it is read."""
    worst = None
    symbols = layer_symbols(problem.layers)
    groups = [(problem.weights, "weights")]
    if problem.biases is not None:
        groups.append((problem.biases, "biases"))
    for arrays, kind in groups:
        for l, a in enumerate(arrays):
            size = np.where(np.isnan(a), np.inf, np.abs(a))
            index = np.unravel_index(np.argmax(size), a.shape)
            if size[index] > LIMIT and (worst is None or size[index] > worst[0]):
                name = element_name(getattr(symbols[l], kind), tuple(i + 1 for i in index))
                worst = (size[index], name, float(a[index]))
    return None if worst is None else out_of_range(*worst[1:])


def _beyond(value: float) -> str:
    """Two digits, or every digit where two would round to within the limit."""
    text = f"{value:.2g}"
    return repr(float(value)) if math.isfinite(value) and abs(float(text)) <= LIMIT else text


def _number(value, where: str, name: str | None = None) -> float:
    """A finite number within LIMIT; `name` is its name on the page, for the message."""
    if isinstance(value, _NotFinite) or (isinstance(value, float) and not math.isfinite(value)):
        raise ProblemError(f"{where} is {describe(value)}; expected a finite number")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProblemError(f"{where} is {describe(value)}; expected a number")
    if abs(value) > LIMIT:
        raise ProblemError(out_of_range(f"{name} ({where})" if name else where, value))
    return float(value)


def _vector(value, where: str, length: int, why: str, symbol: str) -> np.ndarray:
    if not isinstance(value, list):
        raise ProblemError(f"{where} is {describe(value)}; expected a list of {length} numbers")
    if len(value) != length:
        raise ProblemError(f"{where} has length {len(value)}; {why} need {length}")
    return np.array(
        [_number(v, f"{where}[{i}]", element_name(symbol, (i + 1,))) for i, v in enumerate(value)],
        dtype=float,
    )


def _matrix(value, where: str, rows: int, cols: int, why: str, symbol: str) -> np.ndarray:
    if not isinstance(value, list):
        raise ProblemError(f"{where} is {describe(value)}; expected {rows} rows of {cols} numbers")
    for j, row in enumerate(value):
        if not isinstance(row, list):
            raise ProblemError(
                f"{where}[{j}] is {describe(row)}; expected a list of {cols} numbers"
            )
    widths = {len(r) for r in value}
    if len(widths) == 1 and (len(value), *widths) != (rows, cols):
        raise ProblemError(
            f"{where} has shape ({len(value)}, {widths.pop()}); {why} need ({rows}, {cols})"
        )
    if len(value) != rows:
        raise ProblemError(f"{where} has {len(value)} rows; {why} need {rows}")
    for j, row in enumerate(value):
        if len(row) != cols:
            raise ProblemError(f"{where}[{j}] has length {len(row)}; {why} need {cols}")
    return np.array(
        [
            [
                _number(v, f"{where}[{j}][{i}]", element_name(symbol, (j + 1, i + 1)))
                for i, v in enumerate(row)
            ]
            for j, row in enumerate(value)
        ],
        dtype=float,
    ).reshape(rows, cols)


def _activation(value, where: str, is_output: bool) -> Activation:
    names = ", ".join(activation_names())
    params = {}
    if isinstance(value, dict):
        if "name" not in value:
            raise ProblemError(f"{where} has no 'name'; expected one of {names}")
        params = {k: v for k, v in value.items() if k != "name"}
        value = value["name"]
    if not isinstance(value, str) or value not in ACTIVATIONS:
        raise ProblemError(f"{where} is {describe(value)}; expected one of {names}")
    if ACTIVATIONS[value].output_only and not is_output:
        raise ProblemError(f"{where} is {value}, which is allowed on the output layer only")
    key, default = ACTIVATIONS[value].parameter or (None, None)
    for k in params:
        if k != key:
            takes = f"takes only '{key}'" if key else "takes no parameters"
            raise ProblemError(f"{where} has unknown key {describe(k)}; {value} {takes}")
    if key is None:
        return Activation(value)
    return Activation(value, _number(params.get(key, default), f"{where}.{key}"))


def _parse(data) -> Problem:
    """A problem from its JSON data, key by key; the first rule it breaks is the message."""
    _check_keys(data)
    title = _title(data.get("title", ""))
    layers = _layers(data["layers"])
    shape = f"layers {list(layers)}"
    activations = _activations(data["activations"], layers, shape)
    loss = _loss(data["loss"], activations)
    x = _vector(data["x"], "x", layers[0], f"{shape} (layers[0])", "x")
    target = _target(data["target"], loss, layers, shape)
    weights, biases = _parameters(data["weights"], data.get("biases"), layers, shape)
    eta = _number(data["learning_rate"], "learning_rate", "η")
    if eta <= 0:
        raise ProblemError(f"learning_rate = {eta:g}; expected a number > 0")
    return Problem(layers, activations, loss, x, target, weights, biases, eta, title)


# the other files of the spec, which someone may open as a problem by mistake
_NOT_PROBLEMS = {
    "nnviz-answers/1": "an answer sheet, not a problem: mark it in Check answers, or with "
    "nnviz check",
    "nnviz-solution/1": "a solution, not a problem: open the problem it was solved from",
    "nnviz-check/1": "a check report, not a problem: open the problem it was marked against",
    "nnviz-training/1": "a training run, not a problem: open the problem it was trained from",
}


def _check_keys(data) -> None:
    if not isinstance(data, dict):
        raise ProblemError(f"the problem is {describe(data)}; expected a JSON object")
    kind = data.get("format")
    if "answers" in data and kind in (None, "nnviz-answers/1"):
        kind = "nnviz-answers/1"  # the format key of a sheet is optional
    if isinstance(kind, str) and kind in _NOT_PROBLEMS:
        raise ProblemError(f"this is {_NOT_PROBLEMS[kind]}")
    for key in data:
        if key not in _KEYS:
            raise ProblemError(
                f"unknown key {describe(key)}; a problem has the keys " + ", ".join(_KEYS)
            )
    for key in _REQUIRED:
        if key not in data:
            raise ProblemError(f"the key '{key}' is missing")
    if data.get("format", FORMAT) != FORMAT:
        raise ProblemError(f'format is {describe(data["format"])}; expected "{FORMAT}"')


def _title(title) -> str:
    if title is None:
        return ""
    if not isinstance(title, str):
        raise ProblemError(f"title is {describe(title)}; expected text")
    if len(title) > MAX_TITLE:
        raise ProblemError(f"title has {len(title)} characters; expected at most {MAX_TITLE}")
    if not title.isprintable():
        raise ProblemError(
            f"title is {describe(title)}, with a character that cannot be shown; "
            "expected one line of text"
        )
    return title


def _layers(layers) -> tuple[int, ...]:
    if not isinstance(layers, list) or not 2 <= len(layers) <= MAX_LAYERS:
        raise ProblemError(
            f"layers is {describe(layers)}; expected a list of 2 to {MAX_LAYERS} layer sizes"
        )
    for i, n in enumerate(layers):
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_NEURONS:
            raise ProblemError(
                f"layers[{i}] is {describe(n)}; expected a whole number from 1 to {MAX_NEURONS}"
            )
    return tuple(layers)


def _activations(activations, layers, shape: str) -> tuple[Activation, ...]:
    depth = len(layers) - 1
    if not isinstance(activations, list) or len(activations) != depth:
        raise ProblemError(
            f"activations is {describe(activations)}; {shape} need {depth} "
            "(one per layer after the input)"
        )
    return tuple(
        _activation(a, f"activations[{i}]", i == depth - 1) for i, a in enumerate(activations)
    )


def _loss(loss, activations) -> Loss:
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ProblemError(f"loss is {describe(loss)}; expected one of " + ", ".join(LOSSES))
    loss = LOSSES[loss]
    out = activations[-1].name
    if loss.output_activation not in (None, out):
        raise ProblemError(
            f"loss {loss.name} needs a {loss.output_activation} output layer; "
            f"activations[{len(activations) - 1}] is {out}"
        )
    return loss


def _target(value, loss: Loss, layers, shape: str) -> np.ndarray:
    """o*, as its loss needs it: a distribution for cross-entropy, each in [0, 1] for binary
    cross-entropy."""
    target = _vector(value, "target", layers[-1], f"{shape} (layers[{len(layers) - 1}])", "o*")
    if loss.name == "cross_entropy":
        for k, t in enumerate(target):
            if t < 0:
                raise ProblemError(
                    f"target[{k}] = {t:g} is negative; cross_entropy needs a "
                    "distribution (each >= 0, sum 1)"
                )
        if abs(target.sum() - 1.0) > TARGET_SUM_TOLERANCE:
            raise ProblemError(
                f"target sums to {target.sum():.12g}; cross_entropy needs a "
                "distribution that sums to 1"
            )
    if loss.name == "binary_cross_entropy":
        for k, t in enumerate(target):
            if not 0 <= t <= 1:
                raise ProblemError(
                    f"target[{k}] = {t:g} is outside [0, 1], where binary_cross_entropy needs it"
                )
    return target


def _parameters(weights, biases, layers, shape: str) -> tuple[tuple, tuple | None]:
    depth, symbols = len(layers) - 1, layer_symbols(layers)
    if not isinstance(weights, list) or len(weights) != depth:
        raise ProblemError(f"weights is {describe(weights)}; {shape} need {depth} matrices")
    weights = tuple(
        _matrix(w, f"weights[{i}]", layers[i + 1], layers[i], shape, symbols[i].weights)
        for i, w in enumerate(weights)
    )

    if biases is not None:
        if not isinstance(biases, list) or len(biases) != depth:
            raise ProblemError(
                f"biases is {describe(biases)}; {shape} need null or {depth} vectors"
            )
        biases = tuple(
            _vector(
                b, f"biases[{i}]", layers[i + 1], f"{shape} (layers[{i + 1}])", symbols[i].biases
            )
            for i, b in enumerate(biases)
        )
    return weights, biases
