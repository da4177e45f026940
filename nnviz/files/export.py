"""Figures as files to download: PNG and SVG drawn by kaleido's Chromium, HTML by plotly alone.

Starting Chromium costs seconds, so the first image starts one browser and every later image, from
any session, goes through it until the process ends. Kaleido's own `start_sync_server` is not used:
two threads calling it at once can each receive the other's image (it answers through one shared
queue), and a browser that fails to start leaves every later call waiting forever. Here the
browser lives on an event loop thread of its own, and each export waits on a future of its own.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import os
import signal
import threading

FORMATS = {"png": "image/png", "svg": "image/svg+xml", "html": "text/html"}
PNG_SCALE = 2  # pixels per figure point
START_TIMEOUT = 60.0  # seconds for Chromium to start
RENDER_TIMEOUT = 60.0  # seconds for one image once its turn has come
NO_BROWSER = (
    "PNG and SVG export needs Chromium, and none was found. Install it "
    "(Debian: apt-get install chromium) or download the interactive HTML, "
    "which needs no browser."
)


class ExportUnavailable(Exception):
    """The message is for the person who asked: the app shows it in place of the file."""


@functools.cache
def browser() -> str | None:
    """Kaleido's own search (its downloaded Chrome, $BROWSER_PATH, PATH, then the usual places),
    so that the browser reported is the browser run."""
    from choreographer.browsers.chromium import Chromium

    path = Chromium.find_browser(skip_local=False)
    return path if path and os.path.isfile(path) and os.access(path, os.X_OK) else None


class _Browser:
    """One Kaleido, driven from its own event loop thread."""

    def __init__(self, path: str):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="nnviz-export", daemon=True
        )
        self._thread.start()
        self._kaleido = None
        try:
            self._kaleido = self._call(self._open(path), START_TIMEOUT)
        except BaseException:
            self.stop()
            raise

    async def _open(self, path: str):
        import kaleido

        # MathJax would come from a CDN, and no figure here uses LaTeX
        k = kaleido.Kaleido(path=path, mathjax=False, timeout=RENDER_TIMEOUT)
        try:
            await k.open()
        except BaseException:
            self._kaleido = k  # for stop() to kill what did start
            raise
        return k

    def _call(self, coroutine, timeout: float):
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    @property
    def pid(self) -> int | None:
        process = getattr(self._kaleido, "subprocess", None)
        return process.pid if process else None

    def alive(self) -> bool:
        process = getattr(self._kaleido, "subprocess", None)
        return self._thread.is_alive() and process is not None and process.poll() is None

    def render(self, fig, opts: dict) -> bytes:
        # Other threads' images may be queued for the one tab ahead of this one
        return self._call(self._kaleido.calc_fig(fig, opts=opts), 2 * RENDER_TIMEOUT)

    def stop(self) -> None:
        """Close Chromium politely, else kill its process group; then end the loop thread."""
        if self._thread.is_alive():
            if self._kaleido is not None:
                with contextlib.suppress(Exception):
                    self._call(self._kaleido.close(), 15)
            # kaleido's watchdog and readers, and an open() that timed out, which then records
            # its browser for the kill below
            with contextlib.suppress(Exception):
                self._call(_cancel_all(), 10)
        process = getattr(self._kaleido, "subprocess", None)
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # its own session: the wrapper and Chromium
            process.wait(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self._loop.close()


async def _cancel_all() -> None:
    tasks = asyncio.all_tasks() - {asyncio.current_task()}
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


_lock = threading.Lock()
_server: _Browser | None = None
_starts = 0  # browsers started by this process


def _running(path: str) -> _Browser:
    global _server, _starts
    with _lock:
        if _server is None or not _server.alive():
            if _server is not None:
                _server.stop()
                _server = None
            _server = _Browser(path)
            _starts += 1
            if _starts == 1:
                atexit.register(stop)
        return _server


def stop() -> None:
    """Close the browser, at exit or in tests; the next image starts another."""
    global _server
    with _lock:
        if _server is not None:
            _server.stop()
            _server = None


def image(
    fig, fmt: str, *, width: int | None = None, height: int | None = None, scale=None
) -> bytes:
    """The figure as PNG or SVG. Width and height are in figure points, by default the figure's
    own (else 700 by 500). Scale defaults to 2 for a PNG, sharp on a projector and in slides, and
    to 1 for an SVG, which is sharp anyway and is then as wide as asked."""
    if fmt not in ("png", "svg"):
        raise ValueError(f"image() draws png or svg, not {fmt!r}")
    path = browser()
    if path is None:
        raise ExportUnavailable(NO_BROWSER)
    if scale is None:
        scale = PNG_SCALE if fmt == "png" else 1
    opts = {"format": fmt, "scale": scale}
    opts.update({k: v for k, v in (("width", width), ("height", height)) if v is not None})
    try:
        return _running(path).render(fig, opts)
    except Exception as e:
        raise ExportUnavailable(
            f"The {fmt.upper()} export failed ({_one_line(e)}). "
            "The interactive HTML download still works."
        ) from e


def html(fig) -> str:
    """Interactive and whole: plotly.js is inside (about 4.6 MB), so the file opens offline, in a
    lecture hall without network or years later, where a CDN link could fail."""
    return fig.to_html(include_plotlyjs=True, full_html=True)


def _one_line(e: BaseException) -> str:
    """Kaleido's messages run to several lines and tuples of advice: the first sentence will do."""
    text = e.args[0] if e.args and isinstance(e.args[0], str) else str(e)
    text = " ".join(text.split())[:200]
    name = "timed out" if isinstance(e, TimeoutError) else type(e).__name__
    return f"{name}: {text}" if text else name
