"""One headless Chromium (Debian's `chromium`) that contacts no host: prints HTML to PDF, draws plotly figures as SVG.

The browser starts with Chromium's no-network switches and every page aborts every request, so nothing is fetched
from a host or a file. Every call is bounded by a timeout; a browser that does not answer in time is killed (its
driver and Chromium processes) and reported as `BrowserDiedError`, so the caller can start a new one. Figures are drawn by the plotly.js that ships inside the plotly package, loaded once into a
page that stays open (kaleido reloads its page for every figure, which cost ~0.5 s a figure here). PDFs honour the
report's `@page` rules (A4, page numbers), embed the fonts and keep the text selectable. Playwright's sync API runs on
a thread of the browser's own, so it works from any thread, also where an asyncio loop runs (Jupyter kernels, Dask).
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future, TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

from ..model.errors import RiskkitError

# Chromium's headless shell first: it has no browser UI, which saves ~200 MB per worker (its WebUI renderers and GPU
# process) and draws and prints the same; then a full Chromium or Chrome.
BROWSER_NAMES = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
NO_NETWORK_FLAGS = (
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-pings",
    "--disable-domain-reliability", "--host-resolver-rules=MAP * ~NOTFOUND",
)
BROWSER_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", *NO_NETWORK_FLAGS)
INSTALL_HINT = ("install Chromium (Debian/Ubuntu: `sudo apt-get install chromium-headless-shell`) or set BROWSER_PATH to a"
                " Chrome/Chromium")
BLANK = "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body></body></html>"
DEFAULT_TIMEOUT = 120.0  # seconds a single print or drawing may take (a 5,000-school heatmap takes ~30 s)
START_TIMEOUT = 60.0  # seconds the start may take at least (a busy machine needs several)
TO_SVG = "async ([fig, width, height]) => await Plotly.toImage(fig, {format: 'svg', width, height})"
T = TypeVar("T")


class BrowserError(RiskkitError):
    """The browser could not start, print or draw."""

    exit_code = 3


class BrowserNotFoundError(BrowserError):
    """No Chromium/Chrome on this machine."""


class BrowserDiedError(BrowserError):
    """The browser exited or did not answer in time (then it was killed); a new browser may succeed."""


def find_browser() -> Path:
    """The Chromium/Chrome to drive: BROWSER_PATH if set, else the first one on PATH."""
    given = os.environ.get("BROWSER_PATH")
    if given:
        if Path(given).is_file() and os.access(given, os.X_OK):
            return Path(given)
        raise BrowserNotFoundError(f"BROWSER_PATH={given!r} is not an executable file; {INSTALL_HINT}")
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise BrowserNotFoundError(f"no Chromium or Chrome found to draw the risk matrix; {INSTALL_HINT}")


class OfflineBrowser:
    """A headless Chromium kept warm: one page prints PDFs, one page (with plotly.js loaded) draws figures.

    `timeout`: seconds one print or drawing may take (the start at least START_TIMEOUT); None waits for ever.
    """

    def __init__(self, timeout: float | None = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._pages: dict[str, Any] = {}
        self._driver: list[int] = []  # pids of the Playwright driver processes this browser started
        self._closed = self._dead = False
        # A daemon thread of our own: it still runs in atexit handlers (an executor's threads are gone by then).
        threading.Thread(target=self._serve, daemon=True, name="riskkit-browser").start()
        try:
            self._call_within(None if timeout is None else max(timeout, START_TIMEOUT), self._start)
        except BaseException:
            self._closed = True
            self._jobs.put(None)
            raise

    @property
    def alive(self) -> bool:
        """False once the browser died or was killed after a timeout."""
        return not self._dead and not self._closed

    def print_pdf(self, html: str) -> bytes:
        """The document as an A4 PDF (page size and margins come from its CSS @page rules)."""
        return self._call(self._print, html)

    def figure_svg(self, figure: dict, width: int, height: int) -> str:
        """A plotly figure as plain JSON data (`json.loads(fig.to_json())`) drawn as SVG text of the given size in pixels."""
        return self._call(self._draw, figure, width, height)

    def close(self) -> None:
        """Stop the browser (kill it if it does not stop in time)."""
        if self._closed:
            return
        try:
            if not self._dead:
                self._call(self._stop)
        except BrowserError:
            pass  # it was killed
        finally:
            self._closed = True
            self._jobs.put(None)

    def __enter__(self) -> OfflineBrowser:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return self._call_within(self.timeout, fn, *args)

    def _call_within(self, timeout: float | None, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on the browser thread; kill the browser if it takes longer than `timeout` seconds."""
        if self._dead or self._closed:
            raise BrowserDiedError("the browser is no longer running")
        future: Future = Future()
        self._jobs.put((fn, args, future))
        try:
            return future.result(timeout)
        except FutureTimeout:
            self.kill()
            raise BrowserDiedError(f"the browser did not answer within {timeout:g} s and was stopped") from None

    def kill(self) -> None:
        """Kill this browser's driver and Chromium processes (a stuck call on the browser thread then fails)."""
        import psutil

        self._dead = True
        processes = []
        for pid in self._driver:
            try:
                driver = psutil.Process(pid)
                processes += [*driver.children(recursive=True), driver]
            except psutil.Error:
                pass
        for process in processes:
            try:
                process.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(processes, timeout=5)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            fn, args, future = job
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to the caller's thread
                future.set_exception(exc)

    def _start(self) -> None:
        try:
            from playwright.sync_api import Error, sync_playwright
        except ImportError as exc:
            raise BrowserError(f"the browser engine cannot start ({exc}); install riskkit's dependencies (pip install -e .)") from None
        import psutil

        self._error = Error
        me = psutil.Process()
        before = {p.pid for p in me.children()}
        self._playwright = sync_playwright().start()
        self._driver = [p.pid for p in me.children() if p.pid not in before and "run-driver" in _cmdline(p)]
        try:
            self._browser = self._playwright.chromium.launch(executable_path=str(find_browser()), args=list(BROWSER_ARGS))
        except Error as exc:
            self._playwright.stop()
            raise BrowserError(f"Chromium could not start: {exc.message.splitlines()[0]}") from None

    def _page(self, kind: str) -> Any:
        if kind not in self._pages:
            page = self._browser.new_page()
            page.route("**/*", lambda route: route.abort())
            if kind == "figure":
                import plotly

                page.set_content(BLANK)
                page.add_script_tag(path=str(Path(plotly.__file__).parent / "package_data" / "plotly.min.js"))
            self._pages[kind] = page
        return self._pages[kind]

    def _print(self, html: str) -> bytes:
        try:
            page = self._page("pdf")
            page.set_content(html, wait_until="load")
            return page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        except self._error as exc:
            raise self._failure("PDF export failed", exc) from None

    def _draw(self, figure: dict, width: int, height: int) -> str:
        try:
            url = self._page("figure").evaluate(TO_SVG, [figure, width, height])
        except self._error as exc:
            raise self._failure("drawing a figure failed", exc) from None
        return unquote(url.split(",", 1)[1])  # a data:image/svg+xml URL

    def _failure(self, what: str, exc: Any) -> BrowserError:
        """A Playwright error as ours: BrowserDiedError when the browser is gone (a new one may succeed)."""
        first = exc.message.splitlines()[0] if exc.message else type(exc).__name__
        if not self._browser.is_connected():
            self._dead = True
            return BrowserDiedError(f"{what}: the browser exited ({first})")
        return BrowserError(f"{what}: {first}")

    def _stop(self) -> None:
        self._browser.close()
        self._playwright.stop()


def _cmdline(process: Any) -> str:
    try:
        return " ".join(process.cmdline())
    except Exception:  # psutil.Error: it exited meanwhile
        return ""
