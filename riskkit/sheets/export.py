"""`riskkit export`: a district's results table as CSV or XLSX, safe to open in a spreadsheet and lossless to import.

German (the district's language, or `lang="de"`): German headers and level/value names, CSV with `;`, UTF-8 with
BOM and every text quoted, as German Excel opens by double-click. English: the column ids of `District.results()`
as headers, levels as numbers, ids and true/false (for tools), CSV with `,`, UTF-8 with BOM, text quoted.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..model.district import RESULT_COLUMNS, District
from ..model.i18n import Lang, label
from ..figures.cells import neutralise
from ..model.yamlio import write_atomic
from .files import ooxml_escape
from .flat import (
    PARTIAL_COLUMN, PLANNED_COLUMN, RISK_KINDS, Kind, SchoolField, input_columns, planned_slots,
    school_fields, school_rows,
)

if TYPE_CHECKING:
    import pandas as pd

Format = Literal["csv", "xlsx"]
DERIVED_KINDS: dict[str, Kind] = {
    "applicable": "bool", "assessed": "bool", "severity_raised": "bool", "overridden": "bool",
    "prior_consultation": "bool", "review_overdue": "bool", "likelihood": "level", "severity": "level",
    "residual_likelihood": "level", "residual_severity": "level", "inherent_level": "risk_level",
    "residual_level": "risk_level", "measures_in_place": "list", "measures_partial": "list",
    "measures_planned": "list", "next_review": "date", "status": "choice", "school_kind": "kind",
}
SLOT_KINDS: dict[str, Kind] = {"measure": "ident", "scope": "text", "owner": "text", "due": "date", "note": "text"}


def export_frame(district: District, today: date | None = None) -> pd.DataFrame:
    """`District.results()` plus the DSFA status and every input column it lacks (raw values: ids and numbers)."""
    import pandas as pd

    results = district.results(today)
    summary = district.summary(today)
    results["status"] = results["school_id"].map(summary["status"].astype(str))
    results["blockers"] = results["school_id"].map(summary["blockers"])
    slots = planned_slots(district.catalogue)
    fields = school_fields(district.catalogue, district.config)
    columns = input_columns(slots, fields)
    extra = [c for c in columns if c not in RESULT_COLUMNS]
    rows = [row for a in district.schools.values() for row in school_rows(a, district.catalogue, slots, fields)]
    inputs = pd.DataFrame(rows, columns=columns)[["school_id", "risk_id", *extra]]
    integers = ["override_likelihood", "override_severity", "severity_raise_level", "platform_pupils", "platform_staff"]
    for column in integers:
        inputs[column] = inputs[column].astype("Int64")
    return results.merge(inputs, on=["school_id", "risk_id"], how="left", validate="one_to_one")


class Wording:
    """Headers and values of the export in one language (see the module docstring)."""

    def __init__(self, district: District, lang: Lang):
        self.district, self.lang = district, lang
        self.fields: dict[str, SchoolField] = {f.column: f for f in school_fields(district.catalogue, district.config)}
        self.bases = {b.id: b.title for b in district.catalogue.legal_bases}

    def kind(self, column: str) -> Kind:
        if column in self.fields:
            return self.fields[column].kind
        if slot := PLANNED_COLUMN.fullmatch(column) or PARTIAL_COLUMN.fullmatch(column):
            return SLOT_KINDS[slot[2]]
        return DERIVED_KINDS.get(column) or RISK_KINDS.get(column, "text")

    def header(self, column: str) -> str:
        """The column's header: its id in English, its German label in German."""
        return column if self.lang == "en" else header_label(column, self.fields, "de")

    def value(self, column: str, value: Any) -> Any:
        """A cell value: None, bool, int, date or str (lists joined with ', '); named in German for German."""
        value = _plain(value)
        if value is None:
            return None
        if isinstance(value, list):
            return ", ".join(value)
        if self.lang == "en":
            return value
        kind, matrix = self.kind(column), self.district.matrix
        if kind == "bool":
            return label("yes" if value else "no", "de")
        if kind == "level":
            return matrix.level_name(int(value), "de")
        if kind == "risk_level":
            return matrix.risk_level_name(value, "de")
        if kind == "kind":
            return self.district.config.kind_name(value, "de")
        if kind == "choice":
            field = self.fields.get(column)
            if field and field.group == "legal_basis":
                return self.bases[value]["de"] if value in self.bases else value
            return label(f"sheet.val.{field.group if field else 'step'}.{value}", "de")
        return value


def header_label(column: str, fields: dict[str, SchoolField], lang: Lang) -> str:
    """The label of a flat column in `lang` (`sheet.flat.*`)."""
    if column in fields:
        field = fields[column]
        return label(f"sheet.flat.{field.label}", lang).format(id=field.ref)
    if slot := PLANNED_COLUMN.fullmatch(column) or PARTIAL_COLUMN.fullmatch(column):
        group = "planned" if column.startswith("planned") else "partial"
        return label(f"sheet.flat.{group}", lang).format(n=slot[1], part=label(f"sheet.flat.part.{slot[2]}", lang))
    return label(f"sheet.flat.{column}", lang)



def _plain(value: Any) -> Any:
    """A value as None, bool, int, date, str or list (numpy and pandas scalars to Python)."""
    import pandas as pd

    if isinstance(value, list):
        return value
    if pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def export_bytes(district: District, fmt: Format, today: date | None = None, lang: Lang | None = None) -> bytes:
    """The export file's content in `lang` (default: the district's language)."""
    wording = Wording(district, lang or district.config.language)
    frame = export_frame(district, today)
    columns = list(frame.columns)
    header = [wording.header(c) for c in columns]
    rows = [[wording.value(c, v) for c, v in zip(columns, row)] for row in frame.itertuples(index=False, name=None)]
    if fmt == "csv":
        return _csv(header, rows, ";" if wording.lang == "de" else ",")
    if fmt == "xlsx":
        return _xlsx(header, rows, label("sheet.name.results", wording.lang))
    raise ValueError(f"format must be csv or xlsx, got {fmt!r}")


def _csv(header: list[str], rows: list[list[Any]], delimiter: str) -> bytes:
    """UTF-8 with BOM (Excel then reads UTF-8), CRLF, every text quoted (numbers stay bare)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    return neutralise(value) if isinstance(value, str) else str(value)


def _xlsx(header: list[str], rows: list[list[Any]], title: str) -> bytes:
    """One sheet: bold frozen header row, an autofilter over every column, widths from the content."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    for col, name in enumerate(header, start=1):
        longest = max([len(name) * 0.6, *(len(str(r[col - 1])) for r in rows[:200] if r[col - 1] is not None)])
        sheet.column_dimensions[get_column_letter(col)].width = round(min(max(longest + 2, 10), 60), 1)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
    head = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=ooxml_escape(name))
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        head.append(cell)
    sheet.append(head)
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


def export(district: District, fmt: Format, output: Path, today: date | None = None, lang: Lang | None = None) -> Path:
    """Write the export atomically to `output`."""
    write_atomic(output, export_bytes(district, fmt, today, lang))
    return output

