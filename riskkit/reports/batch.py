"""A district's whole run, or a state's (a folder of district folders): every school's report and each overview, in
parallel, incremental and resumable.

The parent resolves the date once, validates each district, decides what needs rendering (a hash per report over
everything that changes it, kept in manifest.json) and hands each job to any `concurrent.futures.Executor`. A job
carries its inputs as bytes (district files, the school's file, the notebook), so workers need no shared disk; each
worker process keeps one warm `ReportRenderer` (kernel, exporter, one browser) and returns the documents as bytes,
which the parent writes atomically. The manifest is rewritten after every finished job, so a killed run resumes where
it stopped. A lock on each output folder refuses a second batch writing there at the same time.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

from nbformat.sign import NotebookNotary

from ..model.district import DISTRICT_FILE, SCHOOLS_DIR, District, read_district, school_files
from ..model.errors import MISSING, Problem, RiskkitError, ValidationError
from ..model.i18n import label, number_text
from ..model.yamlio import write_atomic
from ..notebooks import DISTRICT_OVERVIEW, notebook_path
from .browser import DEFAULT_TIMEOUT as BROWSER_TIMEOUT
from .render import CELL_TIMEOUT, FORMATS, SCHOOL_NOTEBOOK, ReportError, check_formats, trust

OVERVIEW_NOTEBOOK = DISTRICT_OVERVIEW
OVERVIEW = "overview"
MANIFEST = "manifest.json"
MANIFEST_VERSION = 2
FAILED = "failed.ipynb"  # <name>.failed.ipynb: the notebook of a failed report, executed up to the failing cell
PACKAGE = Path(__file__).resolve().parent.parent
# The parts of the package whose files can change a report (views, figures, templates, CSS, labels, catalogues,
# matrices, notebooks); a change to any of them re-renders every report.
REPORT_SOURCES = ("__init__.py", "model", "figures", "reports", "notebooks", "data")
SOURCE_SUFFIXES = (".py", ".yaml", ".yml", ".css", ".j2", ".json", ".ipynb")


class JobError(RiskkitError):
    """A report that failed in a worker, reduced to its message and the notebook as far as it ran (bytes), so it
    crosses process and network borders."""

    def __init__(self, message: str, notebook: bytes | None = None):
        super().__init__(message)
        self.notebook = notebook

    def __reduce__(self) -> tuple:
        return type(self), (str(self), self.notebook)


class BatchLockedError(RiskkitError):
    """Another batch is writing to the same output folder."""


@dataclass(frozen=True)
class Job:
    """One notebook to render, with everything a worker needs to do it without the parent's disk."""

    name: str
    notebook: str
    notebook_bytes: bytes
    district_id: str
    files: dict[str, bytes]
    parameters: dict[str, Any]
    formats: tuple[str, ...]
    limits: tuple[float | None, float | None] = (CELL_TIMEOUT, BROWSER_TIMEOUT)  # cell and browser timeouts

    def inputs(self, version: str, catalogue: str, digests: dict[str, str]) -> dict[str, str]:
        """sha256 of each input file, of the notebook, of `digests` (what the district loads, the package) and of
        the settings that change the report (version, catalogue, parameters with the date)."""
        hashes = {path: _sha256(data) for path, data in sorted(self.files.items())}
        hashes[f"notebook:{self.notebook}"] = _sha256(self.notebook_bytes)
        hashes.update(digests)
        hashes["settings"] = _sha256(json.dumps(
            {"riskkit": version, "catalogue": catalogue, "parameters": self.parameters}, sort_keys=True
        ).encode())
        return hashes


@dataclass
class BatchResult:
    """What a run did: per report 'rendered', 'skipped' (up to date) or 'failed' with the cause. In a state run the
    names are `<district>/<report>`. `failed_notebooks`: per failed report, its .failed.ipynb."""

    out: Path
    status: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    failed_notebooks: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0
    interrupted: bool = False

    def count(self, status: str) -> int:
        return sum(s == status for s in self.status.values())

    @property
    def ok(self) -> bool:
        return not self.errors and not self.interrupted


# --- worker side -------------------------------------------------------------------------------------------------

_renderer: Any = None
_renderer_lock = threading.Lock()


