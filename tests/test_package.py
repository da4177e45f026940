"""nnviz as people install it: a wheel built from this checkout, installed away from it, and its
`nnviz` command run from other folders; the pinned requirements; the warnings policy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import warnings
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from conftest import SERVER_START_TIMEOUT, free_port, start_server, stop_server, wait_until_healthy
from packaging.requirements import Requirement
from playwright.sync_api import Page, expect

from nnviz.core.engine import iterate
from nnviz.core.problem import preset

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SHIPPED = [
    "nnviz/presets/seed-problem.json",
    "nnviz/presets/seed-answers.json",
    "nnviz/presets/tutorial-2-2-2.json",
    "nnviz/webapp/streamlit_app.py",
    "nnviz/webapp/.streamlit/config.toml",
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of a copy of this checkout, built offline with the pinned setuptools."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(
        ROOT,
        source,
        symlinks=True,
        ignore=shutil.ignore_patterns(".git", "*cache*", ".hypothesis", ".benchmarks", "build"),
    )
    pip("wheel", "--no-build-isolation", "--wheel-dir", str(work), str(source))
    (built,) = work.glob("nnviz-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed into a folder of its own: its bin/nnviz runs this interpreter."""
    target = tmp_path_factory.mktemp("site")
    pip("install", "--target", str(target), str(wheel))
    return target


