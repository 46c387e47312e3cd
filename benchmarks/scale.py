"""A state's schools in one run: loading, tabulating and the district overview at 500 / 5,000 (/ 40,000) schools,
this tree side by side with a baseline (default: the `main` branch), each in a process of its own.

    python benchmarks/scale.py [--sizes 500,5000] [--big] [--baseline main] [--overview-baseline]

Per size it prints `load_district` and `results()` seconds and the peak memory (PSS of the process and its workers)
for the baseline and this tree, with the ratio last; then the overview notebook rendered by this tree (execute, HTML
and PDF through riskkit's warm renderer): seconds, HTML size and SVG count (`--overview-baseline` renders the
baseline's too, which takes minutes at 5,000). `--big` adds 40,000 schools (loading and tabulating only). The
synthetic district copies the sample schools under new ids (benchmarks/batch.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import MemorySampler, build_district  # noqa: E402  (the same synthetic district as the batch benchmark)

REPO = Path(__file__).resolve().parent.parent
TODAY = "2026-11-23"

LOAD = """
import json, sys, time
from datetime import date
import riskkit
assert riskkit.__file__.startswith(sys.argv[3]), riskkit.__file__
from riskkit import load_district
start = time.perf_counter()
district = load_district(sys.argv[1])
loaded = time.perf_counter()
frame = district.results(date.fromisoformat(sys.argv[2]))
done = time.perf_counter()
print(json.dumps({"load": loaded - start, "results": done - loaded, "rows": len(frame)}))
"""

OVERVIEW = """
import json, sys, time
import riskkit
assert riskkit.__file__.startswith(sys.argv[3]), riskkit.__file__
from riskkit.notebooks import DISTRICT_OVERVIEW, notebook_path
from riskkit.reports.render import ReportRenderer
with ReportRenderer(("html", "pdf")) as renderer:
    start = time.perf_counter()
    docs = renderer.render(notebook_path(DISTRICT_OVERVIEW), {"district_dir": sys.argv[1], "lang": "de",
                           "today": sys.argv[2], "report_formats": ["html", "pdf"]}, name="overview")
    seconds = time.perf_counter() - start
html = docs["html"].decode("utf-8")
print(json.dumps({"seconds": seconds, "html_bytes": len(docs["html"]), "pdf_bytes": len(docs["pdf"]),
                  "svgs": html.count("<svg"), "remote": "http://" in html.split("<body", 1)[-1].replace(
                      "http://www.w3.org", "")}))
"""


def baseline_tree(ref: str, folder: Path) -> Path:
    """The package as it is at `ref` (a git ref of this repository), unpacked into `folder`."""
    data = subprocess.run(["git", "-C", str(REPO), "archive", ref, "riskkit"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as archive:
        archive.extractall(folder, filter="data")
    return folder


def run(code: str, tree: Path, *args: object) -> tuple[dict, float, int]:
    """Run `code` with `tree`'s riskkit first on the path; its JSON line, wall seconds and peak PSS (with workers)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *map(str, args)], env=env, cwd=tree.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # not the repo: -c puts cwd first
    sampler = MemorySampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    sampler.stop.set()
    sampler.join()
    if proc.returncode:
        last = err.strip().splitlines()[-1] if err.strip() else f"exit code {proc.returncode}"
        return {"failed": last}, wall, sampler.peak_total
    return json.loads(out.strip().splitlines()[-1]), wall, sampler.peak_total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,5000")
    parser.add_argument("--big", action="store_true", help="also 40,000 schools (loading and tabulating only)")
    parser.add_argument("--baseline", default="main", help="git ref to compare with (default: main)")
    parser.add_argument("--overview-baseline", action="store_true", help="render the baseline's overview too")
    parser.add_argument("--no-overview", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] + ([40_000] if args.big else [])
    mb = 1024 * 1024
    print(f"cores: {os.cpu_count()}, load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory(prefix="riskkit-scale-") as tmp:
        old = baseline_tree(args.baseline, Path(tmp) / "baseline")
        print(f"{'schools':>8} {'code':<9} {'load s':>8} {'results s':>10} {'both s':>8} {'peak MB':>8}")
        for size in sizes:
            district, _ = build_district(Path(tmp) / f"n{size}", size)
            measured = {}
            for name, tree in ((args.baseline, old), ("this", REPO)):
                figures, _, peak = run(LOAD, tree, district, TODAY, tree)
                if "failed" in figures:
                    raise SystemExit(f"{name}: {figures['failed']}")
                both = figures["load"] + figures["results"]
                measured[name] = (both, peak)
                print(f"{size:>8} {name:<9} {figures['load']:>8.2f} {figures['results']:>10.2f} {both:>8.2f} "
                      f"{peak / mb:>8.0f}", flush=True)
            (b_s, b_m), (t_s, t_m) = measured[args.baseline], measured["this"]
            print(f"{size:>8} {'ratio':<9} {'':>8} {'':>10} {b_s / t_s:>7.2f}x {b_m / t_m:>7.2f}x", flush=True)
            if args.no_overview or size > 5_000:
                continue
            trees = ((args.baseline, old),) if args.overview_baseline else ()
            for name, tree in (*trees, ("this", REPO)):
                figures, wall, peak = run(OVERVIEW, tree, district, TODAY, tree)
                if "failed" in figures:
                    print(f"{size:>8} overview ({name}): FAILED after {wall:.1f} s: {figures['failed']}", flush=True)
                    continue
                print(f"{size:>8} overview ({name}): {figures['seconds']:.1f} s (process {wall:.1f} s), HTML "
                      f"{figures['html_bytes'] / mb:.2f} MB, PDF {figures['pdf_bytes'] / mb:.2f} MB, "
                      f"{figures['svgs']} SVG, remote references: {figures['remote']}, peak {peak / mb:.0f} MB",
                      flush=True)


if __name__ == "__main__":
    main()
