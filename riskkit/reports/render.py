"""Render parameterised notebooks to an executed .ipynb, an offline HTML file and an A4 PDF.

One `ReportRenderer` keeps the expensive parts warm across many reports: a started kernel (papermill `km=`, one kept
client and a state reset per run), an nbconvert exporter with riskkit's offline template, and one headless Chromium
that draws the notebook's plotly outputs as static SVG (the `StaticFigures` preprocessor) and prints the HTML to PDF.
The kernel draws nothing. Each cell runs under a timeout and each browser call too; a browser that died is replaced
and the export retried once. A failed run keeps the notebook executed up to the failing cell (`ReportError.notebook`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from ..figures.markup import META_KEY
from ..model.errors import RiskkitError
from .browser import DEFAULT_TIMEOUT as BROWSER_TIMEOUT, BrowserDiedError, BrowserError, OfflineBrowser, find_browser
from .transport import kernel_transport, remove_transport
from ..model.yamlio import write_atomic
from ..notebooks import SCHOOL_REPORT as SCHOOL_NOTEBOOK, notebook_path

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "riskkit_report"
FORMATS = ("html", "pdf")
RESET_TAG = "riskkit-reset"
# The warm kernel keeps no output cache and no input history, so nothing piles up over thousands of reports and a
# run's state is reset by removing the names it defined (`%reset -f` also ran gc and flushed caches: 0.3 s a run).
KERNEL_ARGS = ["--InteractiveShell.cache_size=0", "--HistoryManager.enabled=False"]
RESET = "%reset_selective -f ."
WARM_ENGINE = "riskkit-warm-kernel"
CELL_TIMEOUT = 600.0  # seconds one cell may run (the overview of a state-sized district takes tens of seconds)
# A warm kernel grows by ~0.2 MB a report and the browser's pages by some more: after this many reports both are
# started afresh (~2 s), so a worker's memory stays bounded over thousands of schools.
RENEW_AFTER = 400


class ReportError(RiskkitError):
    """A report could not be rendered: a failing cell, a timeout, a missing engine. `notebook`: the notebook as
    executed up to the failure (.ipynb bytes), when the kernel ran it."""

    exit_code = 3

    def __init__(self, message: str, notebook: bytes | None = None):
        super().__init__(message)
        self.notebook = notebook


class FormatError(ReportError):
    """An unknown report format: invalid input."""

    exit_code = 2


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """Formats in the canonical order; an unknown one is an error listing the allowed ones."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise FormatError(f"unknown report format {', '.join(unknown) or '(none)'}; allowed: {', '.join(FORMATS)}")
    return tuple(f for f in FORMATS if f in formats)


