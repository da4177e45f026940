"""pdflatex for the tests that compile a LaTeX sheet: the worked solution, the question sheet
and the marked sheet. The `pdflatex` fixture is conftest's."""

import subprocess
from pathlib import Path

PDFLATEX = ["-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "-recorder"]


def start_pdflatex(pdflatex: str, folder: Path, source: str) -> subprocess.Popen:
    folder.mkdir(exist_ok=True)
    (folder / "solution.tex").write_text(source, encoding="utf-8")
    return subprocess.Popen(
        [pdflatex, *PDFLATEX, "solution.tex"],
        cwd=folder,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def finish_pdflatex(run: subprocess.Popen, folder: Path) -> str:
    """The log of a run that must have made a PDF; a failure shows the end of the log."""
    try:
        status = run.wait(timeout=120)
    except subprocess.TimeoutExpired:
        run.kill()
        status = f"none: still running after 120 s ({run.wait()})"
    log = (folder / "solution.log").read_text(encoding="utf-8", errors="replace")
    assert status == 0, f"pdflatex exited with status {status}; its log ends:\n{log[-3000:]}"
    assert (folder / "solution.pdf").stat().st_size > 1000
    return log


def compile_latex(pdflatex: str, folder: Path, source: str) -> str:
    return finish_pdflatex(start_pdflatex(pdflatex, folder, source), folder)
