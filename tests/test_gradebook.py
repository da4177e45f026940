"""Marking a course's folder of answer sheets into a gradebook (spec section 11): a CSV row per
sheet, and a sheet that cannot be read gets its row with the reason while the rest are
marked."""

import csv
import json
import subprocess
import sys
from pathlib import Path

from nnviz.core.problem import preset

ROOT = Path(__file__).resolve().parent.parent


def nnviz(*args):
    return subprocess.run(
        [sys.executable, "-m", "nnviz", *map(str, args)], capture_output=True, text=True
    )


def test_a_folder_is_marked_into_a_gradebook_and_a_bad_sheet_says_why(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    seed_sheet = json.loads((ROOT / "examples" / "seed-answers.json").read_text())
    (folder / "ada.json").write_text(json.dumps({**seed_sheet, "student": "Ada Lovelace"}))
    (folder / "alan.txt").write_bytes((ROOT / "examples" / "seed-answer.txt").read_bytes())
    (folder / "cut.json").write_text(json.dumps(seed_sheet)[:-20])
    (folder / "binary.tex").write_bytes(b"\xff\xfe\x00")
    full = {"answers": {"u": [2, -1.5, 4.7, 0.2]}, "student": "Grace"}
    (folder / "grace.json").write_text(json.dumps(full))
    (folder / "notes.png").write_bytes(b"\x89PNG")  # not a sheet: not read
    (folder / ".hidden.json").write_text("{")
    grades = tmp_path / "grades.csv"
    run = nnviz("check", folder, "--gradebook", grades)
    assert run.returncode == 0, run.stderr
    assert run.stdout == (
        f"Marked 3 of 5 sheets into {grades}; 2 could not be read, their rows say why.\n"
    )
    with grades.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["file"] for r in rows] == [
        "ada.json",
        "alan.txt",
        "binary.tex",
        "cut.json",
        "grace.json",
    ]
    ada, alan, binary, cut, grace = rows
    # the seed's answer: 29 correct and 1 carried of 43, by its JSON and by its text alike
    for row in (ada, alan):
        assert (row["graded"], row["correct"], row["carried"], row["wrong"]) == (
            "43",
            "29",
            "1",
            "13",
        )
        assert row["score"] == f"{30 / 43:.4f}" and row["error"] == ""
    assert ada["student"] == "Ada Lovelace" and alan["student"] == ""
    assert binary["error"] == "the file is not UTF-8 text" and binary["graded"] == ""
    assert cut["error"].startswith("the JSON ends early") and cut["score"] == ""
    assert (grace["student"], grace["graded"], grace["score"]) == ("Grace", "4", "1.0000")


def test_a_folder_is_marked_against_the_problem_given_where_a_sheet_has_none(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "one.json").write_text('{"answers": {"u": [0.3775, 0.3925]}}')  # the 2-2-2's
    tutorial = tmp_path / "tutorial.json"
    tutorial.write_text(preset("tutorial").to_json())
    grades = tmp_path / "grades.csv"
    assert nnviz("check", folder, "--gradebook", grades, "--problem", tutorial).returncode == 0
    with grades.open(newline="") as f:
        (row,) = csv.DictReader(f)
    assert (row["graded"], row["correct"], row["score"]) == ("2", "2", "1.0000")


def test_a_folder_without_a_gradebook_and_a_gradebook_without_a_folder_are_refused(tmp_path):
    alone = nnviz("check", tmp_path)
    assert alone.returncode == 2 and alone.stderr.strip().endswith(
        "is a folder: add --gradebook GRADES.csv to mark every sheet"
    )
    sheet = ROOT / "examples" / "seed-answers.json"
    wrong = nnviz("check", sheet, "--gradebook", tmp_path / "g.csv")
    assert wrong.returncode == 2 and "--gradebook marks a folder" in wrong.stderr
    assert "Traceback" not in alone.stderr + wrong.stderr