class ReportRenderer:
    """Warm resources reused across many reports in one process: one started kernel (papermill km=, state reset
    between runs), one nbconvert exporter with the offline template, one offline Chromium that draws the figures
    and prints PDFs. `cell_timeout`/`browser_timeout`: seconds a cell / a browser call may take (None: no bound).
    """

    def __init__(self, formats: Sequence[str] = FORMATS, *, cell_timeout: float | None = CELL_TIMEOUT,
                 browser_timeout: float | None = BROWSER_TIMEOUT):
        from jupyter_client.manager import KernelManager

        self.formats = check_formats(formats)
        self.cell_timeout, self.browser_timeout = cell_timeout, browser_timeout
        find_browser()  # fail before starting a kernel
        self._browser: OfflineBrowser | None = None
        self._exporter: Any = None
        # An asyncio client: nbclient's cell timeout cannot fire while a blocking client waits for kernel output.
        self._km = KernelManager(kernel_name="python3", client_class="jupyter_client.asynchronous.AsyncKernelClient",
                                 **kernel_transport())
        self._kc = None
        self._rendered = 0
        try:
            self._start_browser()
            self._km.start_kernel(extra_arguments=KERNEL_ARGS)
        except BaseException:
            self.close()
            raise

    def render(self, notebook: Path, parameters: dict[str, Any], *, name: str) -> dict[str, bytes]:
        """Execute `notebook` with `parameters`; return {'ipynb': ..., 'html': ..., 'pdf': ...} (html/pdf per formats).
        `name` (e.g. the school id) appears in errors: a failing cell names it and the cell."""
        import nbformat

        if self._rendered and self._rendered % RENEW_AFTER == 0:
            self._restart_kernel()
            self._start_browser()
        self._rendered += 1
        nb = self._execute(nbformat.read(notebook, as_version=4), parameters, name, Path(notebook).name)
        out = {"ipynb": nbformat.writes(nb).encode("utf-8")}
        for attempt in (1, 2):  # a browser that died is replaced and the export retried once
            try:
                html = self._html(nb, name)
                if "html" in self.formats:
                    out["html"] = html.encode("utf-8")
                if "pdf" in self.formats:
                    out["pdf"] = self._browser.print_pdf(html)
                return out
            except BrowserDiedError as exc:
                if attempt == 2:
                    raise ReportError(f"{name}: {exc} (also after a browser restart)", out["ipynb"]) from None
                try:
                    self._start_browser()
                except BrowserError as again:
                    raise ReportError(f"{name}: {exc}; a new browser did not start: {again}", out["ipynb"]) from None
            except BrowserError as exc:
                raise ReportError(f"{name}: {exc}", out["ipynb"]) from None
        raise AssertionError("unreachable")

    def _execute(self, nb: Any, parameters: dict[str, Any], name: str, source: str) -> Any:
        import nbformat
        import papermill
        from papermill.exceptions import PapermillExecutionError

        reset = nbformat.v4.new_code_cell(RESET, metadata={"tags": [RESET_TAG]})
        nb.cells.insert(0, reset)
        if not self._km.is_alive():
            self._restart_kernel()
        executed: list = []  # the engine puts the notebook it runs here, to keep it when a cell fails
        try:
            nb = papermill.execute_notebook(
                nb, None, parameters=parameters, engine_name=_engine(), progress_bar=False, km=self._km,
                kc=self._client(), executed=executed, execution_timeout=self.cell_timeout, cwd=str(Path.cwd()),
            )
        except PapermillExecutionError as exc:
            first = exc.source.strip().splitlines()[0] if exc.source.strip() else ""
            # cell_index counts from 0 with the reset cell first: it is the cell's 1-based place in the .ipynb
            raise ReportError(f"{name}: cell {exc.cell_index} `{first}` failed: {exc.ename}: {exc.evalue}",
                              _partial(executed, source)) from None
        except TimeoutError:  # nbclient's CellTimeoutError: the kernel is still busy with the cell
            self._restart_kernel()
            raise ReportError(f"{name}: a cell ran longer than {self.cell_timeout:g} s and was stopped",
                              _partial(executed, source)) from None
        except RuntimeError as exc:  # a dead kernel
            self._restart_kernel()
            raise ReportError(f"{name}: notebook run failed: {exc}", _partial(executed, source)) from None
        return _tidy(nb, source)

    def _restart_kernel(self) -> None:
        self._drop_client()
        self._km.restart_kernel(now=True)

    def _client(self) -> Any:
        """One kernel client kept with the kernel; a new one per run costs ~0.2 s of waiting."""
        from jupyter_core.utils import run_sync

        if self._kc is None:
            self._kc = self._km.client()
            self._kc.start_channels()
            run_sync(self._kc.wait_for_ready)(timeout=60)
        return self._kc

    def _drop_client(self) -> None:
        if self._kc is not None:
            self._kc.stop_channels()
            self._kc = None

    def _start_browser(self) -> None:
        """A (new) browser, and an exporter whose figure preprocessor draws with it."""
        from traitlets.config import Config

        if self._browser is not None:
            self._browser.close()
        self._browser = OfflineBrowser(self.browser_timeout)
        self._exporter = report_exporter()(
            config=Config({"StaticFigures": {"browser": self._browser}}),
            extra_template_basedirs=[str(TEMPLATES)], template_name=TEMPLATE, exclude_input=True,
            exclude_input_prompt=True, exclude_output_prompt=True, exclude_markdown=True, exclude_raw=True,
        )

    def _html(self, nb: Any, name: str) -> str:
        meta = _document_meta(nb)
        nb.metadata["title"] = meta.get("title", name)
        self._exporter.language_code = meta.get("lang", "en")
        html, _ = self._exporter.from_notebook_node(nb)
        return html

    def close(self) -> None:
        """Shut the kernel and the browser down."""
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        self._drop_client()
        if self._km.has_kernel:
            self._km.shutdown_kernel(now=True)
        remove_transport(self._km)

    def __enter__(self) -> ReportRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@cache
def report_exporter() -> type:
    """nbconvert's HTML exporter without its last step, which parses the written page with BeautifulSoup to give
    images without alt text a placeholder and JupyterLab's cells tab stops: riskkit's pages have neither (figures are
    named SVG, the template writes no cell markup), so the page came out unchanged, and the pass took ~0.26 s of each
    report. The filters it registers first are registered here too (the plain data-type filter: reports hold no widgets)."""
    from nbconvert import HTMLExporter, TemplateExporter
    from nbconvert.filters import DataTypeFilter, Highlight2HTML

    class ReportExporter(HTMLExporter):
        def from_notebook_node(self, nb: Any, resources: dict | None = None, **kw: Any) -> tuple[str, dict]:
            self.register_filter("highlight_code", Highlight2HTML(parent=self))
            self.register_filter("filter_data_type", DataTypeFilter(parent=self))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return ReportExporter


