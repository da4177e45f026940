"""The command line (shared spec, sections 7 and 11): `nnviz` or `python -m nnviz`, with solve,
check, train and generate, and `nnviz app` for the Streamlit app.

Apart from `app`, it imports only the NumPy core, so that it starts fast enough to be scripted
over hundreds of problems. Bad input exits with status 2 and one line on standard error, never a
traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import errno
import functools
import io
import math
import os
import sys
from dataclasses import replace

import numpy as np

from nnviz.core.engine import Iteration, iterate
from nnviz.core.notation import element_name, layer_symbols, number, significant
from nnviz.core.problem import Problem, ProblemError, describe, dumps, load, preset, read_file
from nnviz.core.text import clip
from nnviz.core.training import MAX_ITERATIONS, Training, train
from nnviz.files import moodle
from nnviz.teaching import variants, worksheet
from nnviz.teaching.grading import ATOL, RTOL, Tolerance, mark, read_answers
from nnviz.teaching.quantities import plan, value_of
from nnviz.teaching.reading import TEXT_SUFFIXES, read_text


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, command: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.command = command  # `nnviz` or `python -m nnviz`, for the messages

    def error(self, message):  # one line, not argparse's usage block
        raise UsageError(f"{message} (see {self.command} --help)")


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        command=prog,
        description="Solve, mark and train a small neural-network problem, number by number, "
        "and make variants of it for a class.",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=functools.partial(_Parser, command=prog)
    )
    commands.add_parser(
        "app",
        help="the Streamlit app, as `streamlit run app.py` starts it; any further options "
        "(such as --server.port 8502) are Streamlit's",
        add_help=False,
    )
    solve = commands.add_parser(
        "solve",
        help="one training step: forward pass, loss, backward pass, update",
        description="Write every value of one training step. Without PROBLEM.json, the "
        "seed problem.",
    )
    solve.add_argument("problem", nargs="?", metavar="PROBLEM.json")
    solve.add_argument(
        "--format",
        choices=["json", "text", "markdown", "latex"],
        default="text",
        help="json: the nnviz-solution/1 format at full precision; "
        "text (default): a table for people; markdown, latex: the worked solution",
    )
    check = commands.add_parser(
        "check",
        help="mark a student's answers: correct, carried forward, or wrong",
        description="Mark an answer sheet (nnviz-answers/1), or a worked answer written as "
        "plain text, Markdown or LaTeX (.txt, .md, .tex). A wrong answer that follows from "
        "the student's own earlier answers is marked carried, as exams are marked.",
    )
    check.add_argument("answers", metavar="ANSWERS.(json|txt|md|tex) or FOLDER")
    check.add_argument(
        "--gradebook",
        metavar="GRADES.csv",
        help="with a FOLDER: mark every sheet in it and write one CSV row per sheet",
    )
    check.add_argument(
        "--problem",
        metavar="PROBLEM.json",
        help="the problem of a sheet that carries none, and of a text answer (default: the seed)",
    )
    check.add_argument(
        "--tolerance",
        choices=["abs", "digits"],
        help="abs: within max(atol, rtol |expected|); digits: right to the decimals the student "
        "wrote. Default: the sheet's own, else abs",
    )
    check.add_argument(
        "--min-decimals",
        type=int,
        metavar="D",
        help="with digits: an answer needs at least D decimals (default 0)",
    )
    check.add_argument("--atol", type=float, help=f"with abs (default {ATOL})")
    check.add_argument("--rtol", type=float, help=f"with abs (default {RTOL})")
    check.add_argument(
        "--format",
        choices=["json", "text", "markdown", "latex"],
        default="text",
        help="json: the nnviz-check/1 report; text (default): a marking sheet; markdown, "
        "latex: the marking sheet to print, with each wrong answer's working typeset",
    )
    training = commands.add_parser(
        "train",
        help="many iterations of gradient descent, with the loss before each update",
        description="Gradient descent on the problem's one example with its learning rate, for "
        "N iterations or until the loss falls below T. It stops early, keeping the last good "
        "weights, if an update would take a weight beyond 1e6. Without PROBLEM.json, the seed "
        "problem.",
    )
    training.add_argument("problem", nargs="?", metavar="PROBLEM.json")
    training.add_argument(
        "--iterations", type=_iterations, required=True, metavar="N", help=f"1 to {MAX_ITERATIONS}"
    )
    training.add_argument(
        "--stop-below",
        type=_finite,
        metavar="T",
        help="stop as soon as the loss before an update is below T",
    )
    training.add_argument(
        "--format",
        choices=["json", "text"],
        default="text",
        help="json: the nnviz-training/1 format at full precision; text (default): a summary",
    )
    generate = commands.add_parser(
        "generate",
        help="variants of a problem for a class, with question sheets, worked solutions, a "
        "roster and a Moodle quiz",
        description="Write N variants of the template's network: the same layers, activations, "
        "loss, biases (or none), learning rate and kind of target, with new inputs, weights, "
        "biases and targets, each a multiple of 10^-D. A variant is drawn again until no "
        f"pre-activation is within {variants.KINK_MARGIN:g} of a kink of its activation, no "
        f"output probability is above {variants.MAX_PROBABILITY:g}, every value of its worked "
        "step is within the format's range, and it differs from every other. For each variant "
        "FOLDER gets variant-K.json (the problem), variant-K-solution.json (as solve --format "
        "json writes it), variant-K-questions.tex (the question sheet) and "
        "variant-K-solution.tex (the worked solution), K zero-padded to the width of N. The "
        "same --seed gives the same variants on every machine.",
    )
    generate.add_argument(
        "template", metavar="TEMPLATE.json", help="the problem whose network the variants share"
    )
    generate.add_argument(
        "--count",
        type=_whole(1, variants.MAX_COUNT),
        required=True,
        metavar="N",
        help=f"how many variants, 1 to {variants.MAX_COUNT}",
    )
    generate.add_argument(
        "--seed",
        type=_whole(0, MAX_SEED),
        required=True,
        metavar="S",
        help="a whole number from 0 to 2^64 - 1: the same seed, the same variants",
    )
    generate.add_argument(
        "--out",
        required=True,
        metavar="FOLDER",
        help="where the files go; made if missing, and written into (replacing files of the "
        "same names) if not",
    )
    generate.add_argument(
        "--decimals",
        type=_whole(0, variants.MAX_DECIMALS),
        default=1,
        metavar="D",
        help=f"0 to {variants.MAX_DECIMALS}: the numbers are multiples of 10^-D (default 1)",
    )
    generate.add_argument(
        "--roster",
        metavar="ROSTER.csv",
        help="a CSV with a 'student' column: each student gets one variant, in the roster's "
        "order (with fewer variants than students they are shared round-robin: student k gets "
        "variant ((k - 1) mod N) + 1), and FOLDER/roster.csv says who has which",
    )
    generate.add_argument(
        "--moodle",
        metavar="QUIZ.xml",
        help="also write a Moodle XML question bank: one Cloze question per variant, asking for "
        "the forward pass, the loss, dL/du and the updated weights and biases, each right "
        f"within max({ATOL:g}, {RTOL:g} |value|) as check marks it",
    )
    return parser


MAX_SEED = 2**64 - 1


def _whole(low: int, high: int):
    """An argparse type: a whole number from low to high."""

    def whole(text: str) -> int:
        try:
            n = int(text) if len(text) <= 30 else None
        except ValueError:
            n = None
        if n is None or not low <= n <= high:
            span = f"from {low} to {'2^64 - 1' if high == MAX_SEED else high}"
            raise argparse.ArgumentTypeError(f"expected a whole number {span}, not {text!r}")
        return n

    return whole


def _iterations(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = None
    if n is None or not 1 <= n <= MAX_ITERATIONS:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from 1 to {MAX_ITERATIONS}, not {text!r}"
        )
    return n


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, not {text!r}")
    return value


def solution_text(p: Iteration) -> str:
    """Every quantity of one step, in the lecture's order, as aligned rows of numbers."""
    lecture = plan(p.problem)
    sections = {
        "given": "Given",
        "forward": "Forward pass",
        "loss": "Loss",
        "backward": "Backward pass",
        "update": f"Update (learning rate {p.problem.learning_rate:g})",
    }
    rows: list[tuple[str, object]] = []
    section = None
    for q in lecture.quantities:
        phase = "given" if q.step is None else lecture.boards[q.step].phase
        if phase != section:
            rows.append((sections[phase], None))
            section = phase
        rows.append((q.name, value_of(p, q.key)))
    return "\n".join(_heading(p.problem) + _aligned(rows)) + "\n"


