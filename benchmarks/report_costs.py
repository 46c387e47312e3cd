"""Per-document cost of the school report: execute (warm kernel), HTML export (with the figure drawn to SVG by the
worker's browser), PDF, sizes. Prints medians.

Run: .venv/bin/python benchmarks/report_costs.py [N]   (renders N sample schools after one warm-up; writes nothing)
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from riskkit import load_district
from riskkit.reports.render import SCHOOL_NOTEBOOK, ReportRenderer, notebook_path

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample-district"


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        district_dir = Path(shutil.copytree(SAMPLE, Path(tmp) / "sample-district"))
        schools = list(load_district(district_dir).schools)
        started = time.perf_counter()
        renderer = ReportRenderer()
        print(f"renderer start (kernel, exporter, browser): {time.perf_counter() - started:.2f} s")
        notebook = nbformat.read(notebook_path(SCHOOL_NOTEBOOK), as_version=4)
        costs: dict[str, list[float]] = {"execute": [], "html": [], "pdf": [], "total": []}
        sizes: dict[str, list[int]] = {"ipynb": [], "html": [], "pdf": []}
        try:
            for i in range(count + 1):
                school = schools[i % len(schools)]
                params = {"district_dir": str(district_dir), "school_id": school, "lang": "de", "today": "2026-11-23"}
                t0 = time.perf_counter()
                nb = renderer._execute(nbformat.from_dict(notebook), params, school, SCHOOL_NOTEBOOK)
                t1 = time.perf_counter()
                html = renderer._html(nb, school)
                t2 = time.perf_counter()
                pdf = renderer._browser.print_pdf(html)
                t3 = time.perf_counter()
                if i == 0:
                    print(f"first report (cold imports in the kernel): {t3 - t0:.2f} s")
                    continue
                for key, value in (("execute", t1 - t0), ("html", t2 - t1), ("pdf", t3 - t2), ("total", t3 - t0)):
                    costs[key].append(value)
                sizes["ipynb"].append(len(nbformat.writes(nb).encode()))
                sizes["html"].append(len(html.encode()))
                sizes["pdf"].append(len(pdf))
        finally:
            renderer.close()
    print(f"median of {count} warm reports:")
    for key, values in costs.items():
        print(f"  {key:<8} {statistics.median(values):.2f} s")
    for key, values in sizes.items():
        print(f"  {key:<8} {statistics.median(values) / 1024:.0f} KB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 6)