def init_worker(formats: Sequence[str], limits: tuple[float | None, float | None] = (CELL_TIMEOUT, BROWSER_TIMEOUT)) -> None:
    """Process-pool initializer: leave Ctrl-C to the parent, exit when the parent is gone (killed), and start the
    warm renderer before the first job."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True, name="riskkit-orphan").start()
    _warm_renderer(tuple(formats), limits)


def _exit_with_parent(parent: int) -> None:
    """A killed parent never tells its pool; its kernel and browser follow this process (they watch their parent)."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def _warm_renderer(formats: tuple[str, ...], limits: tuple[float | None, float | None]) -> Any:
    """This process's renderer (one kernel, exporter, browser), made once and closed at exit."""
    global _renderer
    if _renderer is None or (_renderer.formats, (_renderer.cell_timeout, _renderer.browser_timeout)) != (formats, limits):
        from multiprocessing.util import Finalize

        from .render import ReportRenderer

        if _renderer is not None:
            _renderer.close()
        _renderer = ReportRenderer(formats, cell_timeout=limits[0], browser_timeout=limits[1])
        Finalize(_renderer, _renderer.close, exitpriority=10)
    return _renderer


def render_job(job: Job) -> tuple[dict[str, bytes], float]:
    """Stage the job's inputs in a temp folder, render its notebook; return the documents and the seconds taken."""
    start = time.perf_counter()
    try:
        with _renderer_lock, tempfile.TemporaryDirectory(prefix="riskkit-job-") as tmp:
            district_dir = Path(tmp) / job.district_id
            for relative, data in job.files.items():
                target = district_dir / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            notebook = Path(tmp) / job.notebook
            notebook.write_bytes(job.notebook_bytes)
            parameters = {**job.parameters, "district_dir": str(district_dir)}
            documents = _warm_renderer(job.formats, job.limits).render(notebook, parameters, name=job.name)
    except ReportError as exc:
        raise JobError(str(exc), exc.notebook) from None
    except Exception as exc:  # any failure is this job's failure; its message must survive pickling
        raise JobError(str(exc) or type(exc).__name__) from None
    return documents, time.perf_counter() - start


# --- parent side -------------------------------------------------------------------------------------------------


def plan_jobs(district: District, formats: tuple[str, ...], lang: str, today: date,
              limits: tuple[float | None, float | None] = (CELL_TIMEOUT, BROWSER_TIMEOUT)) -> list[Job]:
    """The overview job first (the longest), then one job per valid school; every job judges dates by `today`."""
    common = {DISTRICT_FILE: (district.path / DISTRICT_FILE).read_bytes()}
    for extra in (district.config.catalogue_extension, district.config.matrix):
        if extra:
            common[extra] = (district.path / extra).read_bytes()
    files = {f"{SCHOOLS_DIR}/{path.name}": path.read_bytes() for path in school_files(district.schools_dir)}
    day = {"today": today.isoformat()}
    jobs = [Job(
        OVERVIEW, OVERVIEW_NOTEBOOK, notebook_path(OVERVIEW_NOTEBOOK).read_bytes(), district.id,
        {**common, **files}, {"lang": lang, **day, "report_formats": list(formats)}, formats, limits,
    )]
    school_notebook = notebook_path(SCHOOL_NOTEBOOK).read_bytes()
    by_id = {Path(relative).stem: relative for relative in files}  # a valid school has exactly one file
    for school_id in district.schools:
        relative = by_id[school_id]
        jobs.append(Job(
            school_id, SCHOOL_NOTEBOOK, school_notebook, district.id,
            {**common, relative: files[relative]}, {"school_id": school_id, "lang": lang, **day}, formats, limits,
        ))
    return jobs


def output_paths(out: Path, name: str, formats: Iterable[str]) -> dict[str, Path]:
    """Where a report's documents go: `overview.*` at the top, schools under `schools/`."""
    folder = out if name == OVERVIEW else out / "schools"
    return {kind: folder / f"{name}.{kind}" for kind in ("ipynb", *formats)}


def failed_notebook_path(out: Path, name: str) -> Path:
    """Where a failed report's notebook, executed up to the failing cell, goes."""
    return output_paths(out, name, ())["ipynb"].with_suffix(f".{FAILED}")