def training_text(t: Training) -> str:
    """A run in a few lines: how it ended, the loss at iterations 1, 10, 100, ... and the last,
    and the weights it ended on."""
    problem = t.final
    start_loss = t.loss[0] if t.iterations_run else t.final_loss
    lines = [
        *_heading(problem),
        f"learning rate {problem.learning_rate:g}",
        f"iterations run: {t.iterations_run}",
        f"stopped: {t.stopped}" + (f". {t.message}" if t.message else ""),
        f"loss at the start: {_loss(start_loss)}",
        f"final loss: {_loss(t.final_loss)}",
    ]
    shown = [10**e for e in range(len(str(t.iterations_run))) if 10**e < t.iterations_run]
    shown += [t.iterations_run] if t.iterations_run else []
    if shown:
        lines += ["", "Loss before the update of iteration"]
        width = len(str(shown[-1]))
        lines += [f"  {i:>{width}}  {_loss(t.loss[i - 1])}" for i in shown]
    rows: list[tuple[str, object]] = [("Final weights", None)]
    for l, s in enumerate(layer_symbols(problem.layers)):
        rows.append((s.weights, problem.weights[l]))
        if problem.biases is not None:
            rows.append((s.biases, problem.biases[l]))
    return "\n".join(lines + _aligned(rows)) + "\n"


