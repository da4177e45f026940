"""Fixtures for the browser tests: the app served by `streamlit run`, and Debian's Chromium;
and pdflatex, for the tests that compile a LaTeX sheet.

Nothing here runs unless a test asks for it, so the other tests pay nothing for it. Without
/usr/bin/chromium the browser tests are skipped (and without pdflatex the LaTeX ones), except
under CI=true, where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT = 60.0  # seconds until /_stcore/health must answer "ok"
VIEWPORT = {"width": 1500, "height": 1000}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    port: int,
    log,
    script: str = "app.py",
    cwd: Path = ROOT,
    command: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen:
    """`streamlit run app.py` (or another script, or another command such as `nnviz app`) from
    the repository's top folder (or another checkout's, whose .streamlit/config.toml it reads),
    in its own process group."""
    return subprocess.Popen(
        [
            *(command or [sys.executable, "-m", "streamlit", "run", script]),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_until_healthy(process: subprocess.Popen, url: str, timeout: float) -> str | None:
    """None once `url`/_stcore/health answers "ok"; otherwise why not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"streamlit exited with status {process.returncode}"
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read().decode().strip() == "ok":
                    return None
        except OSError:
            pass
        time.sleep(0.1)
    return f"{url}/_stcore/health did not answer ok within {timeout:.0f} s"


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium; its absence skips the browser tests, or fails them under CI=true."""
    if not CHROMIUM.exists():
        reason = (
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium "
            "(apt-get install chromium; .ci/run installs it)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}. CI=true, so this is a failure, not a skip.", pytrace=False)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, chromium):
    return {**browser_type_launch_args, "executable_path": str(chromium), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": VIEWPORT}


@pytest.fixture(scope="session")
def server(chromium):
    """`streamlit run app.py`, started once for the session and stopped after: its base URL,
    and the file its output goes to."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile("w+") as log:
        process = start_server(port, log)
        try:
            problem = wait_until_healthy(process, url, SERVER_START_TIMEOUT)
            if problem:
                log.seek(0)
                pytest.fail(f"{problem}. Its output:\n{log.read()}", pytrace=False)
            yield url, log
        finally:
            stop_server(process)


@pytest.fixture
def app_url(server):
    """The app's base URL. A traceback in the server's output while the test ran fails it: the
    page may have hidden it (a callback's error ends the run) or shown it, and neither is ok."""
    url, log = server
    log.seek(0, os.SEEK_END)
    start = log.tell()
    yield url
    time.sleep(0.2)  # the last click's run may still be writing
    log.seek(start)
    output = log.read()
    if "Traceback" in output:
        pytest.fail(f"the server printed a traceback during the test:\n{output}", pytrace=False)


@pytest.fixture(scope="session")
def pdflatex() -> str:
    """pdflatex; its absence skips the tests that compile, or fails them under CI=true."""
    path = shutil.which("pdflatex")
    if path is None:
        reason = (
            "pdflatex is missing: the LaTeX tests need it (apt-get install texlive-latex-base "
            "lmodern; .ci/run installs it)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}. CI=true, so this is a failure, not a skip.", pytrace=False)
        pytest.skip(reason)
    return path