def pip(command: str, *args: str) -> None:
    """pip offline, without dependencies: what the wheel needs is already installed here."""
    run = subprocess.run(
        [sys.executable, "-m", "pip", command, "--no-deps", "--no-index", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def environment(site: Path) -> dict[str, str]:
    """The environment of a user who installed the wheel: its nnviz, not this checkout's."""
    return {**os.environ, "PYTHONPATH": str(site)}


def nnviz(site: Path, *args: str, cwd: Path | str = "/") -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(site / "bin" / "nnviz"), *args],
        cwd=cwd,
        env=environment(site),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_wheel_carries_the_presets_the_app_and_its_config(wheel):
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = whl.read(entry_points).decode()
        for name in SHIPPED:
            assert whl.read(name) == (ROOT / name).read_bytes(), name
    assert "[console_scripts]\nnnviz = nnviz.cli:console" in scripts
    assert "nnviz/ui/app.py" in names
    assert not any(n.startswith(("tests/", "bench/", "examples/")) for n in names)


def test_the_installed_command_solves_the_seed_from_the_root_folder(installed):
    where = subprocess.run(
        [sys.executable, "-c", "import nnviz; print(nnviz.__file__)"],
        cwd="/",
        env=environment(installed),
        capture_output=True,
        text=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(installed)
    run = nnviz(installed, "solve")
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    lines = run.stdout.splitlines()
    assert lines[0] == "Problem 1: 3-4-2, ELU hidden layer, softmax output"
    seed = {  # the true values, to the digits the problem's notes give them
        "u": [2, -1.5, 4.7, 0.2],
        "h": [2, -0.77687, 4.7, 0.2],
        "z": [3.67313, 2.65925],
        "o": [0.733778, 0.266222],
        "L": [0.309548],
    }
    for label, values in seed.items():
        assert [float(v) for v in _row(lines, label)] == pytest.approx(values, abs=5e-6), label


def _row(lines: list[str], label: str) -> list[str]:
    (line,) = [s for s in lines if s.split(" =")[0].strip() == label]
    return line.split("=", 1)[1].split()


def test_the_installed_command_is_python_m_nnviz(installed, tmp_path):
    """solve, check and train, as `nnviz` from an empty folder, write exactly what
    `python -m nnviz` writes in this checkout, at full precision."""
    answers = installed / "nnviz" / "presets" / "seed-answers.json"
    for args in (
        ["solve", "--format", "json"],
        ["check", str(answers)],
        ["train", "--iterations", "25", "--format", "json"],
    ):
        run = nnviz(installed, *args, cwd=tmp_path)
        here = subprocess.run(
            [sys.executable, "-m", "nnviz", *args], cwd=ROOT, capture_output=True, text=True
        )
        assert (run.returncode, run.stdout, run.stderr) == (0, here.stdout, ""), args
    solution = json.loads(nnviz(installed, "solve", "--format", "json").stdout)
    truth = iterate(preset("seed"))
    assert solution["loss"] == truth.forward.loss  # every digit
    marks = nnviz(installed, "check", str(answers)).stdout.splitlines()
    assert marks[2] == "43 answers: 29 correct, 1 carried forward, 13 wrong"
    assert list(tmp_path.iterdir()) == []  # nothing written where it ran


def test_the_installed_command_names_itself_in_its_messages(installed):
    run = nnviz(installed, "slove")
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.startswith("nnviz: argument command: invalid choice: 'slove'")
    assert run.stderr.endswith("(see nnviz --help)\n")
    helped = nnviz(installed, "--help")
    assert helped.stdout.startswith("usage: nnviz [-h] {app,solve,check,train,generate}")
    refused = nnviz(installed, "app", "--server.prot", "8502")
    assert refused.returncode == 2
    assert "Usage: nnviz app [OPTIONS]" in refused.stderr
    assert "No such option '--server.prot'" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_nnviz_app_serves_the_app_with_its_config_from_any_folder(installed, page: Page, tmp_path):
    """`nnviz app` in an empty folder: the app answers, and the package's config.toml is read
    (an upload is limited to 1 MB there, Streamlit's default is 200 MB)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile("w+") as log:
        process = start_server(
            port,
            log,
            cwd=tmp_path,
            command=[str(installed / "bin" / "nnviz"), "app"],
            env=environment(installed),
        )
        try:
            problem = wait_until_healthy(process, url, SERVER_START_TIMEOUT)
            log.seek(0)
            assert problem is None, f"{problem}. Its output:\n{log.read()}"
            page.goto(url)
            expect(page.locator("h3").filter(has_text="Step 1 of 11: The setup")).to_be_visible(
                timeout=30_000
            )
            sidebar = page.get_by_test_id("stSidebar")
            expect(sidebar.get_by_text("1MB per file • JSON")).to_be_visible()
        finally:
            stop_server(process)
        log.seek(0)
        assert "Traceback" not in log.read()
    assert list(tmp_path.iterdir()) == []


# --- the pinned requirements ------------------------------------------------------------------


def pins(name: str) -> dict[str, str]:
    """{package: version} of a file that bash .ci/lock wrote, for this platform's lines."""
    text = (ROOT / name).read_text()
    assert text.startswith("# This file was autogenerated by uv via the following command:\n")
    assert "#    bash .ci/lock\n" in text
    found = {}
    for line in text.splitlines():
        if line and not line.startswith((" ", "#")):
            r = Requirement(line)
            assert [s.operator for s in r.specifier] == ["=="], line
            if r.marker is None or r.marker.evaluate():
                found[r.name] = next(iter(r.specifier)).version
    return found


@pytest.mark.parametrize(
    ("name", "declared"),
    [
        ("requirements.txt", PROJECT["dependencies"]),
        ("requirements-dev.txt", PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]),
    ],
)
def test_each_declared_range_is_pinned_within_it(name, declared):
    pinned = pins(name)
    for line in declared:
        r = Requirement(line)
        assert r.specifier.contains(pinned[r.name]), f"{name}: {r.name}=={pinned[r.name]} vs {r}"


def test_the_app_pins_bind_the_dev_pins():
    dev = pins("requirements-dev.txt")
    assert {k: dev[k] for k in pins("requirements.txt")} == pins("requirements.txt")


def test_the_tests_run_on_the_pinned_versions():
    """What `pip install -r requirements-dev.txt` installed is what the files say."""
    wrong = {
        name: (version, metadata.version(name))
        for name, version in pins("requirements-dev.txt").items()
        if metadata.version(name) != version
    }
    assert wrong == {}, "installed versions differ from the pins (pinned, installed)"


# --- the warnings policy (pyproject.toml, filterwarnings) ------------------------------------


def test_numpy_floating_point_warnings_are_errors():
    with pytest.raises(RuntimeWarning, match="overflow"):
        np.exp(np.float64(1000.0))


@pytest.mark.parametrize("module", ["nnviz.core.engine", "nnviz", "test_package", "conftest"])
def test_a_deprecation_this_project_causes_is_an_error(module):
    with pytest.raises(DeprecationWarning):
        warnings.warn_explicit("old", DeprecationWarning, "x.py", 1, module=module)


def test_a_deprecation_inside_a_third_party_package_is_shown_not_raised():
    with warnings.catch_warnings(record=True) as seen:
        # catch_warnings(record=True) keeps the filters, so "default" still decides
        warnings.warn_explicit("old", DeprecationWarning, "lib.py", 1, module="somelib.core")
        warnings.warn_explicit("old", FutureWarning, "lib.py", 2, module="nnvizish")
    assert [w.category for w in seen] == [DeprecationWarning, FutureWarning]


# --- the public API ---------------------------------------------------------------------------


def test_the_public_api_is_what_the_readme_lists():
    import nnviz

    listed = "Problem ProblemError load preset iterate Iteration gradient_check steps Step figure"
    listed += " train Training loss_curve mark read_answers"
    assert sorted(nnviz.__all__) == sorted(listed.split())
    assert set(nnviz.__all__) <= set(dir(nnviz))
    namespace: dict = {}
    exec("from nnviz import *", namespace)
    seed = namespace["iterate"](namespace["preset"]("seed"))
    assert seed.forward.loss == iterate(preset()).forward.loss
    assert callable(namespace["figure"])  # the function, not the module that draws it
    with pytest.raises(AttributeError, match="no attribute 'solve'"):
        nnviz.solve  # noqa: B018
    with pytest.raises(AttributeError):  # one meaning each: a step is a board of the lecture
        nnviz.step  # noqa: B018


def test_the_command_line_does_not_load_plotly_or_streamlit():
    """It starts in the time Python and NumPy take, to be scripted over many problems."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, nnviz.cli, nnviz; print(json.dumps(list(sys.modules)))",
        ],
        cwd="/",
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    modules = set(json.loads(loaded.stdout))
    assert {"nnviz.cli", "numpy"} <= modules
    assert not {"plotly", "streamlit", "nnviz.plots.network", "nnviz.plots.curves"} & modules
