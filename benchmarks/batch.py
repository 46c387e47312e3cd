"""Naive route vs `riskkit batch` on a synthetic district; prints seconds per school, memory, and the ratio last.

    python benchmarks/batch.py [N] [--naive-sample K] [--workers W] [--formats html,pdf]

The synthetic district has N schools (default 100), copies of the sample schools under new ids. The naive route
(per school: the `papermill` command, `jupyter nbconvert --to html` with riskkit's template, then headless
`chromium --print-to-pdf`, the PDF engine riskkit uses, as a command) runs on the first K schools only (default 5;
it costs ~10 s per school), `riskkit batch` on all N. Both must give each sampled school the same visible text.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
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


def naive(district: Path, school_ids: list[str], out: Path) -> float:
    """The three commands per school; returns the seconds taken."""
    out.mkdir(parents=True)
    templates = REPO / "riskkit" / "templates"
    start = time.perf_counter()
    for school_id in school_ids:
        notebook = out / f"{school_id}.ipynb"
        _run([BIN / "papermill", REPO / "notebooks" / "school_report.ipynb", notebook, "--no-progress-bar",
              "-p", "district_dir", district, "-p", "school_id", school_id, "-p", "lang", "de", "-p", "today", TODAY])
        _run([BIN / "jupyter-nbconvert", "--to", "html", "--template", "riskkit_report",
              f"--TemplateExporter.extra_template_basedirs={templates}", "--TemplateExporter.exclude_input=True",
              "--TemplateExporter.exclude_input_prompt=True", "--TemplateExporter.exclude_output_prompt=True",
              "--TemplateExporter.exclude_markdown=True", "--TemplateExporter.exclude_raw=True", notebook])
        _run([find_browser(), "--headless", *BROWSER_ARGS, "--no-pdf-header-footer",
              f"--print-to-pdf={out / f'{school_id}.pdf'}", (out / f"{school_id}.html").as_uri()])
    return time.perf_counter() - start


def _run(command: list) -> None:
    subprocess.run([str(c) for c in command], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class MemorySampler(threading.Thread):
    """Peak memory (PSS) of a process tree, and per direct child (a batch worker with its kernel and browser)."""

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("schools", nargs="?", type=int, default=100)
    parser.add_argument("--naive-sample", type=int, default=5, help="schools the naive route renders (default 5)")
    parser.add_argument("--workers", type=int, help="riskkit batch workers (default: one per core)")
    parser.add_argument("--formats", default="html,pdf")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="riskkit-bench-") as tmp:
        district, ids = build_district(Path(tmp), args.schools)
        sample = ids[: args.naive_sample]
        print(f"synthetic district: {len(ids)} schools; {psutil.cpu_count()} cores; formats {args.formats}")
        print(f"naive route on a sample of {len(sample)} schools (papermill, jupyter nbconvert, chromium --print-to-pdf commands)")
        naive_seconds = naive(district, sample, Path(tmp) / "naive")
        naive_per_school = naive_seconds / len(sample)
        print(f"naive: {naive_seconds:.1f} s for {len(sample)} schools = {naive_per_school:.2f} s per school")

        out = Path(tmp) / "batch"
        batch_seconds, memory = batch(district, out, args.workers, args.formats)
        batch_per_school = batch_seconds / len(ids)
        print(f"riskkit batch: {batch_seconds:.1f} s for {len(ids)} schools + overview = "
              f"{batch_per_school:.3f} s per school (wall time of the whole command)")
        print(f"peak memory, PSS (parent + workers + kernels + browsers): {memory.peak_total / 2**20:.0f} MiB")
        workers = sorted(v for v in memory.peak_child.values() if v > 50 * 2**20)
        print("peak memory per worker, PSS (worker + its kernel + their browsers): "
              + ", ".join(f"{v / 2**20:.0f} MiB" for v in workers))

        differ = [
            s for s in sample
            if VisibleText((Path(tmp) / "naive" / f"{s}.html").read_text(encoding="utf-8")).text()
            != VisibleText((out / "schools" / f"{s}.html").read_text(encoding="utf-8")).text()
        ]
        print(f"same report text for the {len(sample)} sampled schools: {'yes' if not differ else 'NO: ' + ', '.join(differ)}")
        print(f"ratio: {naive_per_school / batch_per_school:.1f}")


if __name__ == "__main__":
    main()
