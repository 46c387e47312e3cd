"""`riskkit template`: the XLSX questionnaire a school fills in, generated from the district's catalogue and matrix.

Sheets: instructions, school details, one row per risk (severity read-only, likelihood from a drop-down, a yes
column per measure that lowers the risk, an optional override), planned measures. Headers in German or English;
`riskkit import` reads the filled file back (intake.py); the columns of both are in questionnaire.py.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model.assessment import SCHOOL_KINDS, SchoolAssessment
from ..model.district import District
from .flat import SCHOOL_COLUMNS
from ..model.i18n import Lang, label
from ..model.method import LEVELS
from ..figures.markup import risk_numbers
from .files import ooxml_escape
from .questionnaire import (
    OVERRIDE_COLUMNS, PLANNED_COLUMNS, READ_ONLY_COLUMNS, RISK_COLUMNS, SHEETS, column_label, sheet_name,
)
from ..model.yamlio import write_atomic

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

GREY, DARK_GREY = "F2F2F2", "BFBFBF"  # black text on both: contrast 18.8:1 and 10.4:1


def template_bytes(district: District, lang: Lang, school: SchoolAssessment | None = None) -> bytes:
    """The questionnaire as XLSX bytes; with `school`, prefilled with that school's assessment (for a review)."""
    from openpyxl import Workbook

    book = Workbook()
    sheets = {key: book.create_sheet(sheet_name(key, lang)) for key in SHEETS}
    book.remove(book.worksheets[0])
    lists = _lists(sheets["lists"], district, lang)
    _instructions(sheets["instructions"], district, lang)
    _school_sheet(sheets["school"], district, lang, school, lists)
    _risk_sheet(sheets["risks"], district, lang, school, lists)
    _planned_sheet(sheets["planned"], district, lang, school, lists)
    book.active = 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_template(district: District, output: Path, lang: Lang, school_id: str | None = None) -> Path:
    """Write the questionnaire atomically; `school_id` prefills it with that school's answers."""
    school = district.school(school_id) if school_id else None
    write_atomic(output, template_bytes(district, lang, school))
    return output


def _lists(sheet: Worksheet, district: District, lang: Lang) -> dict[str, str]:
    """Drop-down values on a hidden, protected sheet; returns a range formula per list."""
    from openpyxl.utils import quote_sheetname

    cat = district.catalogue
    columns = {
        "levels": [district.matrix.level_name(i, lang) for i in LEVELS],
        "kinds": [label(f"kind.{k}", lang) for k in SCHOOL_KINDS],
        "yes": [label("yes", lang)],
        "risks": [r.title[lang] for r in cat.risks],
        "measures": [m.title[lang] for m in cat.measures],
    }
    ranges = {}
    for col, (key, values) in enumerate(columns.items(), start=1):
        for row, value in enumerate(values, start=1):
            sheet.cell(row, col, value).data_type = "s"
        letter = chr(ord("A") + col - 1)
        ranges[key] = f"{quote_sheetname(sheet.title)}!${letter}$1:${letter}${len(values)}"
    sheet.sheet_state = "hidden"
    sheet.protection.sheet = True
    return ranges


