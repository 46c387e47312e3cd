"""One headless Chromium (Debian's `chromium`) that contacts no host: prints HTML to PDF, draws plotly figures as SVG.

The browser starts with Chromium's no-network switches and every page aborts every request, so nothing is fetched
from a host or a file. Figures are drawn by the plotly.js that ships inside the plotly package, loaded once into a
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
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

from ..model.errors import RiskkitError

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
NO_NETWORK_FLAGS = (
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-pings",
    "--disable-domain-reliability", "--host-resolver-rules=MAP * ~NOTFOUND",
)
BROWSER_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", *NO_NETWORK_FLAGS)
INSTALL_HINT = "install Chromium (Debian/Ubuntu: `sudo apt-get install chromium`) or set BROWSER_PATH to a Chrome/Chromium"
BLANK = "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body></body></html>"
TO_SVG = "async ([fig, width, height]) => await Plotly.toImage(fig, {format: 'svg', width, height})"
T = TypeVar("T")


class BrowserError(RiskkitError):
    """The browser could not start, print or draw."""

    exit_code = 3


class BrowserNotFoundError(BrowserError):
    """No Chromium/Chrome on this machine."""


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
    """A headless Chromium kept warm: one page prints PDFs, one page (with plotly.js loaded) draws figures."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._pages: dict[str, Any] = {}
        self._closed = False
        # A daemon thread of our own: it still runs in atexit handlers (an executor's threads are gone by then).
        threading.Thread(target=self._serve, daemon=True, name="riskkit-browser").start()
        try:
            self._call(self._start)
        except BaseException:
            self._jobs.put(None)
            raise

    def print_pdf(self, html: str) -> bytes:
        """The document as an A4 PDF (page size and margins come from its CSS @page rules)."""
        return self._call(self._print, html)

    def figure_svg(self, figure: dict, width: int, height: int) -> str:
        """A plotly figure as plain JSON data (`json.loads(fig.to_json())`) drawn as SVG text of the given size in pixels."""
        return self._call(self._draw, figure, width, height)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._call(self._stop)
            finally:
                self._jobs.put(None)

    def __enter__(self) -> OfflineBrowser:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        future: Future = Future()
        self._jobs.put((fn, args, future))
        return future.result()

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
        self._error = Error
        self._playwright = sync_playwright().start()
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
            raise BrowserError(f"PDF export failed: {exc.message.splitlines()[0]}") from None

    def _draw(self, figure: dict, width: int, height: int) -> str:
        try:
            url = self._page("figure").evaluate(TO_SVG, [figure, width, height])
        except self._error as exc:
            raise BrowserError(f"drawing a figure failed: {exc.message.splitlines()[0]}") from None
        return unquote(url.split(",", 1)[1])  # a data:image/svg+xml URL

    def _stop(self) -> None:
        self._browser.close()
        self._playwright.stop()
