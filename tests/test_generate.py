"""python -m nnviz generate (spec section 11): variants of a problem for a class, each easy to
mark, the same on every run of a seed, with their solutions, LaTeX sheets, a roster and a Moodle
question bank."""

import csv
import io
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from latex import compile_latex
from test_cli import nnviz, strict_json

from nnviz import cli
from nnviz.core.engine import iterate
from nnviz.core.functions import Activation
from nnviz.core.problem import Problem, load, preset
from nnviz.files import moodle
from nnviz.teaching import variants, worksheet

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed-problem.json"

RELU = {
    "title": "A ReLU network",
    "layers": [2, 3, 2],
    "activations": ["relu", "softmax"],
    "loss": "cross_entropy",
    "x": [0.5, -1.0],
    "target": [0, 1],
    "weights": [[[0.5, -0.3], [0.2, 0.8], [-1.0, 0.4]], [[0.3, -0.2, 0.5], [0.1, 0.6, -0.4]]],
    "biases": None,
    "learning_rate": 0.5,
}
SIGMOID = {
    "title": "Sigmoid layers with biases",
    "layers": [2, 3, 2],
    "activations": ["sigmoid", "sigmoid"],
    "loss": "binary_cross_entropy",
    "x": [0.5, -1.0],
    "target": [1, 0],
    "weights": [[[0.5, -0.3], [0.2, 0.8], [-1.5, 0.4]], [[0.3, -0.2, 0.5], [0.1, 0.6, -0.4]]],
    "biases": [[0.1, -0.1, 0.2], [0.2, -0.3]],
    "learning_rate": 0.5,
}
DEEP = {  # every kinked activation, a kinked ELU, a regression target, biases
    "layers": [3, 4, 3, 2],
    "activations": [
        {"name": "leaky_relu", "negative_slope": 0.1},
        {"name": "elu", "alpha": 0.5},
        "relu",
    ],
    "loss": "squared_error",
    "x": [0.5, -1.0, 2.0],
    "target": [2.5, -1.0],
    "weights": [[[0.5, -0.5, 0.25]] * 4, [[0.5, -0.5, 0.5, 1.0]] * 3, [[0.5, -1.0, 0.5]] * 2],
    "biases": [[0.1] * 4, [0.0] * 3, [0.5, 0.5]],
    "learning_rate": 0.05,
}
TEMPLATES = {
    "seed": preset("seed"),
    "relu": Problem.from_dict(RELU),
    "sigmoid": Problem.from_dict(SIGMOID),
    "deep": Problem.from_dict(DEEP),
}


def write_json(folder: Path, name: str, data) -> Path:
    path = folder / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


STUDENTS = [
    "Zhang, Wei",
    "José Ñúñez",
    "李雷",
    'Anna "Nan" Smith',
    "Ólafur Arnalds",
    *(f"Student {k}" for k in range(6, 26)),
]


