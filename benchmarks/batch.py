"""Naive route vs `riskkit batch` on a synthetic district, with the same parallelism; prints seconds per school,
memory per worker (PSS), and the ratio last.

    python benchmarks/batch.py [N] [--naive-sample K] [--workers W] [--formats html,pdf] [--dask M]

The synthetic district has N schools (default 200), copies of the sample schools under new ids. The naive route
(per school: the `papermill` command, `jupyter nbconvert --to html` with riskkit's template, which draws the plotly
figure to SVG with a browser of its own, then headless `chromium --print-to-pdf` as a command) runs on the first K
schools only (default 8; ~10 s per school), in W parallel chains of commands; `riskkit batch` runs all N on W
workers (default: one per core). Both must give each sampled school the same visible text.

`--dask M` (opt-in) also renders an M-school district (e.g. 2000) on a local Dask cluster (LocalCluster, W worker
processes, one thread each) and checks that the first N schools' reports have the same text as the process pool's.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import psutil

from riskkit.reports.browser import BROWSER_ARGS, find_browser

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "sample-district"
BIN = Path(sys.executable).parent
TODAY = "2026-11-23"


def build_district(folder: Path, count: int) -> tuple[Path, list[str]]:
    """`count` schools made from the sample schools, ids `<sample-id>-<n>`."""
    district = folder / "synthetic-district"
    (district / "schools").mkdir(parents=True)
    shutil.copy(SAMPLE / "district.yaml", district / "district.yaml")
    samples = sorted((SAMPLE / "schools").glob("*.yaml"))
    ids = []
    for n in range(count):
        source = samples[n % len(samples)]
        school_id = f"{source.stem}-{n:04d}"
        text = source.read_text(encoding="utf-8").replace(f"id: {source.stem}", f"id: {school_id}", 1)
        (district / "schools" / f"{school_id}.yaml").write_text(text, encoding="utf-8")
        ids.append(school_id)
    return district, ids


def naive(district: Path, school_ids: list[str], out: Path, chains: int) -> tuple[float, MemorySampler]:
    """The three commands per school, `chains` schools at a time; returns the seconds taken and the memory."""
    out.mkdir(parents=True)
    sampler = MemorySampler(os.getpid())
    sampler.start()
    start = time.perf_counter()
    with ThreadPoolExecutor(chains) as pool:
        list(pool.map(lambda school_id: _naive_school(district, school_id, out), school_ids))
    seconds = time.perf_counter() - start
    sampler.stop.set()
    sampler.join()
    return seconds, sampler


def _naive_school(district: Path, school_id: str, out: Path) -> None:
    templates = REPO / "riskkit" / "reports" / "templates"
    notebook = out / f"{school_id}.ipynb"
    _run([BIN / "papermill", REPO / "notebooks" / "school_report.ipynb", notebook, "--no-progress-bar",
          "-p", "district_dir", district, "-p", "school_id", school_id, "-p", "lang", "de", "-p", "today", TODAY])
    _run([BIN / "jupyter-nbconvert", "--to", "html", "--template", "riskkit_report",
          f"--TemplateExporter.extra_template_basedirs={templates}", "--TemplateExporter.exclude_input=True",
          "--TemplateExporter.exclude_input_prompt=True", "--TemplateExporter.exclude_output_prompt=True",
          "--TemplateExporter.exclude_markdown=True", "--TemplateExporter.exclude_raw=True", notebook])
    _run([find_browser(), "--headless", *BROWSER_ARGS, "--no-pdf-header-footer",
          f"--print-to-pdf={out / f'{school_id}.pdf'}", (out / f"{school_id}.html").as_uri()])


def _run(command: list) -> None:
    subprocess.run([str(c) for c in command], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class MemorySampler(threading.Thread):
    """Peak memory (PSS) of a process tree, and per direct child with its descendants (a batch worker with its kernel
    and browser, or one naive command with what it started)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak_total = 0
        self.peak_child: dict[int, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                children = self.root.children()
                total = _rss(self.root)
                for child in children:
                    tree = _rss(child) + sum(_rss(p) for p in _descendants(child))
                    self.peak_child[child.pid] = max(self.peak_child.get(child.pid, 0), tree)
                    total += tree
                self.peak_total = max(self.peak_total, total)
            except psutil.Error:
                pass
            time.sleep(0.2)


def _descendants(process: psutil.Process) -> list[psutil.Process]:
    try:
        return process.children(recursive=True)
    except psutil.Error:
        return []


def _rss(process: psutil.Process) -> int:
    """Proportional set size: shared pages (Chromium's processes share many) counted once overall."""
    try:
        return process.memory_full_info().pss
    except psutil.Error:
        return 0


def batch(district: Path, out: Path, workers: int | None, formats: str) -> tuple[float, MemorySampler]:
    command = [BIN / "riskkit", "batch", district, "--out", out, "--formats", formats, "--force", "--today", TODAY]
    if workers:
        command += ["--workers", str(workers)]
    start = time.perf_counter()
    proc = subprocess.Popen([str(c) for c in command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sampler = MemorySampler(proc.pid)
    sampler.start()
    code = proc.wait()
    seconds = time.perf_counter() - start
    sampler.stop.set()
    sampler.join()
    if code != 0:
        raise SystemExit(f"riskkit batch exited with {code}")
    return seconds, sampler


class VisibleText(HTMLParser):
    """The text a reader sees (outside <style>, <title> and SVG internals such as clip-path ids)."""

    def __init__(self, html: str):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("style", "title")

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "title") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)

    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.parts)).strip()