def _loss(value: float) -> str:
    """Six digits; a loss of -0.0 (an output that is certain and right) reads 0."""
    return significant(value, 6)


def _heading(problem: Problem) -> list[str]:
    lines = [problem.title] if problem.title else []
    acts = ", ".join(str(a) for a in problem.activations)
    lines.append(
        f"layers {'-'.join(map(str, problem.layers))}; activations {acts}; "
        f"loss {problem.loss.name}; "
        f"{'with' if problem.biases is not None else 'no'} biases"
    )
    return lines


def _aligned(rows: list[tuple[str, object]]) -> list[str]:
    """Sections (label, None) and rows of numbers (label, value), to six decimals, aligned."""
    label_width = max(len(label) for label, value in rows if value is not None)
    cells = {
        label: [[number(float(v), 6) for v in row] for row in np.atleast_2d(value)]
        for label, value in rows
        if value is not None
    }
    width = max(len(c) for m in cells.values() for row in m for c in row)
    lines = []
    for label, value in rows:
        if value is None:
            lines += ["", label]
            continue
        for i, row in enumerate(cells[label]):
            head = f"{label:<{label_width}} =" if i == 0 else " " * (label_width + 2)
            lines.append(f"  {head} " + " ".join(c.rjust(width) for c in row))
    return lines


def console() -> int:
    """The `nnviz` console script."""
    return main(prog="nnviz")


def main(argv=None, prog: str = "python -m nnviz") -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["app"]:
        return _app(argv[1:], prog)
    try:
        args = _parser(prog).parse_args(argv)
        commands = {"solve": _solve, "check": _check, "train": _train, "generate": _generate}
        _write(commands[args.command](args))
    except UsageError as e:
        _complain(f"nnviz: {e}")
        return 2
    except BrokenPipeError:  # the reader left, as `head` does: not an error
        _drop_output()
        return 0
    except OSError as e:
        _drop_output()
        _complain(f"nnviz: cannot write the output: {e.strerror or e}")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _app(options: list[str], prog: str) -> int:
    """`streamlit run` on the package's own copy of the app, so that it runs from any folder and
    reads the package's .streamlit/config.toml, beside the script. Streamlit exits itself."""
    from importlib import resources

    from streamlit.web import cli as streamlit

    with resources.as_file(resources.files("nnviz") / "webapp" / "streamlit_app.py") as script:
        streamlit.main_run.main(
            [str(script), *options], prog_name=f"{prog} app", auto_envvar_prefix="STREAMLIT"
        )
    return 0


def _shown(path: str) -> str:
    return path if path.isprintable() else repr(path)


def _load(path: str | None) -> Problem:
    try:
        return preset("seed") if path is None else load(path)
    except ProblemError as e:
        raise UsageError(f"{_where(path)}: {e}") from None


def _where(path: str | None) -> str:
    return "the seed problem" if path is None else _shown(path)


def _solve(args) -> str:
    result = iterate(_load(args.problem))
    return {
        "json": lambda: dumps(result.to_dict()) + "\n",
        "text": lambda: solution_text(result),
        "markdown": lambda: worksheet.markdown(result),
        "latex": lambda: worksheet.latex(result),
    }[args.format]()