def roster_bytes(students, column="student") -> bytes:
    """As a spreadsheet saves it: a BOM, CRLF, blank lines, quotes where a name needs them."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["id", column, "email"])
    for k, s in enumerate(students, 1):
        writer.writerow([k, s, f"s{k}@example.org"])
        if k % 7 == 0:
            out.write("\r\n")
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8") + b"\r\n\r\n"


@pytest.fixture(scope="module")
def class_of_30(tmp_path_factory):
    """`generate --count 30 --seed 7` of the seed, with a roster of 25 and a Moodle bank, run
    twice into two folders, and once with another seed."""
    top = tmp_path_factory.mktemp("generate")
    roster = top / "class.csv"
    roster.write_bytes(roster_bytes(STUDENTS))
    runs = {}
    for name, seed in (("a", "7"), ("b", "7"), ("other", "8")):
        run = nnviz(
            "generate",
            str(SEED),
            "--count",
            "30",
            "--seed",
            seed,
            "--out",
            str(top / name),
            "--roster",
            str(roster),
            "--moodle",
            str(top / name / "quiz.xml"),
        )
        assert run.returncode == 0 and run.stderr == "", run.stderr
        runs[name] = run
    return top, runs


STEMS = [f"variant-{k:02d}" for k in range(1, 31)]


def test_the_same_seed_writes_the_same_bytes(class_of_30):
    top, runs = class_of_30
    a, b = files(top / "a"), files(top / "b")
    expected = {f"{s}{end}" for s in STEMS for end in FILE_ENDS} | {"roster.csv", "quiz.xml"}
    assert set(a) == expected
    assert a == b  # every file, byte for byte
    assert runs["a"].stdout.replace(str(top / "a"), str(top / "b")) == runs["b"].stdout


def test_the_draw_is_pinned(class_of_30):
    """The numbers of seed 7 as they are on every machine: only integers come out of the
    generator, each divided once by 10^D, so a platform or a NumPy that drew otherwise would
    show here."""
    top, _ = class_of_30
    first = json.loads((top / "a" / "variant-01.json").read_text(encoding="utf-8"))
    assert (first["x"], first["target"]) == ([1.4, 0.4, 0.6], [0.0, 1.0])
    assert first["weights"] == [
        [[0.3, 1.1, 1.4], [-1.1, -1.8, -0.8], [-0.9, 1.5, 1.7], [-2.0, 0.0, 1.3]],
        [[-0.8, 0.6, -0.8, -0.1], [0.7, -0.4, -0.3, -0.5]],
    ]
    last = json.loads((top / "a" / "variant-30.json").read_text(encoding="utf-8"))
    assert last["x"] == [-0.2, -1.4, 1.5]
    assert last["weights"][1] == [[0.7, -0.5, -0.5, 0.1], [0.6, -0.5, 0.7, 0.0]]


FILE_ENDS = (".json", "-solution.json", "-questions.tex", "-solution.tex")


def test_another_seed_draws_other_variants(class_of_30):
    top, _ = class_of_30
    ours = {(top / "a" / f"{s}.json").read_text() for s in STEMS}
    theirs = {(top / "other" / f"{s}.json").read_text() for s in STEMS}
    assert len(ours) == len(theirs) == 30
    assert not ours & theirs


def test_the_summary_says_what_was_written(class_of_30):
    top, runs = class_of_30
    lines = runs["a"].stdout.splitlines()
    assert lines[0] == (
        'Wrote 30 variants of "Problem 1: 3-4-2, ELU hidden layer, softmax output" into '
        f"{top / 'a'} (seed 7, numbers to 1 decimal)."
    )
    assert lines[1].endswith("K = 01 to 30.")
    assert f"Roster: 25 students in {top / 'a' / 'roster.csv'}, one variant each." in lines
    assert f"Moodle: 30 Cloze questions in {top / 'a' / 'quiz.xml'}." in lines


def test_each_variant_is_a_problem_of_the_template(class_of_30):
    top, _ = class_of_30
    seed = preset("seed")
    for k, stem in enumerate(STEMS, 1):
        text = (top / "a" / f"{stem}.json").read_text(encoding="utf-8")
        problem = Problem.from_json(text)
        assert text == problem.to_json() + "\n"  # normalised, as the project writes JSON
        assert problem.title == f"{seed.title} — variant {k}"
        assert problem.layers == seed.layers and problem.activations == seed.activations
        assert problem.loss == seed.loss and problem.biases is None
        assert problem.learning_rate == seed.learning_rate
        assert sorted(problem.target.tolist()) == [0.0, 1.0]  # one-hot, as the seed's


def test_every_solution_is_what_solve_writes(class_of_30, capsys):
    top, _ = class_of_30
    for stem in STEMS:
        problem_file = top / "a" / f"{stem}.json"
        written = (top / "a" / f"{stem}-solution.json").read_text(encoding="utf-8")
        assert cli.main(["solve", str(problem_file), "--format", "json"]) == 0
        assert capsys.readouterr().out == written
        expected = iterate(load(problem_file)).to_dict()
        assert_close(strict_json(written), expected, 1e-9)
    run = nnviz("solve", str(top / "a" / "variant-07.json"), "--format", "json")
    assert run.stdout == (top / "a" / "variant-07-solution.json").read_text(encoding="utf-8")


def assert_close(got, expected, tol, where="solution"):
    if isinstance(expected, dict):
        assert list(got) == list(expected), where
        for key in expected:
            assert_close(got[key], expected[key], tol, f"{where}.{key}")
    elif isinstance(expected, list):
        assert len(got) == len(expected), where
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_close(g, e, tol, f"{where}[{i}]")
    elif isinstance(expected, float):
        assert abs(got - expected) <= tol * max(1.0, abs(expected)), where
    else:
        assert got == expected, where


# --- the rules --------------------------------------------------------------------------------


def kink_points(activation: dict | str) -> list[float]:
    """Written here again from the functions' definitions, not taken from nnviz."""
    params = {"name": activation} if isinstance(activation, str) else activation
    name = params["name"]
    if name in ("relu", "leaky_relu"):
        return [0.0]
    if name == "elu" and params.get("alpha", 1.0) != 1.0:
        return [0.0]
    return []