def dask_run(folder: Path, count: int, workers: int, formats: str, reference: Path, compare: list[str]) -> None:
    """`count` schools on a LocalCluster of `workers` processes; the first schools' text must match `reference`."""
    from distributed import LocalCluster

    from riskkit.reports.batch import run_batch

    district, ids = build_district(folder / "dask", count)
    out = folder / "dask-out"
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        sampler = MemorySampler(os.getpid())
        sampler.start()
        start = time.perf_counter()
        result = run_batch(district, out=out, formats=formats.split(","), scheduler=cluster.scheduler_address,
                           today=date.fromisoformat(TODAY), log=lambda line: None, progress=False)
        seconds = time.perf_counter() - start
        sampler.stop.set()
        sampler.join()
    if not result.ok:
        raise SystemExit(f"Dask run failed: {sorted(result.errors.items())[:3]}")
    differ = [s for s in compare if _text(out / "schools" / f"{s}.html") != _text(reference / "schools" / f"{s}.html")]
    print(f"Dask LocalCluster ({workers} workers): {seconds:.1f} s for {len(ids)} schools + overview = "
          f"{seconds / len(ids):.3f} s per school; all {len(ids)} rendered: {result.count('rendered') == len(ids) + 1}; "
          f"same text as the process pool for {len(compare)} schools: {'yes' if not differ else 'NO: ' + ', '.join(differ)}")
    print("peak memory per Dask worker, PSS: " + _per_worker(sampler))


def _text(path: Path) -> str:
    return VisibleText(path.read_text(encoding="utf-8")).text()


def _per_worker(sampler: MemorySampler) -> str:
    workers = sorted(v for v in sampler.peak_child.values() if v > 50 * 2**20)
    return ", ".join(f"{v / 2**20:.0f} MiB" for v in workers) or "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("schools", nargs="?", type=int, default=200)
    parser.add_argument("--naive-sample", type=int, default=8, help="schools the naive route renders (default 8)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="parallel processes for both routes (default: one per core)")
    parser.add_argument("--formats", default="html,pdf")
    parser.add_argument("--dask", type=int, metavar="M", help="also run an M-school district on a local Dask cluster")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="riskkit-bench-") as tmp:
        district, ids = build_district(Path(tmp), args.schools)
        sample = ids[: args.naive_sample]
        print(f"synthetic district: {len(ids)} schools; {psutil.cpu_count()} cores (shared: load average "
              f"{os.getloadavg()[0]:.1f} at the start); formats {args.formats}; {args.workers} parallel processes each")
        print(f"naive route on a sample of {len(sample)} schools, {args.workers} chains of commands at a time "
              "(papermill, jupyter nbconvert, chromium --print-to-pdf)")
        naive_seconds, naive_memory = naive(district, sample, Path(tmp) / "naive", args.workers)
        naive_per_school = naive_seconds / len(sample)
        print(f"naive: {naive_seconds:.1f} s for {len(sample)} schools = {naive_per_school:.2f} s per school (wall)")
        commands = sorted(naive_memory.peak_child.values())
        print(f"peak memory per naive chain, PSS (its largest command with its kernel or browser; a chain runs one "
              f"command at a time): {commands[-1] / 2**20:.0f} MiB (median command {commands[len(commands) // 2] / 2**20:.0f} MiB)")

        out = Path(tmp) / "batch"
        batch_seconds, memory = batch(district, out, args.workers, args.formats)
        batch_per_school = batch_seconds / len(ids)
        print(f"riskkit batch: {batch_seconds:.1f} s for {len(ids)} schools + overview = "
              f"{batch_per_school:.3f} s per school (wall time of the whole command)")
        print(f"peak memory, PSS (parent + workers + kernels + browsers): {memory.peak_total / 2**20:.0f} MiB")
        print("peak memory per worker, PSS (worker + its kernel + its browser): " + _per_worker(memory))

        differ = [s for s in sample if _text(Path(tmp) / "naive" / f"{s}.html") != _text(out / "schools" / f"{s}.html")]
        print(f"same report text for the {len(sample)} sampled schools: {'yes' if not differ else 'NO: ' + ', '.join(differ)}")
        if args.dask:
            dask_run(Path(tmp), args.dask, args.workers, args.formats, out, ids)
        print(f"ratio (naive / riskkit batch, seconds per school, both on {args.workers} processes): "
              f"{naive_per_school / batch_per_school:.1f}")


if __name__ == "__main__":
    main()