def _instructions(sheet: Worksheet, district: District, lang: Lang) -> None:
    from openpyxl.styles import Alignment, Font

    sheet.append([label("sheet.instructions.title", lang)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([f"{district.config.name} · {district.catalogue.title[lang]} ({district.catalogue.ref})"])
    sheet.append([])
    for n in range(1, 7):
        sheet.append([label(f"sheet.instructions.{n}", lang)])
    for key, guidance in (("levels", district.matrix.likelihood_guidance),
                          ("severity_levels", district.matrix.severity_guidance)):
        sheet.append([])
        sheet.append([label(f"sheet.instructions.{key}", lang)])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
        sheet.append([label("sheet.instructions.level", lang), label("sheet.instructions.meaning", lang)])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for level in LEVELS:
            sheet.append([f"{level} {district.matrix.level_name(level, lang)}", guidance[level][lang]])
    sheet.column_dimensions["A"].width = 110
    sheet.column_dimensions["B"].width = 90
    for row in sheet.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.protection.sheet = True


def _header(sheet: Worksheet, values: list[str], height: float | None = None) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    sheet.append(values)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=DARK_GREY)
        cell.alignment = Alignment(wrap_text=True, vertical="bottom")
        cell.border = Border(bottom=Side(style="thin"))
    if height:
        sheet.row_dimensions[1].height = height
    sheet.freeze_panes = "A2"


def _input(cell: Any, value: Any = None) -> None:
    """An unlocked cell the school fills in; text stays text."""
    from openpyxl.styles import Alignment, Protection

    cell.value = ooxml_escape(value) if isinstance(value, str) else value
    if isinstance(value, str):
        cell.data_type = "s"
    cell.protection = Protection(locked=False)
    cell.alignment = Alignment(wrap_text=True, vertical="top")


def _read_only(cell: Any, value: Any, fill: str = GREY) -> None:
    from openpyxl.styles import Alignment, PatternFill

    cell.value = ooxml_escape(value) if isinstance(value, str) else value
    if isinstance(value, str):
        cell.data_type = "s"
    cell.fill = PatternFill("solid", fgColor=fill)
    cell.alignment = Alignment(wrap_text=True, vertical="top")


def _protect(sheet: Worksheet) -> None:
    """Locked cells read-only; columns and rows may still be resized."""
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False


def _validation(sheet: Worksheet, formula: str, cells: list[str], kind: str = "list") -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    if not cells:
        return
    if kind == "date":
        rule = DataValidation(type="date", operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2099,12,31)")
    else:
        rule = DataValidation(type="list", formula1=formula, allow_blank=True)
    rule.showErrorMessage = True
    for cell in cells:
        rule.add(cell)
    sheet.add_data_validation(rule)


def _school_sheet(sheet: Worksheet, district: District, lang: Lang, school: SchoolAssessment | None,
                  lists: dict[str, str]) -> None:
    values = {"catalogue_version": district.catalogue.version}
    if school:
        values.update(school_id=school.school.id, school_name=school.school.name,
                      school_kind=label(f"kind.{school.school.kind}", lang), assessed_on=school.assessed_on,
                      assessed_by=school.assessed_by, catalogue_version=school.catalogue_version)
    _header(sheet, [column_label("field", lang), column_label("value", lang)])
    for row, key in enumerate(SCHOOL_COLUMNS, start=2):
        _read_only(sheet.cell(row, 1), column_label(key, lang))
        if key == "catalogue_version":
            _read_only(sheet.cell(row, 2), values[key])
        else:
            _input(sheet.cell(row, 2), values.get(key))
    rows = {key: f"B{n}" for n, key in enumerate(SCHOOL_COLUMNS, start=2)}
    sheet[rows["assessed_on"]].number_format = "yyyy-mm-dd"
    _validation(sheet, lists["kinds"], [rows["school_kind"]])
    _validation(sheet, "", [rows["assessed_on"]], kind="date")
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 70
    _protect(sheet)


def _risk_sheet(sheet: Worksheet, district: District, lang: Lang, school: SchoolAssessment | None,
                lists: dict[str, str]) -> None:
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    cat, matrix = district.catalogue, district.matrix
    headers = [column_label(k, lang) for k in RISK_COLUMNS] + [m.title[lang] for m in cat.measures]
    headers += [column_label(k, lang) for k in OVERRIDE_COLUMNS]
    _header(sheet, headers, height=260)
    first_measure = len(RISK_COLUMNS) + 1
    first_override = first_measure + len(cat.measures)
    for col in range(first_measure, first_override):
        sheet.cell(1, col).alignment = Alignment(text_rotation=90, wrap_text=True, vertical="bottom")
    yes, level_cells, yes_cells = label("yes", lang), [], []
    numbers = risk_numbers(cat.risks)
    likelihood_col, reason_col = (RISK_COLUMNS.index(k) + 1 for k in ("likelihood", "reason"))

    def level(number: int | None) -> str | None:
        return matrix.level_name(number, lang) if number else None

    for row, risk in enumerate(cat.risks, start=2):
        entry = school.risks.get(risk.id) if school else None
        given = dict(nr=numbers[risk.id], risk_id=risk.id, risk_title=risk.title[lang],
                     severity=f"{risk.severity} {level(risk.severity)}", severity_reason=risk.severity_reason[lang])
        for col, key in enumerate(READ_ONLY_COLUMNS, start=1):
            _read_only(sheet.cell(row, col), given[key])
        _input(sheet.cell(row, likelihood_col), level(entry.likelihood) if entry else None)
        _input(sheet.cell(row, reason_col), entry.reason if entry else None)
        relevant = {m.id for m in cat.measures_for(risk.id)}
        for col, measure in enumerate(cat.measures, start=first_measure):
            cell = sheet.cell(row, col)
            if measure.id in relevant:
                _input(cell, yes if entry and measure.id in entry.measure_ids else None)
                yes_cells.append(cell.coordinate)
            else:
                _read_only(cell, None, fill=DARK_GREY)
        override = school.dsfa.decision.residual.get(risk.id) if entry and school else None
        _input(sheet.cell(row, first_override), level(override.likelihood) if override else None)
        _input(sheet.cell(row, first_override + 1), level(override.severity) if override else None)
        _input(sheet.cell(row, first_override + 2), override.reason if override else None)
        level_cells += [f"{get_column_letter(col)}{row}" for col in (likelihood_col, first_override, first_override + 1)]
    _validation(sheet, lists["levels"], level_cells)
    _validation(sheet, lists["yes"], yes_cells)
    widths = {1: 6, 2: 22, 3: 34, 4: 16, 5: 50, 6: 18, 7: 60}
    for col in range(1, len(headers) + 1):
        sheet.column_dimensions[get_column_letter(col)].width = widths.get(col, 5 if col < first_override else 30)
    sheet.freeze_panes = "D2"
    _protect(sheet)


def _planned_sheet(sheet: Worksheet, district: District, lang: Lang, school: SchoolAssessment | None,
                   lists: dict[str, str]) -> None:
    cat = district.catalogue
    _header(sheet, [column_label(k, lang) for k in PLANNED_COLUMNS])
    planned = [(risk, p) for risk in cat.risks if school and risk.id in school.risks
               for p in school.risks[risk.id].measures_planned]
    capacity = sum(len(cat.measures_for(r.id)) for r in cat.risks)  # every risk, every measure that lowers it
    for row in range(2, capacity + 2):
        risk, plan = planned[row - 2] if row - 2 < len(planned) else (None, None)
        values = ([risk.title[lang], cat.measure(plan.measure).title[lang], plan.owner, plan.due, plan.note]
                  if plan else [None] * 5)
        for col, value in enumerate(values, start=1):
            _input(sheet.cell(row, col), value)
        sheet.cell(row, 4).number_format = "yyyy-mm-dd"
    last = capacity + 1
    _validation(sheet, lists["risks"], [f"A2:A{last}"])
    _validation(sheet, lists["measures"], [f"B2:B{last}"])
    _validation(sheet, "", [f"D2:D{last}"], kind="date")
    for letter, width in zip("ABCDE", (40, 44, 30, 14, 50)):
        sheet.column_dimensions[letter].width = width
    _protect(sheet)