def assert_keeps_the_rules(solutions: list[dict], decimals: int):
    """Every rule of section 11, checked on the written solutions."""
    unit = 10**decimals
    seen = set()
    for solution in solutions:
        problem = solution["problem"]
        for layer, activation in zip(solution["layers"], problem["activations"]):
            for kink in kink_points(activation):
                assert min(abs(u - kink) for u in layer["pre"]) > 0.05, problem["title"]
        out = problem["activations"][-1]
        if (out if isinstance(out, str) else out["name"]) in ("softmax", "sigmoid"):
            assert max(solution["output"]) <= 0.99, problem["title"]
        given = [problem["x"], problem["target"], *problem["weights"], *(problem["biases"] or [])]
        numbers = np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in given])
        assert np.all(np.abs(numbers - np.round(numbers * unit) / unit) <= 1e-12), numbers
        values = np.array(list(flat([solution["loss"], solution["output"], solution["layers"]])))
        assert np.all(np.isfinite(values)) and np.all(np.abs(values) <= 1e6)
        key = json.dumps([problem[k] for k in ("x", "target", "weights", "biases")])
        assert key not in seen, "two variants are the same"
        seen.add(key)


def flat(value):
    """Every number in a JSON value."""
    if isinstance(value, dict):
        for v in value.values():
            yield from flat(v)
    elif isinstance(value, list):
        for v in value:
            yield from flat(v)
    else:
        yield float(value)


def test_the_written_variants_keep_the_rules(class_of_30):
    top, _ = class_of_30
    solutions = [
        json.loads((top / "a" / f"{s}-solution.json").read_text(encoding="utf-8")) for s in STEMS
    ]
    assert_keeps_the_rules(solutions, 1)


@pytest.mark.parametrize("name", TEMPLATES)
@pytest.mark.parametrize("decimals", [0, 1, 2, 4])
def test_every_template_gives_variants_that_keep_the_rules(name, decimals):
    template = TEMPLATES[name]
    drawn = variants.draw(template, 30, seed=11, decimals=decimals)
    assert [v.number for v in drawn.variants] == list(range(1, 31))
    for v in drawn.variants:
        assert v.problem.layers == template.layers
        assert v.problem.activations == template.activations
        assert v.problem.loss == template.loss
        assert (v.problem.biases is None) == (template.biases is None)
        assert v.problem.learning_rate == template.learning_rate
    assert_keeps_the_rules([v.iteration.to_dict() for v in drawn.variants], decimals)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(TEMPLATES)),
    seed=st.integers(0, 2**64 - 1),
    decimals=st.integers(0, 3),
)
def test_any_seed_keeps_the_rules(name, seed, decimals):
    drawn = variants.draw(TEMPLATES[name], 5, seed, decimals)
    assert_keeps_the_rules([v.iteration.to_dict() for v in drawn.variants], decimals)
    again = variants.draw(TEMPLATES[name], 5, seed, decimals)
    assert [v.problem.to_json() for v in again.variants] == [
        v.problem.to_json() for v in drawn.variants
    ]


def test_the_rules_were_needed():
    """Without the redraws, the ReLU template would break them: the rules are not vacuous."""
    drawn = variants.draw(TEMPLATES["relu"], 30, seed=11, decimals=1)
    assert drawn.redrawn[variants.KINK] > 0
    assert variants.draw(TEMPLATES["seed"], 30, seed=7).redrawn[variants.PROBABILITY] > 0