def _train(args) -> str:
    problem = _load(args.problem)
    try:
        result = train(problem, args.iterations, args.stop_below)
    except ValueError as e:  # a start no file can hold; the options are checked above
        raise UsageError(f"{_where(args.problem)}: {e}") from None
    return dumps(result.to_dict()) + "\n" if args.format == "json" else training_text(result)


def _check(args) -> str:
    tolerance = _tolerance(args)
    problem = None if args.problem is None else _load(args.problem)
    if os.path.isdir(args.answers):
        return _gradebook(args, problem, tolerance)
    if args.gradebook is not None:
        raise UsageError(f"--gradebook marks a folder; {_shown(args.answers)} is a file")
    try:
        sheet, reading = _sheet(args.answers, problem)
    except ProblemError as e:
        raise UsageError(f"{_shown(args.answers)}: {e}") from None
    report = mark(sheet, tolerance=tolerance)
    if args.format == "json":
        if reading is not None:  # the report stays nnviz-check/1; what was read goes beside it
            sys.stderr.write(reading_text(reading))
        return dumps(report.to_dict()) + "\n"
    if args.format in ("markdown", "latex"):
        if reading is not None:
            sys.stderr.write(reading_text(reading))
        marked = worksheet.marked_markdown if args.format == "markdown" else worksheet.marked_latex
        return marked(replace(sheet, tolerance=report.tolerance), report)
    return (reading_text(reading) + "\n" if reading else "") + marking_text(sheet, report)


def _sheet(path: str, problem: Problem | None):
    """An answer sheet from a file, JSON or text, and what the text gave (None for JSON)."""
    data = read_file(path, "an answer sheet file")
    if os.path.splitext(path)[1].lower() in TEXT_SUFFIXES:
        reading = read_text(data, problem or preset("seed"))
        return reading.sheet, reading
    return read_answers(data, problem), None


GRADEBOOK = ("file", "student", "graded", "correct", "carried", "wrong", "score", "error")


def _gradebook(args, problem: Problem | None, tolerance: Tolerance | None) -> str:
    """Every sheet in the folder marked, a CSV row each; one that cannot be read gets its row
    with the reason, and the others are still marked."""
    if args.gradebook is None:
        raise UsageError(
            f"{_shown(args.answers)} is a folder: add --gradebook GRADES.csv to mark every sheet"
        )
    names = sorted(
        n
        for n in os.listdir(args.answers)
        if not n.startswith(".")
        and os.path.splitext(n)[1].lower() in (".json", *TEXT_SUFFIXES)
        and os.path.isfile(os.path.join(args.answers, n))
    )
    rows = []
    for name in names:
        row = dict.fromkeys(GRADEBOOK, "")
        row["file"] = name
        try:
            sheet, _ = _sheet(os.path.join(args.answers, name), problem)
        except ProblemError as e:
            row["error"] = str(e)
        else:
            s = mark(sheet, tolerance=tolerance).summary()
            row.update(s, student=sheet.student or "")
            if s["graded"]:
                row["score"] = f"{(s['correct'] + s['carried']) / s['graded']:.4f}"
        rows.append(row)
    try:
        with open(args.gradebook, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, GRADEBOOK)
            writer.writeheader()
            writer.writerows(rows)
    except OSError as e:
        raise UsageError(f"cannot write {_shown(args.gradebook)}: {e.strerror or e}") from None
    bad = sum(bool(r["error"]) for r in rows)
    return (
        f"Marked {len(rows) - bad} of {len(rows)} sheets into {args.gradebook}"
        + (f"; {bad} could not be read, their rows say why" if bad else "")
        + ".\n"
    )


# --- generate ---------------------------------------------------------------------------------

ROSTER_COLUMNS = ("student", "variant", "problem", "questions", "solution")