def state_districts(folder: Path) -> list[Path]:
    """The district folders (with a district.yaml) in a state's folder; an error if there are none."""
    found = sorted(p for p in folder.iterdir() if p.is_dir() and (p / DISTRICT_FILE).is_file()) if folder.is_dir() else []
    if not found:
        raise ValidationError([Problem(str(folder), "", MISSING, f"neither a district folder (with {DISTRICT_FILE}) nor a "
                                                               f"folder of district folders")])
    return found


def report_sources() -> list[Path]:
    """The package files that can change a report: view code, templates, CSS, labels, shipped catalogues and
    matrices, notebooks."""
    found = []
    for source in REPORT_SOURCES:
        root = PACKAGE / source
        for path in sorted([root] if root.is_file() else root.rglob("*")):
            if path.is_file() and path.suffix in SOURCE_SUFFIXES and "__pycache__" not in path.parts:
                found.append(path)
    return found


@cache
def package_digest() -> str:
    """sha256 over `report_sources()`, names and contents (computed once per process)."""
    digest = hashlib.sha256()
    for path in report_sources():
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def district_digest(district: District) -> str:
    """sha256 of what the district loaded: the merged catalogue (shipped + extension) and the matrix."""
    return _sha256((district.catalogue.model_dump_json() + "\0" + district.matrix.model_dump_json()).encode())


@dataclass
class _Run:
    """One district's part of a batch: where it goes and its manifest."""

    district: District
    out: Path
    lang: str
    manifest: dict
    prefix: str  # "" in a district run, "<district>/" in a state run


def run_batch(
    folder: str | Path,
    *,
    out: str | Path | None = None,
    workers: int | None = None,
    formats: Sequence[str] = FORMATS,
    lang: str | None = None,
    force: bool = False,
    scheduler: str | None = None,
    executor: Executor | None = None,
    today: date | None = None,
    log: Callable[[str], None] | None = None,
    progress: bool | None = None,
    cell_timeout: float | None = CELL_TIMEOUT,
    browser_timeout: float | None = BROWSER_TIMEOUT,
) -> BatchResult:
    """Render every school's report and the overview of a district folder into `out` (default reports/<folder>/);
    for a folder of district folders, each district into `out/<district>/` plus a state index.

    `executor` may be any concurrent.futures.Executor (the caller keeps and closes it); otherwise a Dask cluster at
    `scheduler`, or a process pool of `workers` (default: one per core). `progress` None: a bar on a terminal.
    `today` (default: today) is resolved once for every report. `cell_timeout`/`browser_timeout`: seconds per cell
    and per browser call (None: no bound).
    """
    formats = check_formats(formats)
    folder = Path(folder)
    today = today or date.today()
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    state = None if (folder / DISTRICT_FILE).is_file() else state_districts(folder)
    top = Path(out) if out is not None else Path("reports") / folder.resolve().name
    result = BatchResult(top)
    limits = (cell_timeout, browser_timeout)
    runs: list[_Run] = []
    todo: list[tuple[_Run, Job, dict[str, str]]] = []
    with ExitStack() as locks:
        locks.enter_context(_lock(top))
        for district_dir in state or [folder]:
            district_out = top if state is None else top / district_dir.name
            prefix = "" if state is None else f"{district_dir.name}/"
            if state is not None:
                locks.enter_context(_lock(district_out))
            try:
                run, jobs = _plan_district(district_dir, district_out, prefix, formats, lang, force, today, limits,
                                           result, log)
            except ValidationError as exc:  # district.yaml, its catalogue or matrix: nothing of it can be judged
                if state is None:
                    raise
                message = "; ".join(str(problem) for problem in exc.problems)
                result.status[district_dir.name], result.errors[district_dir.name] = "failed", message
                log(f"{district_dir.name}: FAILED: {message}")
                continue
            runs.append(run)
            todo += jobs
        started = time.perf_counter()
        try:
            if todo:
                _render_all(todo, result, formats, workers, scheduler, executor, limits, log, progress)
        finally:
            result.seconds = time.perf_counter() - started
            from .index import write_index, write_state_index
            from .overview import write_tables

            for run in runs:
                run.manifest["finished"] = _now()
                run.manifest["interrupted"] = result.interrupted
                _write_manifest(run.out, run.manifest)
                write_tables(run.district, run.out, today)  # the overview's full tables, beside it and linked from it
                write_index(run.out, run.district, run.manifest, run.lang)
            if state is not None:
                # A richer state overview (a notebook over all districts) would be planned as one more job above
                # and linked here; today the state page links every district's overview and index.
                write_state_index(top, folder.resolve().name, _state_rows(state, runs, result),
                                  lang or (runs[0].lang if runs else "de"))
    return result


