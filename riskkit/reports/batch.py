"""A district's whole run: every school's report and the overview, in parallel, incremental and resumable.

The parent validates the district, decides what needs rendering (an input hash per report, kept in manifest.json)
and hands each job to any `concurrent.futures.Executor`. A job carries its inputs as bytes (district files, the
school's file, the notebook), so workers need no shared disk; each worker process keeps one warm `ReportRenderer`
and returns the documents as bytes, which the parent writes atomically. The manifest is rewritten after every
finished job, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from ..model.district import DISTRICT_FILE, SCHOOLS_DIR, District, read_district, school_files
from ..model.errors import RiskkitError
from ..model.i18n import label
from ..notebooks import DISTRICT_OVERVIEW, notebook_path
from .render import FORMATS, SCHOOL_NOTEBOOK, check_formats
from ..model.yamlio import write_atomic

OVERVIEW_NOTEBOOK = DISTRICT_OVERVIEW
OVERVIEW = "overview"
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


class JobError(RiskkitError):
    """A report that failed in a worker, reduced to its message (so it crosses process and network borders)."""


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

    def inputs(self, version: str, catalogue: str) -> dict[str, str]:
        """sha256 of each input file and of the settings that change the report."""
        hashes = {path: _sha256(data) for path, data in sorted(self.files.items())}
        hashes[f"notebook:{self.notebook}"] = _sha256(self.notebook_bytes)
        hashes["settings"] = _sha256(json.dumps(
            {"riskkit": version, "catalogue": catalogue, "parameters": self.parameters}, sort_keys=True
        ).encode())
        return hashes


@dataclass
class BatchResult:
    """What a run did: per report 'rendered', 'skipped' (up to date) or 'failed' with the cause."""

    out: Path
    status: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
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


def init_worker(formats: Sequence[str]) -> None:
    """Process-pool initializer: leave Ctrl-C to the parent and start the warm renderer before the first job."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _warm_renderer(tuple(formats))


def _warm_renderer(formats: tuple[str, ...]) -> Any:
    """This process's renderer (one kernel, exporter, PDF browser), made once and closed at exit."""
    global _renderer
    if _renderer is None or _renderer.formats != formats:
        from multiprocessing.util import Finalize

        from .render import ReportRenderer

        if _renderer is not None:
            _renderer.close()
        _renderer = ReportRenderer(formats)
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
            documents = _warm_renderer(job.formats).render(notebook, parameters, name=job.name)
    except Exception as exc:  # any failure is this job's failure; its message must survive pickling
        raise JobError(str(exc) or type(exc).__name__) from None
    return documents, time.perf_counter() - start


# --- parent side -------------------------------------------------------------------------------------------------


def plan_jobs(district: District, formats: tuple[str, ...], lang: str, today: date | None) -> list[Job]:
    """The overview job first (the longest), then one job per valid school."""
    common = {DISTRICT_FILE: (district.path / DISTRICT_FILE).read_bytes()}
    for extra in (district.config.catalogue_extension, district.config.matrix):
        if extra:
            common[extra] = (district.path / extra).read_bytes()
    files = {f"{SCHOOLS_DIR}/{path.name}": path.read_bytes() for path in school_files(district.schools_dir)}
    day = {"today": today.isoformat() if today else None}
    jobs = [Job(
        OVERVIEW, OVERVIEW_NOTEBOOK, notebook_path(OVERVIEW_NOTEBOOK).read_bytes(), district.id,
        {**common, **files}, {"lang": lang, **day, "report_formats": list(formats)}, formats,
    )]
    school_notebook = notebook_path(SCHOOL_NOTEBOOK).read_bytes()
    by_id = {Path(relative).stem: relative for relative in files}  # a valid school has exactly one file
    for school_id in district.schools:
        relative = by_id[school_id]
        jobs.append(Job(
            school_id, SCHOOL_NOTEBOOK, school_notebook, district.id,
            {**common, relative: files[relative]}, {"school_id": school_id, "lang": lang, **day}, formats,
        ))
    return jobs


def output_paths(out: Path, name: str, formats: Iterable[str]) -> dict[str, Path]:
    """Where a report's documents go: `overview.*` at the top, schools under `schools/`."""
    folder = out if name == OVERVIEW else out / "schools"
    return {kind: folder / f"{name}.{kind}" for kind in ("ipynb", *formats)}


