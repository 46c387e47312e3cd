"""How riskkit scales with the number of schools: load, results, the overview notebook, its HTML size, peak memory.

    python benchmarks/scale.py [--sizes 500,5000] [--huge]      (--huge adds 40,000 schools)

Per size, a synthetic district of copies of the sample schools (as benchmarks/batch.py builds it) is measured in a
fresh process: `load_district`, `results()`, then the district overview notebook rendered to HTML by a warm
`ReportRenderer` (kernel + browser, figures drawn to SVG). Peak memory: the measuring process's peak RSS for
load + results, and the peak PSS of the process tree (process, kernel, browser) while the overview renders.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch import TODAY, MemorySampler, build_district  # noqa: E402  (the same synthetic district)


def measure(count: int) -> dict:
    """One size, in this process (run by main in a child per size, so peaks do not mix)."""
    import nbformat

    from riskkit import load_district
    from riskkit.notebooks import DISTRICT_OVERVIEW, notebook_path
    from riskkit.reports.render import ReportRenderer

    with tempfile.TemporaryDirectory(prefix="riskkit-scale-") as tmp:
        district_dir, _ = build_district(Path(tmp), count)
        t0 = time.perf_counter()
        district = load_district(district_dir)
        t1 = time.perf_counter()
        district.results()
        t2 = time.perf_counter()
        peak_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        del district
        with ReportRenderer(("html",)) as renderer:
            sampler = MemorySampler(os.getpid())
            sampler.start()
            t3 = time.perf_counter()
            documents = renderer.render(notebook_path(DISTRICT_OVERVIEW), {
                "district_dir": str(district_dir), "today": TODAY, "report_formats": ["html", "pdf"]}, name="overview")
            t4 = time.perf_counter()
            sampler.stop.set()
            sampler.join()
        nb = nbformat.reads(documents["ipynb"].decode(), as_version=4)
        figures = sum("application/vnd.plotly.v1+json" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    return {"schools": count, "load": t1 - t0, "results": t2 - t1, "overview": t4 - t3,
            "html": len(documents["html"]), "ipynb": len(documents["ipynb"]), "figures": figures,
            "peak_load": peak_load, "peak_overview": sampler.peak_total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,5000")
    parser.add_argument("--huge", action="store_true", help="also 40,000 schools (minutes, GBs)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one size, print JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    sizes = [int(s) for s in args.sizes.split(",")] + ([40_000] if args.huge else [])
    print(f"{os.cpu_count()} cores (shared: load average {os.getloadavg()[0]:.1f} at the start)")
    print(f"{'schools':>8} {'load':>8} {'results':>8} {'overview':>9} {'HTML':>9} {'ipynb':>9} {'figures':>7} "
          f"{'peak load+results':>18} {'peak overview':>14}")
    for count in sizes:
        run = subprocess.run([sys.executable, __file__, "--one", str(count)], capture_output=True, text=True)
        if run.returncode != 0:
            print(f"{count:>8} failed: {run.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(run.stdout.strip().splitlines()[-1])
        print(f"{r['schools']:>8} {r['load']:>7.2f}s {r['results']:>7.2f}s {r['overview']:>8.1f}s "
              f"{r['html'] / 2**20:>7.2f}MB {r['ipynb'] / 2**20:>7.2f}MB {r['figures']:>7} "
              f"{r['peak_load'] / 2**20:>16.0f}MB {r['peak_overview'] / 2**20:>12.0f}MB")


if __name__ == "__main__":
    main()