def _generate(args) -> str:
    """Every variant is drawn, and the roster read, before a file is written: bad input or a
    template that cannot keep the rules leaves FOLDER as it was."""
    template = _load(args.template)
    students = None if args.roster is None else _roster(args.roster)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out {_shown(args.out)} is a file; expected a folder")
    if args.moodle is not None and os.path.isdir(args.moodle):
        raise UsageError(f"--moodle {_shown(args.moodle)} is a folder; expected a file name")
    if args.moodle is not None:  # found now, before FOLDER is written
        folder = os.path.abspath(os.path.dirname(args.moodle) or ".")
        if not os.path.isdir(folder) and folder != os.path.abspath(args.out):
            raise UsageError(
                f"--moodle {_shown(args.moodle)}: {_shown(folder)} is not a folder; expected the "
                "file in one that exists (or in --out)"
            )
    try:
        drawn = variants.draw(template, args.count, args.seed, args.decimals)
    except variants.VariantError as e:
        raise UsageError(f"{_shown(args.template)}: {e}") from None
    width = len(str(args.count))
    names = {v.number: f"variant-{v.number:0{width}d}" for v in drawn.variants}
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot make the folder {_shown(args.out)}: {e.strerror or e}") from None
    for v in drawn.variants:
        stem = os.path.join(args.out, names[v.number])
        _save(f"{stem}.json", v.problem.to_json() + "\n")
        _save(f"{stem}-solution.json", dumps(v.iteration.to_dict()) + "\n")
        _save(f"{stem}-questions.tex", worksheet.questions(v.problem, args.decimals))
        _save(f"{stem}-solution.tex", worksheet.latex(v.iteration))
    if students is not None:
        assigned = variants.assign(students, args.count)
        _save(os.path.join(args.out, "roster.csv"), _roster_csv(assigned, names))
    if args.moodle is not None:
        bank = moodle.quiz(((names[v.number], v.iteration) for v in drawn.variants), args.decimals)
        _save(args.moodle, bank)
    return _generated(args, template, drawn, names, students)


def _save(path: str, content: str) -> None:
    try:
        with open(path, "wb") as f:
            f.write(content.encode("utf-8"))
    except OSError as e:
        raise UsageError(f"cannot write {_shown(path)}: {e.strerror or e}") from None


def _generated(args, template, drawn, names, students) -> str:
    """What was written, in a few lines."""
    last = names[args.count].removeprefix("variant-")
    name = template.heading
    lines = [
        f'Wrote {args.count} variant{"s" * (args.count > 1)} of "{name}" into {_shown(args.out)} '
        f"(seed {args.seed}, numbers to {args.decimals} decimal{'s' * (args.decimals != 1)}).",
        "Files for each variant K: variant-K.json (the problem), variant-K-solution.json, "
        f"variant-K-questions.tex, variant-K-solution.tex; K = {names[1].removeprefix('variant-')}"
        + (f" to {last}." if args.count > 1 else "."),
    ]
    if drawn.redrawn:
        counts = ", ".join(
            f"{drawn.redrawn[r]} for {variants.REASONS[r]}"
            for r in variants.REASONS
            if drawn.redrawn[r]
        )
        lines.append(f"Redrawn to keep the rules: {counts}.")
    if students is not None:
        shared = len(students) > args.count
        lines.append(
            f"Roster: {len(students)} student{'s' * (len(students) != 1)} in "
            f"{_shown(os.path.join(args.out, 'roster.csv'))}"
            + (", the variants shared round-robin." if shared else ", one variant each.")
        )
    if args.moodle is not None:
        lines.append(f"Moodle: {args.count} Cloze questions in {_shown(args.moodle)}.")
    return "\n".join(lines) + "\n"


MAX_STUDENTS = variants.MAX_COUNT