def test_a_targets_kind_is_kept():
    kinds = {
        name: {tuple(v.problem.target.tolist()) for v in variants.draw(t, 30, 3).variants}
        for name, t in TEMPLATES.items()
    }
    assert kinds["seed"] == {(1.0, 0.0), (0.0, 1.0)}
    assert kinds["sigmoid"] <= {(a, b) for a in (0.0, 1.0) for b in (0.0, 1.0)}
    assert len(kinds["sigmoid"]) > 1
    regression = np.array(sorted(kinds["deep"]))  # the template's range, from -1 to 3
    assert regression.min() >= -1 and regression.max() <= 3 and len(regression) > 10
    soft = Problem.from_dict({**preset("seed").to_dict(), "target": [0.7, 0.3]})
    for v in variants.draw(soft, 10, 1, decimals=2).variants:
        assert abs(v.problem.target.sum() - 1) <= 1e-9 and np.all(v.problem.target >= 0)


def test_the_kinks():
    assert variants.kinks(Activation("relu")) == (0.0,)
    assert variants.kinks(Activation("leaky_relu")) == (0.0,)
    assert variants.kinks(Activation("elu", 0.5)) == (0.0,)
    assert variants.kinks(Activation("elu", 1.0)) == ()  # its slope is continuous at 0
    for name in ("sigmoid", "tanh", "identity", "softmax"):
        assert variants.kinks(Activation(name)) == ()


def test_a_long_title_is_cut_to_fit():
    template = Problem.from_dict({**preset("seed").to_dict(), "title": "é" * 200})
    drawn = variants.draw(template, 12, 1)
    for v in drawn.variants:
        assert len(v.problem.title) <= 200
        assert v.problem.title.endswith(f"… — variant {v.number}")
    untitled = Problem.from_dict({**preset("seed").to_dict(), "title": ""})
    assert variants.draw(untitled, 1, 1).variants[0].problem.title == "3-4-2 network — variant 1"


def test_a_template_that_cannot_keep_the_rules_is_refused():
    one = {**RELU, "layers": [2, 1], "activations": ["softmax"], "target": [1]}
    one["weights"] = [[[0.5, -0.3]]]
    with pytest.raises(variants.VariantError, match="softmax of one neuron"):
        variants.draw(Problem.from_dict(one), 3, 1)
    huge = Problem.from_dict(
        {**preset("seed").to_dict(), "weights": [[[900.0] * 3] * 4, [[900.0] * 4] * 2]}
    )
    with pytest.raises(variants.VariantError, match=r"output probability above 0\.99"):
        variants.draw(huge, 3, 1)
    tiny = {
        "layers": [1, 1],
        "activations": ["identity"],
        "loss": "squared_error",
        "x": [1],
        "target": [0.5],
        "weights": [[[1]]],
        "learning_rate": 0.5,
    }
    # x and w from -1 to 1, o* 0 or 1: 18 problems, no more
    with pytest.raises(variants.VariantError, match="only 18 different variants came"):
        variants.draw(Problem.from_dict(tiny), 19, 1, decimals=0)
    assert len(variants.draw(Problem.from_dict(tiny), 18, 1, decimals=0).variants) == 18


def test_a_template_that_cannot_keep_the_rules_exits_2(tmp_path):
    one = {**RELU, "layers": [2, 1], "activations": ["softmax"], "target": [1]}
    one["weights"] = [[[0.5, -0.3]]]
    path = write_json(tmp_path, "one.json", one)
    run = nnviz("generate", str(path), "--count", "3", "--seed", "1", "--out", str(tmp_path / "o"))
    assert run.returncode == 2 and run.stdout == "" and run.stderr.count("\n") == 1
    assert run.stderr.startswith(f"nnviz: {path}: the output layer is softmax of one neuron")
    assert not (tmp_path / "o").exists()  # nothing written


# --- the Moodle question bank -----------------------------------------------------------------

BLANK = re.compile(r"\{1:NUMERICAL:=([^:{}]+):([^#{}]+)#((?:[^\\{}]|\\.)*)\}")