def _state_rows(state: list[Path], runs: list[_Run], result: BatchResult) -> list[dict[str, Any]]:
    """Per district folder of a state: its name, report counts per status, or why it could not be read."""
    by_folder = {run.prefix.rstrip("/"): run for run in runs}
    rows = []
    for folder in state:
        run = by_folder.get(folder.name)
        statuses = [entry["status"] for entry in run.manifest["reports"].values()] if run else []
        rows.append({
            "folder": folder.name, "name": run.district.config.name if run else folder.name,
            "counts": {s: statuses.count(s) for s in ("rendered", "skipped", "failed")},
            "error": None if run else result.errors.get(folder.name),
        })
    return rows


def _plan_district(
    district_dir: Path, out: Path, prefix: str, formats: tuple[str, ...], lang: str | None, force: bool, today: date,
    limits: tuple[float | None, float | None], result: BatchResult, log: Callable[[str], None],
) -> tuple[_Run, list[tuple[_Run, Job, dict[str, str]]]]:
    """Validate a district, start its manifest, mark invalid school files failed, and list the jobs to render."""
    from .. import __version__

    district, problems = read_district(district_dir)
    lang = lang or district.config.language
    _remove_stale_temp_files(out)
    previous = _read_manifest(out / MANIFEST).get("reports", {})
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "riskkit_version": __version__,
        "catalogue": district.catalogue.ref,
        "district": district.id,
        "lang": lang,
        "today": today.isoformat(),
        "formats": list(formats),
        "started": _now(),
        "finished": None,
        "reports": {},
    }
    run = _Run(district, out, lang, manifest, prefix)
    invalid: dict[str, str] = {}
    for problem in problems:
        name, message = Path(problem.file).stem, problem.text(lang or district.config.language)
        invalid[name] = f"{invalid[name]}; {message}" if name in invalid else message
    for name, message in invalid.items():
        result.status[prefix + name], result.errors[prefix + name] = "failed", message
        manifest["reports"][name] = {"status": "failed", "error": message, "inputs": {}, "duration_s": None}
        _discard_documents(out, name)

    digests = {"catalogue+matrix": district_digest(district), "package": package_digest()}
    todo = []
    for job in plan_jobs(district, formats, lang, today, limits):
        inputs = job.inputs(__version__, district.catalogue.ref, digests)
        before = previous.get(job.name, {})
        up_to_date = (
            not force and before.get("status") in ("rendered", "skipped") and before.get("inputs") == inputs
            and set(formats) <= set(before.get("formats", []))
            and all(p.is_file() for p in output_paths(out, job.name, formats).values())
        )
        if up_to_date:
            result.status[prefix + job.name] = "skipped"
            manifest["reports"][job.name] = {**before, "status": "skipped"}
        else:
            todo.append((run, job, inputs))
    _write_manifest(out, manifest)
    skipped = sum(r["status"] == "skipped" for r in manifest["reports"].values())
    log(label("cli.batch.plan", lang or district.config.language).format(
        district=district.id, todo=len(todo), skipped=skipped, invalid=len(invalid)))
    return run, todo


def seconds_text(seconds: float, lang: str) -> str:
    """Seconds with one decimal, as the language writes them (2,5 / 2.5)."""
    return number_text(seconds, lang, 1)