def _roster(path: str) -> list[str]:
    """The students of a roster CSV, in its order: the column headed `student` (in any case),
    after an optional BOM; blank lines are skipped, and a name may be quoted, with commas
    inside. A header with no comma but a semicolon or a tab (as a spreadsheet in some locales
    saves it) is split on that. Refused: no such column, no students, an empty name, a name
    that is not one line of printable text, a name twice (two students of one name could not
    tell their variants apart)."""
    where = f"--roster {_shown(path)}"
    try:
        data = read_file(path, "a roster")
    except ProblemError as e:
        raise UsageError(f"{where}: {e}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{where}: the file is not UTF-8 text; expected a CSV") from None
    head = next((line for line in text.splitlines() if line.strip()), None)
    if head is None:
        raise UsageError(
            f"{where}: the file is empty; expected a CSV with a 'student' column and a row for "
            "each student"
        )
    delimiter = next((d for d in ",;\t" if d in head), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    column, students, seen = None, [], {}
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if column is None:
                column = _student_column(where, row)
                continue
            name = row[column].strip() if column < len(row) else ""
            if not name:
                raise UsageError(f"{where}: line {reader.line_num} has no student name")
            if not name.isprintable():
                raise UsageError(
                    f"{where}: line {reader.line_num} has the student {describe(name)}, with a "
                    "character that cannot be shown; expected a name on one line"
                )
            if name in seen:
                raise UsageError(
                    f"{where}: the student {describe(name)} is on lines {seen[name]} and "
                    f"{reader.line_num}; expected each student once"
                )
            seen[name] = reader.line_num
            students.append(name)
    except csv.Error as e:
        raise UsageError(f"{where}: not a CSV file (line {reader.line_num}: {e})") from None
    if not students:
        raise UsageError(f"{where} has a header but no students")
    if len(students) > MAX_STUDENTS:
        raise UsageError(f"{where} has {len(students)} students; expected at most {MAX_STUDENTS}")
    return students


def _student_column(where: str, header: list[str]) -> int:
    names = [cell.strip().lower() for cell in header]
    if "student" not in names:
        found = ", ".join(describe(c) for c in header[:6]) + (", …" * (len(header) > 6))
        raise UsageError(
            f"{where} has no 'student' column; expected a header row naming one, not {found}"
        )
    return names.index("student")


def _roster_csv(assigned: list[tuple[str, int]], names: dict[int, str]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(ROSTER_COLUMNS)
    for student, k in assigned:
        stem = names[k]
        writer.writerow(
            [student, k, f"{stem}.json", f"{stem}-questions.tex", f"{stem}-solution.tex"]
        )
    return out.getvalue()


def reading_text(reading) -> str:
    """What a text answer gave, symbol by symbol, and what was left out and why."""
    lines = [f"{reading.headline()}:"]
    width = max((len(r.symbol) for r in reading.read), default=1)
    lines += [f"  line {r.line:<4} {r.symbol:<{width}} = {clip(r.text, 70)}" for r in reading.read]
    if reading.skipped:
        lines.append("Skipped:")
        lines += [
            f"  line {line:<4} {clip(text, 60)}: {why}" for line, text, why in reading.skipped
        ]
    return "\n".join(lines) + "\n"


def _tolerance(args) -> Tolerance | None:
    """The tolerance the options ask for; None where they ask for none: the sheet's own, else
    the default."""
    for name in ("atol", "rtol"):
        value = getattr(args, name)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise UsageError(f"--{name} is {value}; expected a number >= 0")
    absolute = args.atol is not None or args.rtol is not None
    if args.tolerance == "digits" or (args.tolerance is None and args.min_decimals is not None):
        if absolute:
            raise UsageError("--atol and --rtol are for --tolerance abs, not digits")
        d = 0 if args.min_decimals is None else args.min_decimals
        if not 0 <= d <= 15:
            raise UsageError(f"--min-decimals is {d}; expected a whole number from 0 to 15")
        return Tolerance(min_decimals=d)
    if args.min_decimals is not None:
        raise UsageError("--min-decimals is for --tolerance digits, not abs")
    if args.tolerance == "abs" or absolute:
        return Tolerance(
            ATOL if args.atol is None else args.atol, RTOL if args.rtol is None else args.rtol
        )
    return None


def marking_text(sheet, report) -> str:
    """The marking sheet: a line for each answer, and for each mistake what was expected."""
    lines = [
        sheet.problem.title or "Marking sheet",
        f"tolerance: {report.tolerance}",
        report.headline(),
        "",
    ]
    width = max((len(element_name(i.symbol, i.index)) for i in report.items), default=1)
    for i in report.items:
        name = element_name(i.symbol, i.index)
        line = f"  {name:<{width}} = {i.given:<10g} {i.status:<8}"
        if i.status == "wrong":
            line += f" expected {number(i.expected, 4)}"
            if i.note:
                line += f"\n  {'':<{width}}   working: {i.note}"
        elif i.status == "carried":
            line += f" expected {number(i.expected, 4)}, but {i.note}"
        lines.append(line.rstrip())
    return "\n".join(lines) + "\n"


def _write(text: str) -> None:
    """UTF-8 whatever the locale says: JSON is UTF-8, and a title may not be ASCII."""
    if sys.stdout is None:
        raise OSError(errno.EBADF, "standard output is closed")
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode())
    sys.stdout.buffer.flush()


def _complain(line: str) -> None:
    if sys.stderr is not None:
        sys.stderr.write(
            line.encode(sys.stderr.encoding or "utf-8", "backslashreplace").decode(
                sys.stderr.encoding or "utf-8"
            )
            + "\n"
        )


def _drop_output() -> None:
    """Point stdout at /dev/null, so that Python's own last flush has nowhere to fail."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