def expected_answers(solution: dict) -> list[tuple[str, float]]:
    """What the bank asks, in the lecture's order, from the written solution: u, h, z, o, L,
    dL/dz, dL/du, then w_new and v_new (b_new after each W where there are biases)."""
    layers = solution["layers"]
    values = []
    for layer in layers:
        values += [*layer["pre"], *layer["post"]]
    values.append(solution["loss"])
    for layer in reversed(layers):
        values += layer["grad_pre"]
    for layer in reversed(layers):
        values += [v for row in layer["weights_new"] for v in row]
        values += layer.get("biases_new", [])
    return values


def test_the_moodle_bank_parses_and_has_a_question_a_variant(class_of_30):
    top, _ = class_of_30
    quiz = ET.parse(top / "a" / "quiz.xml").getroot()
    assert quiz.tag == "quiz"
    questions = quiz.findall("question")
    assert len(questions) == 30
    assert {q.get("type") for q in questions} == {"cloze"}
    for stem, q in zip(STEMS, questions):
        solution = json.loads((top / "a" / f"{stem}-solution.json").read_text(encoding="utf-8"))
        assert q.findtext("name/text") == solution["problem"]["title"]
        assert q.findtext("idnumber") == stem
        assert q.find("questiontext").get("format") == "html"
        text = q.findtext("questiontext/text")
        assert_answers(text, solution)
        for x in solution["problem"]["x"]:
            assert f"<td>{x:.1f}</td>" in text  # the problem's numbers, as written


def assert_answers(text: str, solution: dict):
    blanks = BLANK.findall(text)
    assert text.count("{") == len(blanks)  # no other brace for Cloze to misread
    expected = expected_answers(solution)
    assert len(blanks) == len(expected)
    for (value, tolerance, _), true in zip(blanks, expected):
        decimals = len(value.partition(".")[2])
        assert decimals == 6
        assert abs(float(value) - true) <= 0.5 * 10**-decimals * (1 + 1e-9)
        assert float(tolerance) == pytest.approx(max(1e-3, 1e-3 * abs(true)), rel=1e-5)


def test_the_moodle_bank_asks_for_the_biases_too():
    drawn = variants.draw(TEMPLATES["sigmoid"], 4, 1)
    quiz = ET.fromstring(moodle.quiz((f"v{v.number}", v.iteration) for v in drawn.variants))
    for v, q in zip(drawn.variants, quiz.findall("question")):
        assert_answers(q.findtext("questiontext/text"), v.iteration.to_dict())


HOSTILE = 'Quiz {1:NUMERICAL:=1:0} & <b>bold</b> ]]> #~/"\\ — η'


def test_cdata_holds_its_own_end():
    assert ET.fromstring(f"<t>{moodle._cdata('a]]>b]]>')}</t>").text == "a]]>b]]>"


def test_the_moodle_bank_escapes_a_title():
    """XML, HTML, CDATA and Cloze each see the title as text: the name reads back as typed,
    the question has no blank of the title's making, and a feedback's / is escaped."""
    template = Problem.from_dict({**preset("seed").to_dict(), "title": HOSTILE})
    v = variants.draw(template, 1, 1).variants[0]
    quiz = ET.fromstring(moodle.quiz([("id & <1>", v.iteration)]))
    q = quiz.find("question")
    assert q.findtext("name/text") == v.problem.title
    assert q.findtext("idnumber") == "id & <1>"
    text = q.findtext("questiontext/text")
    assert "&#123;1:NUMERICAL:=1:0&#125; &amp; &lt;b&gt;bold&lt;/b&gt; ]]&gt;" in text
    assert_answers(text, v.iteration.to_dict())
    feedback = [f for _, _, f in BLANK.findall(text)]
    assert r"dL\/dz_1 = " in " ".join(feedback)
    assert all(re.fullmatch(r'(?:[^}#~/"\\]|\\[}#~/"\\])*', f) for f in feedback)


# --- the roster -------------------------------------------------------------------------------


