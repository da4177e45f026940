"""How many students one server process serves, as ratios to baselines measured in the same run.

    python bench/bench_sessions.py       # from the repository's top folder; about 5 minutes

Every tab is a session in the one `streamlit run app.py` process. What students share is that
process's CPU, so the key figure is the server's CPU time per click, read from /proc/<pid>/stat:
it leaves out the browser's own cost, which on this machine runs on the same two cores (a
Chromium page costs its browser several times what it costs the server). Most sessions here are
socket students (tests/test_sessions.py): Streamlit's own protocol without a browser, whose
session costs the server what a page's does, and which cost this process little.

Two servers are measured: with Streamlit's default, a full garbage collection after every
rerun, whose cost grows with every object in the process, every session's included; and with
`--runner.postScriptGC false`, as .streamlit/config.toml sets it for `streamlit run app.py`.

1. Server CPU per click on Next, 1 session: a trivial one-button app, nnviz from a socket, from
   a page, and without the collection after each rerun.
2. Server memory (VmRSS) and CPU per click with 1 session open against 10 Chromium pages and
   more sockets, up to 100 sessions.
3. Click latency: alone, and K sessions clicking at once.
4. The estimate: how many students one process serves.

This machine is noisy: read the ratios, and never turn these figures into test assertions.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    free_port,
    start_server,
    stop_server,
    wait_until_healthy,
)
from test_sessions import SocketStudent, socket_student  # noqa: E402

PAGES = 10  # Chromium pages for the memory figure; each costs its browser about 6 s of CPU
SESSIONS = (25, 50, 100)  # then socket sessions, up to these totals
BURSTS = {2: 3, 5: 3, 10: 2, 20: 2, 40: 1, 80: 1}  # students clicking at once: repetitions
GC_VARIABLE = "STREAMLIT_RUNNER_POST_SCRIPT_GC"  # --runner.postScriptGC
NO_GC = "--runner.postScriptGC false"
ANSWER_WITHIN = 1.0  # seconds: what a click should take at most, for the estimate
TICK = os.sysconf("SC_CLK_TCK")
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
DRAWN = ".js-plotly-plot .scatterlayer .trace"
HEADING_JS = """() => {
  const h = [...document.querySelectorAll('h3')].find(e => e.innerText.startsWith('Step '));
  return h ? h.innerText.trim() : null;
}"""
HEADING_CHANGED_JS = f"(before) => {{ const h = ({HEADING_JS})(); return !!h && h !== before; }}"
TRIVIAL_APP = """import streamlit as st

st.session_state.setdefault("step", 0)
if st.button("Next", key="next"):
    st.session_state.step += 1
st.subheader(f"Step {st.session_state.step % 11 + 1} of 11")
"""


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, all its threads (fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def browser_cpu(server: int) -> float:
    """CPU time of every live process under this one but the server: Chromium's processes and
    Playwright's driver."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, stack = 0.0, list(children.get(os.getpid(), []))
    while stack:
        pid = stack.pop()
        if pid == server:
            continue
        try:
            total += cpu_seconds(pid)
        except OSError:
            continue
        stack += children.get(pid, [])
    return total


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:7.1f} ms"


class Server:
    """A running server: its URL, and its process's CPU time and memory."""

    def __init__(self, pid: int, url: str):
        self.pid, self.url = pid, url

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss(self) -> float:
        return rss_mb(self.pid)