def run_batch(
    district_dir: str | Path,
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
) -> BatchResult:
    """Render every school's report and the overview into `out` (default reports/<district-id>/).

    `executor` may be any concurrent.futures.Executor (the caller keeps and closes it); otherwise a Dask cluster at
    `scheduler`, or a process pool of `workers` (default: one per core). `progress` None: a bar on a terminal.
    """
    from .. import __version__

    formats = check_formats(formats)
    district, problems = read_district(district_dir)
    lang = lang or district.config.language
    out = Path(out) if out is not None else Path("reports") / district.id
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    _remove_stale_temp_files(out)

    manifest = _read_manifest(out / MANIFEST)
    previous = manifest.get("reports", {})
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "riskkit_version": __version__,
        "catalogue": district.catalogue.ref,
        "district": district.id,
        "lang": lang,
        "formats": list(formats),
        "started": _now(),
        "finished": None,
        "reports": {},
    }
    result = BatchResult(out)
    for problem in problems:
        name, message = Path(problem.file).stem, problem.text(lang)
        result.errors[name] = f"{result.errors[name]}; {message}" if name in result.errors else message
    for name, message in result.errors.items():
        result.status[name] = "failed"
        manifest["reports"][name] = {"status": "failed", "error": message, "inputs": {}, "duration_s": None}

    todo = []
    for job in plan_jobs(district, formats, lang, today):
        inputs = job.inputs(__version__, district.catalogue.ref)
        before = previous.get(job.name, {})
        up_to_date = (
            not force and before.get("status") in ("rendered", "skipped") and before.get("inputs") == inputs
            and set(formats) <= set(before.get("formats", []))
            and all(p.is_file() for p in output_paths(out, job.name, formats).values())
        )
        if up_to_date:
            result.status[job.name] = "skipped"
            manifest["reports"][job.name] = {**before, "status": "skipped"}
        else:
            todo.append((job, inputs))
    _write_manifest(out, manifest)

    started = time.perf_counter()
    skipped = result.count("skipped")
    log(label("cli.batch.plan", lang).format(district=district.id, todo=len(todo), skipped=skipped,
                                             invalid=len(result.errors)))
    try:
        if todo:
            _render_all(todo, result, manifest, out, formats, workers, scheduler, executor, log, progress)
    finally:
        result.seconds = time.perf_counter() - started
        manifest["finished"] = _now()
        manifest["interrupted"] = result.interrupted
        _write_manifest(out, manifest)
        from .index import write_index

        write_index(out, district, manifest, lang)
    return result


def seconds_text(seconds: float, lang: str) -> str:
    """Seconds with one decimal, a decimal comma in German."""
    text = f"{seconds:.1f}"
    return text.replace(".", ",") if lang == "de" else text


def _render_all(
    todo: list[tuple[Job, dict[str, str]]], result: BatchResult, manifest: dict, out: Path,
    formats: tuple[str, ...], workers: int | None, scheduler: str | None, executor: Executor | None,
    log: Callable[[str], None], progress: bool | None,
) -> None:
    from tqdm import tqdm

    lang = manifest["lang"]
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
            count, mp_context=multiprocessing.get_context("spawn"), initializer=init_worker, initargs=(formats,)
        )
    futures: dict[Future, tuple[Job, dict[str, str]]] = {}
    bar = tqdm(total=len(todo), unit="report", disable=not (sys.stderr.isatty() if progress is None else progress))
    say = bar.write if not bar.disable else log
    try:
        for job, inputs in todo:
            futures[executor.submit(render_job, job)] = (job, inputs)
        for done, future in enumerate(as_completed(futures), start=1):
            job, inputs = futures[future]
            entry = {"status": "failed", "inputs": inputs, "formats": list(formats), "duration_s": None, "error": None}
            try:
                documents, seconds = future.result()
                for kind, path in output_paths(out, job.name, formats).items():
                    write_atomic(path, documents[kind])
                every = output_paths(out, job.name, FORMATS)
                for kind in set(FORMATS) - set(formats):  # a document in a format not asked for now is outdated
                    every[kind].unlink(missing_ok=True)
                entry.update(status="rendered", duration_s=round(seconds, 3))
                line = label("cli.batch.rendered", lang).format(done=done, todo=len(todo), name=job.name,
                                                                seconds=seconds_text(seconds, lang))
            except Exception as exc:  # a failing report never stops the others
                entry["error"] = (exc.text(lang) if isinstance(exc, RiskkitError) else str(exc)) or type(exc).__name__
                result.errors[job.name] = entry["error"]
                line = label("cli.batch.job_failed", lang).format(done=done, todo=len(todo), name=job.name,
                                                                  error=entry["error"])
            result.status[job.name] = entry["status"]
            manifest["reports"][job.name] = entry
            _write_manifest(out, manifest)
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
        if client is not None:
            client.close()  # cancels what is still pending on the cluster
        elif owned:
            executor.shutdown(wait=True, cancel_futures=True)


def _remove_stale_temp_files(out: Path) -> None:
    """Temp files a killed run left behind (write_atomic names them `.<name>.<random>.tmp`)."""
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