def test_each_student_gets_a_variant(class_of_30):
    top, _ = class_of_30
    text = (top / "a" / "roster.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0]) == ["student", "variant", "problem", "questions", "solution"]
    assert [r["student"] for r in rows] == STUDENTS
    assert [int(r["variant"]) for r in rows] == list(range(1, 26))  # all different
    for r in rows:
        stem = f"variant-{int(r['variant']):02d}"
        assert (r["problem"], r["questions"], r["solution"]) == (
            f"{stem}.json",
            f"{stem}-questions.tex",
            f"{stem}-solution.tex",
        )
        assert (top / "a" / r["problem"]).is_file()


def test_fewer_variants_than_students_go_round_robin(tmp_path):
    roster = tmp_path / "class.csv"
    roster.write_bytes(roster_bytes(STUDENTS[:5]))
    run = nnviz(
        "generate", str(SEED), "--count", "2", "--seed", "1", "--out", str(tmp_path / "o"),
        "--roster", str(roster),
    )  # fmt: skip
    assert run.returncode == 0
    assert "the variants shared round-robin" in run.stdout
    rows = list(csv.DictReader(io.StringIO((tmp_path / "o" / "roster.csv").read_text("utf-8"))))
    assert [(r["student"], r["variant"]) for r in rows] == list(
        zip(STUDENTS[:5], ["1", "2", "1", "2", "1"])
    )
    assert variants.assign(["a", "b", "c"], 5) == [("a", 1), ("b", 2), ("c", 3)]


def test_a_semicolon_roster_is_read(tmp_path):
    roster = tmp_path / "class.csv"
    roster.write_text("Name;Student\nx;Ann\ny;Bob\n", encoding="utf-8")
    run = nnviz(
        "generate", str(SEED), "--count", "2", "--seed", "1", "--out", str(tmp_path / "o"),
        "--roster", str(roster),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "o" / "roster.csv").read_text("utf-8")
    assert [r["student"] for r in csv.DictReader(io.StringIO(text))] == ["Ann", "Bob"]


BAD_ROSTERS = {
    "no student column": (
        b"name,email\nAnn,a@x\n",
        'has no \'student\' column; expected a header row naming one, not "name", "email"',
    ),
    "empty": (b"", "the file is empty; expected a CSV with a 'student' column"),
    "blank lines only": (b"\xef\xbb\xbf\r\n \r\n", "the file is empty"),
    "no students": (b"student\n\n\n", "has a header but no students"),
    "a student twice": (
        b'student\nAnn\n"Zhang, Wei"\nAnn\n',
        'the student "Ann" is on lines 2 and 4; expected each student once',
    ),
    "no name": (b"student,email\nAnn,a\n,b\n", "line 3 has no student name"),
    "not UTF-8": (b"student\nJos\xe9\n", "the file is not UTF-8 text; expected a CSV"),
    "NUL": (b"student\nA\x00n\n", 'line 2 has the student "A\\u0000n", with a character'),
    "a line break": (b'student\n"Ann\nSmith"\n', "line 3 has the student"),
    "a huge field": (b"student\n" + b"a" * 140_000, "not a CSV file (line 2: field larger"),
}


@pytest.mark.parametrize("content, message", BAD_ROSTERS.values(), ids=BAD_ROSTERS.keys())
def test_a_bad_roster_is_refused(content, message, tmp_path):
    roster = tmp_path / "class.csv"
    roster.write_bytes(content)
    run = nnviz(
        "generate", str(SEED), "--count", "3", "--seed", "1", "--out", str(tmp_path / "o"),
        "--roster", str(roster),
    )  # fmt: skip
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert run.stderr.startswith(f"nnviz: --roster {roster}")
    assert message in run.stderr
    assert not (tmp_path / "o").exists()


def test_a_missing_roster_is_refused(tmp_path):
    run = nnviz(
        "generate", str(SEED), "--count", "3", "--seed", "1", "--out", str(tmp_path / "o"),
        "--roster", str(tmp_path / "missing.csv"),
    )  # fmt: skip
    assert run.returncode == 2
    assert run.stderr == (
        f"nnviz: --roster {tmp_path / 'missing.csv'}: cannot read the file: "
        "No such file or directory\n"
    )


# --- the LaTeX sheets -------------------------------------------------------------------------


def test_the_written_sheets_compile(class_of_30, pdflatex, tmp_path):
    top, _ = class_of_30
    for end in ("-questions.tex", "-solution.tex"):
        source = (top / "a" / f"variant-07{end}").read_text(encoding="utf-8")
        log = compile_latex(pdflatex, tmp_path / end.strip("-."), source)
        assert "Missing character" not in log


WIDE = {  # 25 inputs: past a matrix of 20 columns, and the question sheet wraps x and v's rows
    "layers": [25, 3, 2],
    "activations": ["tanh", "softmax"],
    "loss": "cross_entropy",
    "x": [0.5] * 25,
    "target": [1, 0],
    "weights": [[[0.3] * 25] * 3, [[0.5, -0.5, 0.5]] * 2],
    "biases": [[0.1] * 3, [0.0] * 2],
    "learning_rate": 0.1,
}


@pytest.mark.parametrize(
    "template",
    [
        TEMPLATES["sigmoid"],
        TEMPLATES["deep"],
        Problem.from_dict(WIDE),
        Problem.from_dict({**preset("seed").to_dict(), "title": HOSTILE}),
    ],
    ids=["sigmoid", "deep", "wide", "hostile-title"],
)
def test_the_sheets_compile_for_any_template(template, pdflatex, tmp_path):
    v = variants.draw(template, 1, 5, decimals=2).variants[0]
    sheet = worksheet.questions(v.problem, 2)
    assert (r"\noindent $x = (" in sheet) == (template.layers[0] > worksheet.WIDE)
    compile_latex(pdflatex, tmp_path / "questions", sheet)
    compile_latex(pdflatex, tmp_path / "solution", worksheet.latex(v.iteration))


def test_the_question_sheet_gives_the_numbers_and_no_answers():
    v = variants.draw(TEMPLATES["sigmoid"], 1, 2, decimals=2).variants[0]
    sheet = worksheet.questions(v.problem, 2)
    assert sheet.startswith(worksheet.PREAMBLE) and sheet.rstrip().endswith(r"\end{document}")
    assert rf"\title{{Questions: {worksheet._escape(v.problem.title)}}}" in sheet
    numbers = sheet[sheet.index(r"\section*{The numbers}") : sheet.index("What to work out")]
    written = re.findall(r"-?\d+\.\d+", numbers)
    count = sum(a.size for a in (v.problem.x, v.problem.target, *v.problem.weights))
    count += sum(b.size for b in v.problem.biases)
    assert len(written) == count
    assert all(len(w.partition(".")[2]) == 2 for w in written)  # exactly, as multiples of 0.01
    p = v.problem
    order = [p.x, p.target, p.weights[0], p.biases[0], p.weights[1], p.biases[1]]
    given = np.concatenate([a.ravel() for a in order])
    assert [float(w) for w in written] == given.tolist()
    assert r"\eta = 0.5" in sheet and r"\mathcal{L} = -\sum_k" in sheet
    for phase in ("The forward pass", "The loss", "The backward pass", "The update"):
        assert rf"\item \textbf{{{phase}.}}" in sheet
    for a in flat(v.iteration.to_dict()["layers"]):
        assert f"{a:.4f}" not in sheet  # no answer, to the worked solution's decimals


def test_the_question_sheet_writes_the_seed_as_it_is_written():
    sheet = worksheet.questions(preset("seed"))
    assert r"x = \begin{bmatrix} 1.0 & 1.5 & -0.5 \end{bmatrix}^T" in sheet
    assert r"-1.0 & 2.0 & 0.0 \\ 0.5 & -1.0 & 1.0" in sheet
    assert worksheet.decimals(preset("seed")) == 1
    assert worksheet.decimals(preset("tutorial")) == 2
    assert worksheet.exact(0.00001) == "0.00001" and worksheet.exact(-0.0) == "0"


# --- bad input --------------------------------------------------------------------------------

WHOLE = "expected a whole number from"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--count", "0"], f"argument --count: {WHOLE} 1 to 10000, not '0'"),
        (["--count", "10001"], f"argument --count: {WHOLE} 1 to 10000, not '10001'"),
        (["--count", "2.5"], f"argument --count: {WHOLE} 1 to 10000, not '2.5'"),
        (["--seed", "-1"], f"argument --seed: {WHOLE} 0 to 2^64 - 1, not '-1'"),
        (["--seed", "1" * 40], f"argument --seed: {WHOLE} 0 to 2^64 - 1"),
        (["--decimals", "5"], f"argument --decimals: {WHOLE} 0 to 4, not '5'"),
        (["--decimals", "-1"], f"argument --decimals: {WHOLE} 0 to 4, not '-1'"),
        (["--template", "x"], "unrecognized arguments"),
    ],
)
def test_bad_options_are_one_line(args, message, tmp_path):
    base = {"--count": "3", "--seed": "1", "--decimals": "1"}
    options = dict(zip(args[::2], args[1::2]))
    merged = [a for k, v in {**base, **options}.items() for a in (k, v)]
    run = nnviz("generate", str(SEED), *merged, "--out", str(tmp_path / "o"))
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("nnviz: ")
    assert message in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "o").exists()