def _render_all(
    todo: list[tuple[_Run, Job, dict[str, str]]], result: BatchResult, formats: tuple[str, ...], workers: int | None,
    scheduler: str | None, executor: Executor | None, limits: tuple[float | None, float | None],
    log: Callable[[str], None], progress: bool | None,
) -> None:
    from tqdm import tqdm

    owned, client = executor is None, None
    if executor is None and scheduler:
        from distributed import Client

        client = Client(scheduler)
        executor = client.get_executor()
    elif executor is None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        count = max(1, min(workers or os.cpu_count() or 1, len(todo)))
        executor = ProcessPoolExecutor(
            count, mp_context=multiprocessing.get_context("spawn"), initializer=init_worker,
            initargs=(formats, limits),
        )
    futures: dict[Future, tuple[_Run, Job, dict[str, str]]] = {}
    notary = NotebookNotary()  # one signature store connection for the run's notebooks (see render.trust)
    bar = tqdm(total=len(todo), unit="report", disable=not (sys.stderr.isatty() if progress is None else progress))
    say = bar.write if not bar.disable else log
    try:
        for item in todo:
            futures[executor.submit(render_job, item[1])] = item
        for done, future in enumerate(as_completed(futures), start=1):
            run, job, inputs = futures.pop(future)  # its documents are freed once written (here and on a Dask worker)
            key = run.prefix + job.name
            entry = {"status": "failed", "inputs": inputs, "formats": list(formats), "duration_s": None, "error": None}
            try:
                documents, seconds = future.result()
                for kind, path in output_paths(run.out, job.name, formats).items():
                    write_atomic(path, documents[kind])
                trust(documents["ipynb"], notary)
                every = output_paths(run.out, job.name, FORMATS)
                for kind in set(FORMATS) - set(formats):  # a document in a format not asked for now is outdated
                    every[kind].unlink(missing_ok=True)
                failed_notebook_path(run.out, job.name).unlink(missing_ok=True)
                entry.update(status="rendered", duration_s=round(seconds, 3))
                line = label("cli.batch.rendered", run.lang).format(done=done, todo=len(todo), name=key,
                                                                    seconds=seconds_text(seconds, run.lang))
            except Exception as exc:  # a failing report never stops the others
                entry["error"] = (exc.text(run.lang) if isinstance(exc, RiskkitError) else str(exc)) or type(exc).__name__
                result.errors[key] = entry["error"]
                _discard_documents(run.out, job.name)  # the old documents no longer match the inputs
                line = label("cli.batch.job_failed", run.lang).format(done=done, todo=len(todo), name=key,
                                                                      error=entry["error"])
                notebook = getattr(exc, "notebook", None)
                if notebook:
                    path = failed_notebook_path(run.out, job.name)
                    write_atomic(path, notebook)
                    entry["failed_notebook"] = path.relative_to(run.out).as_posix()
                    result.failed_notebooks[key] = path
                    line += f" (notebook up to the failure: {path})"
            result.status[key] = entry["status"]
            run.manifest["reports"][job.name] = entry
            _write_manifest(run.out, run.manifest)
            bar.update()
            if bar.disable or entry["status"] == "failed":
                say(line)
    except KeyboardInterrupt:
        result.interrupted = True
        for future in futures:
            future.cancel()
        say("interrupted: pending reports cancelled; finished ones are kept and the next run resumes")
    finally:
        bar.close()
        notary.close()
        if client is not None:
            client.close()  # cancels what is still pending on the cluster
        elif owned:
            executor.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the output folder (released by the system when the process dies, also by SIGKILL)."""
    import fcntl

    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchLockedError(f"another riskkit batch is writing to {out}; wait until it has finished or "
                                   f"choose another --out") from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _discard_documents(out: Path, name: str) -> None:
    """Remove a report's documents (of every format) and an old failed notebook."""
    for path in (*output_paths(out, name, FORMATS).values(), failed_notebook_path(out, name)):
        path.unlink(missing_ok=True)


def _remove_stale_temp_files(out: Path) -> None:
    """Temp files a killed run left behind (write_atomic names them `.<name>.<random>.tmp`); safe under the lock."""
    for folder in (out, out / "schools"):
        if folder.is_dir():
            for path in folder.glob(".*.tmp"):
                path.unlink(missing_ok=True)


def _read_manifest(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # no manifest yet, or an unreadable one: render everything
        return {}
    return data if isinstance(data, dict) and data.get("manifest_version") == MANIFEST_VERSION else {}


def _write_manifest(out: Path, manifest: dict) -> None:
    write_atomic(out / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