@contextmanager
def worktree(commit: str) -> Iterator[Path]:
    """`commit` checked out in a temporary folder, to measure beside the work tree; the
    worktree removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="nnviz-old-"))
    git = ["git", "-C", str(ROOT), "worktree"]
    try:
        subprocess.run(
            [*git, "add", "--detach", str(folder), commit], check=True, capture_output=True
        )
        yield folder
    finally:
        subprocess.run([*git, "remove", "--force", str(folder)], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run([*git, "prune"], capture_output=True)


@contextmanager
def serve(
    script: str | None = None, gc_after_rerun: bool = True, cwd: Path = ROOT
) -> Iterator[Server]:
    """app.py as the browser tests serve it (tests/conftest.py), from this checkout or another,
    or another script with the same options; stopped afterwards. The collection after each
    rerun is switched on or off through the environment, which `streamlit run` reads as it
    reads --runner.postScriptGC, and which wins over .streamlit/config.toml."""
    port = free_port()
    with tempfile.TemporaryFile("w+") as log, tempfile.TemporaryDirectory() as folder:
        if script is not None:
            path = Path(folder) / "trivial.py"
            path.write_text(script)
        before = os.environ.get(GC_VARIABLE)
        os.environ[GC_VARIABLE] = str(gc_after_rerun).lower()  # over .streamlit/config.toml
        try:
            process = start_server(port, log, "app.py" if script is None else str(path), cwd)
        finally:
            if before is None:
                del os.environ[GC_VARIABLE]
            else:
                os.environ[GC_VARIABLE] = before
        try:
            url = f"http://127.0.0.1:{port}"
            problem = wait_until_healthy(process, url, 60)
            if problem:
                log.seek(0)
                raise RuntimeError(f"{problem}:\n{log.read()}")
            yield Server(process.pid, url)
        finally:
            stop_server(process)


def clicks(server: Server, student: SocketStudent, n: int) -> tuple[float, list[float], float]:
    """n clicks one after another: server CPU per click, the latencies, this process's CPU per
    click (the socket client's own cost)."""
    cpu, own = server.cpu(), time.process_time()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        student.send("next")
        student.receive()
        times.append(time.perf_counter() - t)
    return (server.cpu() - cpu) / n, times, (time.process_time() - own) / n


def burst(server: Server, students: list[SocketStudent], extra=None):
    """Every student clicks Next at the same moment (threads released by one barrier); `extra`
    runs at that moment too. Returns each latency, the server's CPU and the wall time."""
    barrier = threading.Barrier(len(students) + 1)

    def click(student: SocketStudent) -> float:
        barrier.wait()
        t = time.perf_counter()
        student.send("next")
        student.receive()
        return time.perf_counter() - t

    with ThreadPoolExecutor(len(students)) as pool:
        futures = [pool.submit(click, s) for s in students]
        cpu, t = server.cpu(), time.perf_counter()
        barrier.wait()
        extra_result = extra() if extra else None
        latencies = [f.result() for f in futures]
        return latencies, server.cpu() - cpu, time.perf_counter() - t, extra_result


# --- the pages --------------------------------------------------------------------------------


def open_page(browser, url: str):
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(120_000)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector(IDLE)
    page.wait_for_selector(DRAWN, state="attached")
    return page


def page_click(page) -> float:
    """Click Next; the time until the new step's heading is on screen and the rerun is over."""
    before = page.evaluate(HEADING_JS)
    t = time.perf_counter()
    page.locator(".st-key-next button").click()
    page.wait_for_function(HEADING_CHANGED_JS, arg=before)
    page.wait_for_selector(IDLE)
    return time.perf_counter() - t


# --- the benchmark ----------------------------------------------------------------------------


def main() -> None:
    import streamlit

    print(
        f"nnviz sessions benchmark: Python {sys.version.split()[0]}, streamlit "
        f"{streamlit.__version__}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the start\n"
    )
    start = time.perf_counter()
    print("1. Server CPU per click on Next, 1 session (the server's /proc/<pid>/stat)")
    with ExitStack() as stack:
        servers = {
            "trivial": stack.enter_context(serve(TRIVIAL_APP)),
            "tests": stack.enter_context(serve()),
            "no gc": stack.enter_context(serve(gc_after_rerun=False)),
        }
        probes = {k: stack.enter_context(socket_student(s.url)) for k, s in servers.items()}
        for name, server in servers.items():
            clicks(server, probes[name], 11)  # a whole iteration: every step drawn once
        cpu = {name: [] for name in servers}
        own, kb = [], []
        for _ in range(3):  # interleaved, to share the noise
            for name, server in servers.items():
                received = probes[name].received
                result = clicks(server, probes[name], 11)
                cpu[name].append(result[0])
                if name == "tests":
                    own.append(result[2])
                    kb.append((probes[name].received - received) / 11 / 1024)
        one = {name: statistics.median(times) for name, times in cpu.items()}
    client = statistics.median(own)
    print(f"   {'baseline: a trivial one-button app':<42} {ms(one['trivial'])}")
    print(
        f"   {'nnviz, from a socket':<42} {ms(one['tests'])}"
        f" = {one['tests'] / one['trivial']:.1f}x the trivial app"
    )
    print(
        f"   {'nnviz, ' + NO_GC:<42} {ms(one['no gc'])}"
        f" = {one['no gc'] / one['tests']:.2f}x Streamlit's default"
    )
    print(
        f"   {'the socket client itself':<42} {ms(client)} = {client / one['tests']:.2f}x the"
        f" server's ({statistics.median(kb):.0f} kB received per click)"
    )

    results = {}
    for name, label in (("tests", "Streamlit's default"), ("no gc", NO_GC)):
        with ExitStack() as stack:
            server = stack.enter_context(serve(gc_after_rerun=name == "tests"))
            probe = stack.enter_context(socket_student(server.url))
            clicks(server, probe, 11)
            results[name] = hall(stack, server, probe, label, all_pages=name == "tests")
    estimate(results)
    print(f"\n(total {time.perf_counter() - start:.0f} s, load average {os.getloadavg()[0]:.1f})")


def hall(stack: ExitStack, server: Server, probe: SocketStudent, label: str, all_pages: bool):
    """Sessions opened up to 100 (the first ten or one more as Chromium pages), then bursts.
    Returns the server's CPU per click in the bursts (their median), the largest burst answered
    within ANSWER_WITHIN, MB per session, and a page's CPU per click over a socket's."""
    page_ratio = 1.0
    cpu_alone, alone, _ = clicks(server, probe, 11)
    rss_one, n_pages = server.rss(), 0
    if CHROMIUM.exists():
        n_pages = PAGES if all_pages else 1
        page_ratio = pages(stack, server, cpu_alone, n_pages, label)
    print(f"\n2. Server memory and CPU per click with sessions open, {label}")
    print(f"     1 session              {rss_one:7.1f} MB {ms(cpu_alone)} CPU per click (baseline)")
    sockets: list[SocketStudent] = []
    for total in (1 + n_pages, *SESSIONS) if n_pages > 1 else SESSIONS:
        while 1 + n_pages + len(sockets) < total:
            sockets.append(stack.enter_context(socket_student(server.url, timeout=300)))
        time.sleep(1)
        rss = server.rss()
        cpu, _, _ = clicks(server, probe, 11)
        kind = f"{n_pages} pages" if total == 1 + n_pages else "+ sockets"
        print(
            f"   {total:3d} sessions ({kind:>9}) {rss:7.1f} MB {ms(cpu)} CPU per click"
            f"  = {(rss - rss_one) / (total - 1):.2f} MB per extra session,"
            f" {cpu / cpu_alone:.2f}x the CPU alone"
        )
    per_session = (rss - rss_one) / (total - 1)
    cpu, t = server.cpu(), time.perf_counter()
    time.sleep(5)
    print(
        f"   {total} sessions idle: the server uses "
        f"{(server.cpu() - cpu) / (time.perf_counter() - t):.1%} of a core"
    )

    print(f"\n3. Click latency from a socket, the click to the end of its rerun, {label}")
    alone_median = statistics.median(alone)
    print(f"   alone (1 session open), median of 11    {ms(alone_median)}   (baseline)")
    loaded, within = [], 0
    for k, repeats in BURSTS.items():
        runs = [burst(server, sockets[:k]) for _ in range(repeats)]
        last = statistics.median(max(r[0]) for r in runs)
        median = statistics.median(statistics.median(r[0]) for r in runs)
        cpu_k = sum(r[1] for r in runs) / (k * repeats)
        cores = sum(r[1] for r in runs) / sum(r[2] for r in runs)
        loaded.append(cpu_k)
        within = max(within, k) if last <= ANSWER_WITHIN else within
        print(
            f"   {k:3d} clicking at once: median {ms(median)}, last {ms(last)}"
            f" = {last / alone_median:5.1f}x alone; {ms(cpu_k)} CPU per click on"
            f" {cores:.2f} cores"
        )
    return statistics.median(loaded), within, per_session, page_ratio


def pages(stack: ExitStack, server: Server, cpu_socket: float, n: int, label: str) -> float:
    """n Chromium pages, and what a click in the first costs the server and the browser.
    Returns a page's server CPU per click over a socket's."""
    from playwright.sync_api import sync_playwright

    pw = stack.enter_context(sync_playwright())
    browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    stack.callback(browser.close)
    cpu, others = server.cpu(), browser_cpu(server.pid)
    first = open_page(browser, server.url)
    load_server, load_browser = server.cpu() - cpu, browser_cpu(server.pid) - others
    page_click(first)  # its first click draws elements the first load did not
    cpu, others = server.cpu(), browser_cpu(server.pid)
    for _ in range(11):
        page_click(first)
    cpu_page = (server.cpu() - cpu) / 11
    browser_click = (browser_cpu(server.pid) - others) / 11
    print(
        f"\n   {label}: a click from a Chromium page costs the server {ms(cpu_page).strip()}"
        f" = {cpu_page / cpu_socket:.2f}x a socket's just before;"
    )
    print(
        f"   it costs Chromium (and Playwright) {ms(browser_click).strip()}"
        f" = {browser_click / cpu_page:.1f}x the server's, and a first load"
        f" {load_browser:.1f} s = {load_browser / load_server:.0f}x the server's"
    )
    for _ in range(n - 1):
        open_page(browser, server.url)
    return cpu_page / cpu_socket


def estimate(results: dict) -> None:
    print("\n4. The estimate, from the server's CPU per click in the bursts above")
    for name, label in (("tests", "Streamlit's default"), ("no gc", NO_GC)):
        c, within, _, page_ratio = results[name]
        print(
            f"   {label}: {ms(c).strip()} per click, so about {1 / c:.0f} clicks per second;"
            f" {ANSWER_WITHIN / c:.0f} students clicking at once all answered within"
            f" {ANSWER_WITHIN:.0f} s ({within} measured), {5 / c:.0f} if their clicks spread"
            f" over 5 s, {30 / c:.0f} over 30 s (a page's click: {page_ratio:.2f}x a socket's)"
        )
    ratio = results["tests"][0] / results["no gc"][0]
    print(
        f"   {NO_GC} serves {ratio:.1f}x the students. Rule of thumb: one process answers"
        " 1 / (server CPU per click) clicks per second, on one core whatever the machine has"
        " (Python's GIL), and N students clicking together wait N times that for the last answer"
    )
    print(
        f"   memory is no limit: {results['tests'][2]:.2f} MB per student"
        f" ({results['no gc'][2]:.2f} MB without the collection); for more students, one"
        " process per core"
    )


if __name__ == "__main__":
    main()