def test_bad_files_are_one_line(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    solution = tmp_path / "solution.json"
    solution.write_text(nnviz("solve", "--format", "json").stdout)
    out = str(tmp_path / "o")
    cases = [
        ([str(tmp_path / "missing.json")], "missing.json: cannot read the file: No such file"),
        ([str(solution)], "solution.json: this is a solution, not a problem"),
        ([str(tmp_path)], "cannot read the file:"),
        ([str(SEED), "--out", str(a_file)], f"--out {a_file} is a file; expected a folder"),
        (
            [str(SEED), "--out", str(a_file / "sub")],
            f"cannot make the folder {a_file / 'sub'}: Not a directory",
        ),
        ([str(SEED), "--moodle", str(tmp_path)], f"--moodle {tmp_path} is a folder"),
        ([str(SEED), "--moodle", str(a_file / "q.xml")], f"q.xml: {a_file} is not a folder"),
        ([str(SEED), "--out", out, "--out"], "argument --out: expected one argument"),
    ]
    for args, message in cases:
        if "--out" not in args:
            args = [*args, "--out", out]
        run = nnviz("generate", *args, "--count", "2", "--seed", "1")
        assert run.returncode == 2 and run.stdout == "", (args, run.stderr)
        assert run.stderr.count("\n") == 1 and run.stderr.startswith("nnviz: ")
        assert message in run.stderr and "Traceback" not in run.stderr, run.stderr


def test_required_options_are_named():
    for missing, args in (
        ("--count", ["--seed", "1", "--out", "o"]),
        ("--seed", ["--count", "1", "--out", "o"]),
        ("--out", ["--count", "1", "--seed", "1"]),
    ):
        run = nnviz("generate", str(SEED), *args)
        assert run.returncode == 2
        assert f"the following arguments are required: {missing}" in run.stderr


def test_an_existing_folder_is_written_into(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    run = nnviz("generate", str(SEED), "--count", "1", "--seed", "1", "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["notes.txt", *(f"variant-1{end}" for end in FILE_ENDS)]
    )
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_the_console_script_runs_generate(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(
        sys, "argv", ["nnviz", "generate", str(SEED), "--count", "2", "--seed", "3", "--out"]
    )
    assert cli.console() == 2
    assert capsys.readouterr().err == (
        "nnviz: argument --out: expected one argument (see nnviz --help)\n"
    )
    monkeypatch.setattr(sys, "argv", [*sys.argv, str(tmp_path / "o")])
    assert cli.console() == 0
    assert capsys.readouterr().out.startswith("Wrote 2 variants of")
    assert (tmp_path / "o" / "variant-2-solution.tex").is_file()


def test_help_lists_generate_and_its_options():
    assert "generate" in nnviz("--help").stdout
    run = nnviz("generate", "--help")
    assert run.returncode == 0
    for option in ("TEMPLATE.json", "--count N", "--seed S", "--out FOLDER", "--decimals D"):
        assert option in run.stdout
    assert "--roster ROSTER.csv" in run.stdout and "--moodle QUIZ.xml" in run.stdout
    assert "round-robin" in run.stdout