def _tidy(nb: Any, source: str) -> Any:
    """The executed notebook without riskkit's reset cell, naming its source notebook (papermill would store the
    whole input notebook, which it was given as an object)."""
    nb.cells = [c for c in nb.cells if RESET_TAG not in c.metadata.get("tags", [])]
    if "papermill" in nb.metadata:
        nb.metadata.papermill["input_path"] = source
    return nb


def _partial(executed: list, source: str) -> bytes | None:
    """The notebook as far as it ran (.ipynb bytes), or None if it never started."""
    import nbformat

    return nbformat.writes(_tidy(executed[0], source)).encode("utf-8") if executed else None


@cache
def _engine() -> str:
    """Register (once) and name the papermill engine for a kernel we keep running."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class WarmKernelEngine(NBClientEngine):
        """Runs on the given `km` with the given client `kc`, both kept across notebooks: a fresh client
        per notebook waited ~0.2 s for IOPub to connect, and nbclient leaves the client of a kernel it does not own
        open."""

        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                     stdout_file: Any = None, stderr_file: Any = None, start_timeout: int = 60,
                                     execution_timeout: int | None = None, input_path: Any = None,
                                     **kwargs: Any) -> Any:
            kc = kwargs.pop("kc")
            kwargs.pop("executed").append(nb_man.nb)
            client = PapermillNotebookClient(
                nb_man, kernel_name=kernel_name, log_output=log_output, stdout_file=stdout_file,
                stderr_file=stderr_file, startup_timeout=start_timeout, timeout=execution_timeout, **kwargs,
            )
            client.kc = kc
            return client.execute()

    papermill_engines.register(WARM_ENGINE, WarmKernelEngine)
    return WARM_ENGINE


def _document_meta(nb: Any) -> dict[str, str]:
    """The first riskkit metadata found in the outputs (title and language of the document)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            meta = output.get("metadata", {}).get(META_KEY)
            if meta and "title" in meta:
                return dict(meta)
    return {}


def render_school_report(
    district_dir: str | Path,
    school_id: str,
    *,
    lang: str | None = None,
    formats: Sequence[str] = FORMATS,
    out: str | Path | None = None,
    renderer: ReportRenderer | None = None,
    today: date | None = None,
) -> dict[str, Path]:
    """Validate, render and atomically write out/<school-id>.{ipynb,html,pdf}; default out:
    reports/<district-id>/schools/ (relative to the current directory)."""
    from ..model.district import load_district

    formats = check_formats(formats)
    # this school's file only, as the notebook reads it; an unknown id -> UnknownIdError listing the ids, before any
    # kernel starts
    district = load_district(district_dir, only=[school_id])
    notebook = notebook_path(SCHOOL_NOTEBOOK)
    folder = Path(out) if out is not None else Path("reports") / district.id / "schools"
    parameters = {
        "district_dir": str(Path(district_dir).resolve()),
        "school_id": school_id,
        "lang": lang or district.config.language,
        "today": today.isoformat() if today else None,
    }
    if renderer is not None and not set(formats) <= set(renderer.formats):
        raise ReportError(f"the renderer makes {', '.join(renderer.formats)}; asked for {', '.join(formats)}")
    owned = renderer is None
    renderer = renderer or ReportRenderer(formats)
    try:
        documents = renderer.render(notebook, parameters, name=school_id)
    finally:
        if owned:
            renderer.close()
    paths = {}
    for kind in ("ipynb", *formats):  # everything rendered in memory first: a failure above writes nothing
        paths[kind] = folder / f"{school_id}.{kind}"
        write_atomic(paths[kind], documents[kind])
    trust(documents["ipynb"])
    return paths


def trust(ipynb: bytes, notary: Any = None) -> None:
    """Mark riskkit's executed report notebook trusted in this user's Jupyter signature store, so JupyterLab shows
    its outputs as they are (an untrusted notebook's <style> is dropped: tables right-aligned, levels colourless);
    its outputs hold no script. `notary`: one NotebookNotary for many notebooks (a batch)."""
    import sqlite3

    import nbformat
    from nbformat.sign import NotebookNotary

    own = notary is None
    try:
        notary = notary or NotebookNotary()
        notary.sign(nbformat.reads(ipynb.decode("utf-8"), as_version=4))
    except (OSError, sqlite3.Error):
        pass  # no writable signature store (e.g. a read-only home): the report stands; Lab shows it unstyled
    finally:
        if own and notary is not None:
            notary.close()
