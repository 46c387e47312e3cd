"""Reading CSV and XLSX files from outside as plain tables of cells, within bounds, never trusting them.

Every way a file can be unreadable (too big, too many rows, binary, bad encoding, broken zip, merged cells)
becomes a Problem naming the file; nothing here raises on bad input.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree

from ..model.errors import Problem

MAX_BYTES = 20_000_000  # a file larger than this is refused before it is read
MAX_UNZIPPED = 100_000_000  # the XML inside an XLSX may not unpack to more than this
MAX_ROWS = 20_000  # data rows per file: 1,500 schools x 13 risks fit; split larger files
MAX_ENTRIES = 1_000  # files inside an XLSX (a workbook of a few sheets holds a few dozen)
MAX_CELL = 32_767  # characters in one cell, Excel's own limit
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0d\x0e-\x1f]|_(?=x[0-9A-Fa-f]{4}_)")
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def ooxml_escape(text: str) -> str:
    """Control characters (and CR, which XML turns into LF) as `_x000D_`, as Excel stores them; `_` before such
    a pattern as `_x005F_`. Cell text written this way reads back exactly through `ooxml_unescape`."""
    return _XML_UNSAFE.sub(lambda m: f"_x{ord(m[0]):04X}_", text)


def ooxml_unescape(text: str) -> str:
    return _OOXML_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)


@dataclass
class Table:
    """One sheet (or a CSV file): the header row and the data rows with their spreadsheet row numbers."""

    file: str
    sheet: str | None
    header: list[str | None]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)

    def where(self, row: int, column: str | None = None) -> str:
        """`Risiken!row 7, column Begründung` (no sheet part for a CSV file)."""
        place = f"{self.sheet}!row {row}" if self.sheet else f"row {row}"
        return f"{place}, column {column}" if column else place


def read_table_file(path: Path) -> tuple[list[Table], list[Problem]]:
    """Read a .csv file (one table) or an .xlsx file (one table per sheet)."""
    path = Path(path)
    name = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        return [], [Problem(name, "", path.suffix, "unsupported file type; allowed: .csv, .xlsx")]
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return [], [Problem(name, "", f"{size} bytes", f"file too large; at most {MAX_BYTES} bytes are read")]
        raw = path.read_bytes()
    except OSError as exc:
        return [], [Problem(name, "", None, f"cannot read file: {exc.strerror}")]
    if not raw.strip():
        return [], [Problem(name, "", None, "file is empty")]
    if suffix == ".csv":
        table, problems = _read_csv(raw, name)
        return ([table] if table else []), problems
    return _read_xlsx(raw, name)


def _decode(raw: bytes, name: str) -> tuple[str | None, list[Problem]]:
    """UTF-8 (with or without BOM), else Windows-1252 as German Excel writes it."""
    if b"\x00" in raw[:8192]:
        return None, [Problem(name, "", None, "binary file, not CSV text; save the table as CSV (UTF-8 or Windows-1252)")]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), []
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1]
        return None, [Problem(name, f"byte {exc.start}", bad, "not text in UTF-8 or Windows-1252")]


def _separator(text: str) -> str:
    """`;` (German Excel), `,` or tab: whichever the header line holds most of."""
    first = text.split("\n", 1)[0]
    return max(";,\t", key=first.count) if any(c in first for c in ";,\t") else ","


def _read_csv(raw: bytes, name: str) -> tuple[Table | None, list[Problem]]:
    text, problems = _decode(raw, name)
    if text is None:
        return None, problems
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text))
    table: Table | None = None
    try:
        for number, values in enumerate(reader, start=1):
            cells = [_unquote(v) for v in values]
            long = next((i for i, v in enumerate(values) if len(v) > MAX_CELL), None)
            if long is not None:
                return None, [_too_long(name, f"row {number}, column {long + 1}", len(values[long]))]
            if table is None:
                table = Table(name, None, [v.strip() or None for v in values])
                continue
            if len(table.rows) >= MAX_ROWS:
                return None, [_too_many(name)]
            if any(cells):
                table.rows.append((number, cells))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            return None, [_too_long(name, f"row {reader.line_num}", None)]
        return None, [Problem(name, f"row {reader.line_num}", None, f"not readable as CSV: {exc}")]
    return table, []


def _unquote(value: str) -> str | None:
    """Empty cells become None; a leading apostrophe marks text (as in spreadsheets and our export) and is dropped."""
    value = value[1:] if value.startswith("'") else value
    return value if value.strip() else None


def _too_long(name: str, where: str, length: int | None) -> Problem:
    got = f"{length} characters" if length else f"more than {MAX_CELL} characters"
    return Problem(name, where, got, f"cell too long; at most {MAX_CELL} characters per cell")


def _too_many(name: str) -> Problem:
    return Problem(name, "", f"more than {MAX_ROWS} rows", f"too many rows; at most {MAX_ROWS} data rows per file, split it")


def _read_xlsx(raw: bytes, name: str) -> tuple[list[Table], list[Problem]]:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        if len(archive.infolist()) > MAX_ENTRIES:
            entries = len(archive.infolist())
            return [], [Problem(name, "", f"{entries} files inside", f"not a plain XLSX; at most {MAX_ENTRIES} files inside")]
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNZIPPED:
            return [], [Problem(name, "", f"{unpacked} bytes unpacked", f"XLSX too large; at most {MAX_UNZIPPED} bytes unpacked")]
        sheets = _scan_sheets(archive)
        if sum(max(rows - 1, 0) for rows, _ in sheets.values()) > MAX_ROWS:
            return [], [_too_many(name)]
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
        tables, total = [], 0
        for sheet in book.worksheets:
            table = Table(name, sheet.title, [], merged=sheets.get(sheet.title, (0, []))[1])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = [(ooxml_unescape(v) if v.strip() else None) if isinstance(v, str) else v for v in values]
                long = next((i for i, v in enumerate(cells) if isinstance(v, str) and len(v) > MAX_CELL), None)
                if long is not None:
                    where = table.where(number, get_column_letter(long + 1))
                    return [], [_too_long(name, where, len(cells[long]))]
                if number == 1:
                    table.header = [str(v).strip() if v is not None else None for v in cells]
                elif any(v is not None for v in cells):
                    total += 1
                    if total > MAX_ROWS:
                        return [], [_too_many(name)]
                    table.rows.append((number, cells))
            tables.append(table)
        book.close()
    except (zipfile.BadZipFile, InvalidFileException, KeyError, EOFError, zlib.error, ElementTree.ParseError) as exc:
        reason = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        return [], [Problem(name, "", None, f"not a readable XLSX file (damaged, truncated or another format): {reason}")]
    return tables, []


def _scan_sheets(archive: zipfile.ZipFile) -> dict[str, tuple[int, list[str]]]:
    """Rows and merged ranges per sheet title, from one streaming pass over each sheet's XML (bounded memory),
    so an oversized sheet is refused before openpyxl reads it."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG_REL}Relationship")}
    sheets: dict[str, tuple[int, list[str]]] = {}
    for sheet in book.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_REL}id"), "")
        part = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        if part not in archive.namelist():
            continue
        rows, merged, data = 0, [], None
        with archive.open(part) as source:
            for event, element in ElementTree.iterparse(source, events=("start", "end")):
                if event == "start":
                    data = element if element.tag == f"{_MAIN}sheetData" else data
                elif element.tag == f"{_MAIN}row":
                    rows += 1
                    if data is not None:
                        data.clear()  # drop parsed rows: memory stays flat however long the sheet
                elif element.tag == f"{_MAIN}mergeCell":
                    merged.append(element.get("ref", ""))
        sheets[sheet.get("name", "")] = (rows, merged)
    return sheets
