"""HTML -> A4 PDF with headless Chromium (Debian's `chromium`), one browser kept warm per printer.

Chromium honours the report's `@page` rules (A4, page numbers in the margin boxes), embeds the fonts and keeps the
text selectable. The browser starts with the no-network switches, and the page aborts every request it would make,
so printing a report contacts no host and loads no file. Playwright's sync API runs on a thread of the printer's own,
so a printer works from any thread, also where an asyncio loop runs (Jupyter, Dask) or another Playwright is in use.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from .errors import RiskkitError
from .staticfig import NO_NETWORK_FLAGS, find_browser

BROWSER_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", *NO_NETWORK_FLAGS)
T = TypeVar("T")


class PdfError(RiskkitError):
    """The PDF engine could not start or could not print."""

    exit_code = 3


class ChromiumPrinter:
    """Prints HTML documents to PDF with one headless Chromium page, reused for every document."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="riskkit-pdf")
        try:
            self._call(self._start)
        except BaseException:
            self._thread.shutdown()
            raise

    def print_pdf(self, html: str) -> bytes:
        """The document as an A4 PDF (the page size and margins come from its CSS @page rules)."""
        return self._call(self._print, html)

    def close(self) -> None:
        self._call(self._stop)
        self._thread.shutdown()

    def __enter__(self) -> ChromiumPrinter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return self._thread.submit(fn, *args).result()

    def _start(self) -> None:
        try:
            from playwright.sync_api import Error, sync_playwright
        except ImportError as exc:
            raise PdfError(f"the PDF engine cannot start ({exc}); install riskkit's dependencies (pip install -e .)") from None
        self._error = Error
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(executable_path=str(find_browser()), args=list(BROWSER_ARGS))
        except Error as exc:
            self._playwright.stop()
            raise PdfError(f"Chromium could not start for PDF export: {exc.message.splitlines()[0]}") from None
        self._page = self._browser.new_page()
        self._page.route("**/*", lambda route: route.abort())

    def _print(self, html: str) -> bytes:
        try:
            self._page.set_content(html, wait_until="load")
            return self._page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        except self._error as exc:
            raise PdfError(f"PDF export failed: {exc.message.splitlines()[0]}") from None

    def _stop(self) -> None:
        self._browser.close()
        self._playwright.stop()
