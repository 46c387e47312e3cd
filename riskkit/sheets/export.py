"""`riskkit export`: a district's results table as CSV or XLSX for other tools, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..model.district import RESULT_COLUMNS, District
from .flat import input_columns, planned_slots, school_rows
from .files import ooxml_escape
from ..figures.cells import neutralise
from ..model.yamlio import write_atomic

if TYPE_CHECKING:
    import pandas as pd

Format = Literal["csv", "xlsx"]


def export_frame(district: District, today: date | None = None) -> pd.DataFrame:
    """`District.results()` plus the input columns it lacks (assessed by, override, planned owner/due/note)."""
    import pandas as pd

    results = district.results(today)
    slots = planned_slots(district.catalogue)
    extra = [c for c in input_columns(slots) if c not in RESULT_COLUMNS]
    rows = [row for a in district.schools.values() for row in school_rows(a, district.catalogue, slots)]
    inputs = pd.DataFrame(rows, columns=input_columns(slots))[["school_id", "risk_id", *extra]]
    for column in ("override_likelihood", "override_severity"):
        inputs[column] = inputs[column].astype("Int64")
    return results.merge(inputs, on=["school_id", "risk_id"], how="left", validate="one_to_one")


def _plain(value: Any) -> Any:
    """A cell value as None, bool, int, date or str (lists joined with ', ')."""
    import pandas as pd

    if isinstance(value, list):
        return ", ".join(value)
    if pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value  # numpy scalars to Python


def export_bytes(district: District, fmt: Format, today: date | None = None) -> bytes:
    """The export file's content: CSV (UTF-8, comma, formula-like text neutralised) or XLSX (text as text)."""
    frame = export_frame(district, today)
    rows = [[_plain(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    if fmt == "csv":
        return _csv(list(frame.columns), rows)
    if fmt == "xlsx":
        return _xlsx(list(frame.columns), rows)
    raise ValueError(f"format must be csv or xlsx, got {fmt!r}")


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return neutralise(value) if isinstance(value, str) else str(value)


def _xlsx(header: list[str], rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("results")
    sheet.append(header)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    """Text as a string cell (openpyxl would make text starting with '=' a formula), dates as dates."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, str):
        text = ooxml_escape(value)
        if not text.startswith("="):
            return text
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"  # text stays text, even when it looks like a formula
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value


def export(district: District, fmt: Format, output: Path, today: date | None = None) -> Path:
    """Write the export atomically to `output`."""
    write_atomic(output, export_bytes(district, fmt, today))
    return output
