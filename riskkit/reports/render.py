"""Render parameterised notebooks to an executed .ipynb, an offline HTML file and an A4 PDF.

One `ReportRenderer` keeps the expensive parts warm across many reports: a started kernel (papermill `km=`, a fresh
client and a state reset per run), an nbconvert exporter with riskkit's offline template, and a headless Chromium
that prints the HTML to PDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from ..figures.markup import META_KEY
from ..model.errors import RiskkitError
from .browser import BrowserError, OfflineBrowser, find_browser
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


class ReportError(RiskkitError):
    """A report could not be rendered: a failing cell, a missing engine, a bad format."""

    exit_code = 3



def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """Formats in the canonical order; an unknown one is an error listing the allowed ones."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ReportError(f"unknown report format {', '.join(unknown) or '(none)'}; allowed: {', '.join(FORMATS)}")
    return tuple(f for f in FORMATS if f in formats)


class ReportRenderer:
    """Warm resources reused across many reports in one process: one started kernel (papermill km=, state reset
    between runs), one nbconvert exporter with the offline template, one offline Chromium printing PDFs (the kernel
    keeps its own for the figures).
    """

    def __init__(self, formats: Sequence[str] = FORMATS):
        from jupyter_client.manager import KernelManager
        from nbconvert import HTMLExporter

        self.formats = check_formats(formats)
        find_browser()  # fail before starting a kernel; the kernel draws the heatmap with it
        self._exporter = HTMLExporter(
            extra_template_basedirs=[str(TEMPLATES)], template_name=TEMPLATE, exclude_input=True,
            exclude_input_prompt=True, exclude_output_prompt=True, exclude_markdown=True, exclude_raw=True,
        )
        self._printer = OfflineBrowser() if "pdf" in self.formats else None
        self._km = KernelManager(kernel_name="python3", **kernel_transport())
        self._kc = None
        try:
            self._km.start_kernel(extra_arguments=KERNEL_ARGS)
        except BaseException:
            self.close()
            raise

    def render(self, notebook: Path, parameters: dict[str, Any], *, name: str) -> dict[str, bytes]:
        """Execute `notebook` with `parameters`; return {'ipynb': ..., 'html': ..., 'pdf': ...} (html/pdf per formats).
        `name` (e.g. the school id) appears in errors: a failing cell names it and the cell."""
        import nbformat

        nb = self._execute(nbformat.read(notebook, as_version=4), parameters, name)
        out = {"ipynb": nbformat.writes(nb).encode("utf-8")}
        if self.formats:
            html = self._html(nb, name)
            if "html" in self.formats:
                out["html"] = html.encode("utf-8")
            if "pdf" in self.formats:
                out["pdf"] = self._pdf(html, name)
        return out

    def _execute(self, nb: Any, parameters: dict[str, Any], name: str) -> Any:
        import nbformat
        import papermill
        from papermill.exceptions import PapermillExecutionError

        reset = nbformat.v4.new_code_cell(RESET, metadata={"tags": [RESET_TAG]})
        nb.cells.insert(0, reset)
        if not self._km.is_alive():
            self._drop_client()
            self._km.restart_kernel(now=True)
        try:
            nb = papermill.execute_notebook(
                nb, None, parameters=parameters, engine_name=_engine(), progress_bar=False, km=self._km, kc=self._client(),
                cwd=str(Path.cwd()),
            )
        except PapermillExecutionError as exc:
            first = exc.source.strip().splitlines()[0] if exc.source.strip() else ""
            # cell_index counts from 0 with the reset cell first: it is the cell's 1-based place in the .ipynb
            raise ReportError(f"{name}: cell {exc.cell_index} `{first}` failed: {exc.ename}: {exc.evalue}") from None
        except RuntimeError as exc:  # a dead kernel or a timeout
            raise ReportError(f"{name}: notebook run failed: {exc}") from exc
        nb.cells = [c for c in nb.cells if RESET_TAG not in c.metadata.get("tags", [])]
        return nb

    def _client(self) -> Any:
        """One blocking kernel client kept with the kernel; a new one per run costs ~0.2 s of waiting."""
        if self._kc is None:
            self._kc = self._km.client()
            self._kc.start_channels()
            self._kc.wait_for_ready(timeout=60)
        return self._kc

    def _drop_client(self) -> None:
        if self._kc is not None:
            self._kc.stop_channels()
            self._kc = None

    def _html(self, nb: Any, name: str) -> str:
        meta = _document_meta(nb)
        nb.metadata["title"] = meta.get("title", name)
        self._exporter.language_code = meta.get("lang", "en")
        html, _ = self._exporter.from_notebook_node(nb)
        return html

    def _pdf(self, html: str, name: str) -> bytes:
        try:
            return self._printer.print_pdf(html)
        except BrowserError as exc:
            raise ReportError(f"{name}: {exc}") from None

    def close(self) -> None:
        """Shut the kernel and the PDF browser down."""
        if self._printer is not None:
            self._printer.close()
            self._printer = None
        self._drop_client()
        if self._km.has_kernel:
            self._km.shutdown_kernel(now=True)
        remove_transport(self._km)

    def __enter__(self) -> ReportRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@cache
def _engine() -> str:
    """Register (once) and name the papermill engine for a kernel we keep running."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class WarmKernelEngine(NBClientEngine):
        """Runs on the given `km` with the given blocking client `kc`, both kept across notebooks: a fresh client
        per notebook waited ~0.2 s for IOPub to connect, and nbclient leaves the client of a kernel it does not own
        open."""

        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                     stdout_file: Any = None, stderr_file: Any = None, start_timeout: int = 60,
                                     execution_timeout: int | None = None, input_path: Any = None,
                                     **kwargs: Any) -> Any:
            kc = kwargs.pop("kc")
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
            if meta:
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
    district = load_district(district_dir)
    district.school(school_id)  # unknown id -> UnknownIdError listing the ids, before any kernel starts
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
    return paths
