"""Time and peak Python memory of spreadsheet export and import; prints one line per case. Writes only to a tmp dir.

Run: .venv/bin/python benchmarks/spreadsheets.py [SCHOOLS]   (default 500 schools = 6,500 rows; the limit is 20,000)

Each case runs twice: once timed, once under tracemalloc for the peak (tracemalloc itself slows Python down).

Cases: export of a synthetic district (copies of the sample schools) as CSV and XLSX; import of those files (all
schools unchanged); refusal of a 100,000-row CSV and of a 100,000-row XLSX (row limit, bounded memory).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook

from riskkit import load_district
from riskkit.sheets.export import export
from riskkit.sheets.importer import plan_import

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample-district"
HEADER = ["school_id", "school_name", "school_kind", "assessed_on", "assessed_by", "risk_id", "likelihood", "reason"]


def measure(name: str, work: Callable[[], str]) -> None:
    start = time.perf_counter()
    outcome = work()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"{name:<34} {seconds:7.2f} s  peak {peak:7.1f} MiB  {outcome}")


def synthetic_district(folder: Path, schools: int) -> Path:
    target = folder / "district"
    shutil.copytree(SAMPLE, target)
    sources = sorted((target / "schools").glob("*.yaml"))
    for n in range(schools - len(sources)):
        source = sources[n % len(sources)]
        text = source.read_text(encoding="utf-8").replace(f"id: {source.stem}", f"id: {source.stem}-{n}", 1)
        (target / "schools" / f"{source.stem}-{n}.yaml").write_text(text, encoding="utf-8")
    return target


def main(schools: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        district = load_district(synthetic_district(folder, schools))
        print(f"{len(district.schools)} schools, {len(district.schools) * len(district.catalogue.risks)} rows")
        for fmt in ("csv", "xlsx"):
            path = folder / f"export.{fmt}"
            measure(f"export {fmt}", lambda: f"{export(district, fmt, path).stat().st_size / 2**20:.1f} MiB file")
            measure(f"import {fmt} (dry run)", lambda: _plan(district, path))
        big_csv = folder / "big.csv"
        line = "gs-x,Schule,primary,2026-10-01,Anna,identity-theft,2,Grund\n"
        big_csv.write_text(",".join(HEADER) + "\n" + line * 100_000, encoding="utf-8")
        measure("refuse 100k-row csv", lambda: _plan(district, big_csv))
        big_xlsx = folder / "big.xlsx"
        book = Workbook(write_only=True)
        sheet = book.create_sheet("rows")
        sheet.append(HEADER)
        for _ in range(100_000):
            sheet.append(line.strip().split(","))
        book.save(big_xlsx)
        measure("refuse 100k-row xlsx", lambda: _plan(district, big_xlsx))


def _plan(district, path: Path) -> str:
    outcomes, rejected, problems = plan_import(district, [path])
    counts = {a: sum(o.action == a for o in outcomes) for a in ("created", "updated", "unchanged")}
    return f"{counts}, {len(rejected)} refused, {problems[0].message if problems else 'no problems'}"


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
