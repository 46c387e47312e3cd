"""`riskkit template`: the XLSX questionnaire a school fills in, generated from the district's catalogue and matrix.

Sheets: instructions; school details; the platform as the school runs it (hosting, numbers, extra data, per module
in use / legal basis / groups); one row per risk (severity read-only, likelihood from a drop-down, an optional raised
severity with its reason, a column per measure that lowers the risk: "ja" or "teilweise: <scope>", then the head's
residual values and acceptance); planned measures; the questions on necessity and rights (the vendor's suggestion
pre-filled and marked); threshold additions; the councils' views; the decision. The DPO's advice is not in it (the
DPO records it). Headers in German or English; `riskkit import` reads the filled file back (intake.py); the columns
of both are in questionnaire.py. Prefilled for a school that described its platform, the risk sheet lists only the
risks that apply to it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..figures.markup import risk_numbers
from ..model.assessment import SCHOOL_KINDS, SchoolAssessment
from ..model.district import District
from ..model.dsfa import ANSWERS, OUTCOMES, QUESTION_STATUSES
from ..model.i18n import Lang, label
from ..model.method import LEVELS
from ..model.platform import HOSTINGS, OPERATIONS
from ..model.yamlio import write_atomic
from .files import ooxml_escape
from .flat import SCHOOL_COLUMNS
from .questionnaire import (
    DECISION_FIELDS, DECISION_RISK_COLUMNS, MODULE_HEADER, PLANNED_COLUMNS, PLATFORM_FIELDS, PLATFORM_HEADER,
    QUESTION_COLUMNS, READ_ONLY_COLUMNS, RISK_COLUMNS, SHEETS, THRESHOLD_COLUMNS, VIEW_COLUMNS, column_label,
    sheet_name,
)

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

GREY, DARK_GREY, SUGGESTION = "F2F2F2", "BFBFBF", "FFF2CC"  # black text on each: contrast 18.8:1, 10.4:1, 18.1:1


def template_bytes(district: District, lang: Lang, school: SchoolAssessment | None = None) -> bytes:
    """The questionnaire as XLSX bytes; with `school`, prefilled with that school's assessment (for a review)."""
    from openpyxl import Workbook

    book = Workbook()
    sheets = {key: book.create_sheet(sheet_name(key, lang)) for key in SHEETS}
    book.remove(book.worksheets[0])
    lists = _lists(sheets["lists"], district, lang)
    _instructions(sheets["instructions"], district, lang)
    _school_sheet(sheets["school"], district, lang, school, lists)
    _platform_sheet(sheets["platform"], district, lang, school, lists)
    _risk_sheet(sheets["risks"], district, lang, school, lists)
    _planned_sheet(sheets["planned"], district, lang, school, lists)
    _question_sheet(sheets["questions"], district, lang, school, lists)
    _threshold_sheet(sheets["threshold"], district, lang, school, lists)
    _view_sheet(sheets["views"], district, lang, school, lists)
    _decision_sheet(sheets["decision"], district, lang, school, lists)
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
    from openpyxl.utils import get_column_letter, quote_sheetname

    cat = district.catalogue
    columns = {
        "levels": [district.matrix.level_name(i, lang) for i in LEVELS],
        "kinds": [district.config.kind_name(k, lang) for k in SCHOOL_KINDS],
        "yes": [label("yes", lang)],
        "risks": [r.title[lang] for r in cat.risks],
        "measures": [m.title[lang] for m in cat.measures],
        "in_place": [label("yes", lang), label("sheet.partial_hint", lang)],
        "yes_no": [label("yes", lang), label("no", lang)],
        "hosting": [label(f"sheet.val.hosting.{h}", lang) for h in HOSTINGS],
        "operation": [label(f"sheet.val.operation.{o}", lang) for o in OPERATIONS],
        "answer": [label(f"sheet.val.answer.{a}", lang) for a in ANSWERS],
        "status": [label(f"sheet.val.status.{s}", lang) for s in QUESTION_STATUSES],
        "outcome": [label(f"sheet.val.outcome.{o}", lang) for o in OUTCOMES],
    }
    titles = {b.id: b.title[lang] for b in cat.legal_bases}
    for module in cat.modules:
        columns[f"bases:{module.id}"] = [titles.get(b, b) for b in module.processing.legal_bases]
    ranges = {}
    for col, (key, values) in enumerate(columns.items(), start=1):
        for row, value in enumerate(values, start=1):
            sheet.cell(row, col, value).data_type = "s"
        letter = get_column_letter(col)
        ranges[key] = f"{quote_sheetname(sheet.title)}!${letter}$1:${letter}${max(len(values), 1)}"
    sheet.sheet_state = "hidden"
    sheet.protection.sheet = True
    return ranges


def _instructions(sheet: Worksheet, district: District, lang: Lang) -> None:
    from openpyxl.styles import Alignment, Font

    sheet.append([label("sheet.instructions.title", lang)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([f"{district.config.name} · {district.catalogue.title[lang]} ({district.catalogue.ref})"])
    sheet.append([])
    for n in range(1, 10):
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


def _validation(sheet: Worksheet, formula: str, cells: list[str], kind: str = "list", prompt: str | None = None,
                strict: bool = True) -> None:
    """A drop-down (or date rule) on `cells`; `strict=False` lets other text in after a note (e.g. "teilweise: ...")."""
    from openpyxl.worksheet.datavalidation import DataValidation

    if not cells:
        return
    if kind == "date":
        rule = DataValidation(type="date", operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2099,12,31)")
    else:
        rule = DataValidation(type="list", formula1=formula, allow_blank=True)
    rule.showErrorMessage = True
    if not strict:
        rule.errorStyle = "information"
    if prompt:
        rule.prompt, rule.showInputMessage = prompt, True
    for cell in cells:
        rule.add(cell)
    sheet.add_data_validation(rule)


def _school_sheet(sheet: Worksheet, district: District, lang: Lang, school: SchoolAssessment | None,
                  lists: dict[str, str]) -> None:
    values = {"catalogue_version": district.catalogue.version}
    if school:
        values.update(school_id=school.school.id, school_name=school.school.name,
                      school_kind=district.config.kind_name(school.school.kind, lang), assessed_on=school.assessed_on,
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


def _applicable(district: District, school: SchoolAssessment | None) -> list:
    """The risks the questionnaire asks: all of them, or for a school that described its platform those of its
    modules in use (the others are not applicable)."""
    risks = district.catalogue.risks
    if school is None or school.platform is None:
        return list(risks)
    in_use = school.modules_in_use(district.catalogue)
    return [r for r in risks if in_use.intersection(r.modules)]


def _risk_sheet(sheet: Worksheet, district: District, lang: Lang, school: SchoolAssessment | None,
                lists: dict[str, str]) -> None:
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    cat, matrix = district.catalogue, district.matrix
    headers = [column_label(k, lang) for k in RISK_COLUMNS] + [m.title[lang] for m in cat.measures]
    headers += [column_label(k, lang) for k in DECISION_RISK_COLUMNS]
    _header(sheet, headers, height=260)
    first_measure = len(RISK_COLUMNS) + 1
    first_decision = first_measure + len(cat.measures)
    for col in range(first_measure, first_decision):
        sheet.cell(1, col).alignment = Alignment(text_rotation=90, wrap_text=True, vertical="bottom")
    yes, partial = label("yes", lang), label("sheet.partial", lang)
    level_cells, measure_cells = [], []
    numbers = risk_numbers(cat.risks)
    col_of = {k: RISK_COLUMNS.index(k) + 1 for k in RISK_COLUMNS}
    modules = {m.id: m.title[lang] for m in cat.modules}
    decision = school.dsfa.decision if school else None

    def level(number: int | None) -> str | None:
        return matrix.level_name(number, lang) if number else None

    for row, risk in enumerate(_applicable(district, school), start=2):
        entry = school.risks.get(risk.id) if school else None
        given = dict(nr=numbers[risk.id], risk_id=risk.id, risk_title=risk.title[lang],
                     modules=", ".join(modules[m] for m in risk.modules),
                     severity=f"{risk.severity} {level(risk.severity)}", severity_reason=risk.severity_reason[lang])
        for col, key in enumerate(READ_ONLY_COLUMNS, start=1):
            _read_only(sheet.cell(row, col), given[key])
        raised = entry.severity if entry else None
        answers = dict(likelihood=level(entry.likelihood) if entry else None, reason=entry.reason if entry else None,
                       severity_raise_level=level(raised.level) if raised else None,
                       severity_raise_reason=raised.reason if raised else None)
        for key, value in answers.items():
            _input(sheet.cell(row, col_of[key]), value)
        scopes = dict(entry.in_place()) if entry else {}
        relevant = {m.id for m in cat.measures_for(risk.id)}
        for col, measure in enumerate(cat.measures, start=first_measure):
            cell = sheet.cell(row, col)
            if measure.id in relevant:
                value = None
                if measure.id in scopes:
                    value = f"{partial}: {scopes[measure.id]}" if scopes[measure.id] else yes
                _input(cell, value)
                measure_cells.append(cell.coordinate)
            else:
                _read_only(cell, None, fill=DARK_GREY)
        override = decision.residual.get(risk.id) if decision else None
        values = [level(override.likelihood) if override else None, level(override.severity) if override else None,
                  override.reason if override else None, decision.accepted.get(risk.id) if decision else None]
        for col, value in enumerate(values, start=first_decision):
            _input(sheet.cell(row, col), value)
        level_cells += [f"{get_column_letter(col)}{row}" for col in
                        (col_of["likelihood"], col_of["severity_raise_level"], first_decision, first_decision + 1)]
    _validation(sheet, lists["levels"], level_cells)
    _validation(sheet, lists["in_place"], measure_cells, prompt=label("sheet.partial_prompt", lang), strict=False)
    widths = {1: 6, 2: 22, 3: 34, 4: 20, 5: 16, 6: 50, 7: 18, 8: 60, 9: 16, 10: 40}
    for col in range(1, len(headers) + 1):
        sheet.column_dimensions[get_column_letter(col)].width = widths.get(col, 6 if col < first_decision else 30)
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


def _rows_sheet(sheet: Worksheet, headers: list[str], rows: list[tuple[list[Any], list[Any]]],
                widths: tuple[int, ...]) -> None:
    """A sheet of (read-only cells, input cells) rows below a header row."""
    from openpyxl.utils import get_column_letter

    _header(sheet, headers)
    for row, (given, inputs) in enumerate(rows, start=2):
        for col, value in enumerate(given, start=1):
            _read_only(sheet.cell(row, col), value)
        for col, value in enumerate(inputs, start=len(given) + 1):
            _input(sheet.cell(row, col), value)
    for col, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    _protect(sheet)


def _platform_sheet(sheet: Worksheet, district: District, lang: Lang, school: SchoolAssessment | None,
                    lists: dict[str, str]) -> None:
    """Field rows (hosting, operation, since, pupils, staff), a yes/no row per extra data category, then a title row
    and a row per module: in use (fixed for mandatory ones), legal basis from the module's offered bases, groups."""
    from openpyxl.styles import Font, PatternFill

    cat, platform = district.catalogue, school.platform if school else None
    names = {"platform_hosting": lambda v: label(f"sheet.val.hosting.{v}", lang),
             "platform_operation": lambda v: label(f"sheet.val.operation.{v}", lang)}
    yes, no = label("yes", lang), label("no", lang)
    _header(sheet, [column_label(k, lang) for k in PLATFORM_HEADER])
    row = 2
    for key in PLATFORM_FIELDS:
        value = getattr(platform, key.removeprefix("platform_")) if platform else None
        _read_only(sheet.cell(row, 1), column_label(key, lang))
        _input(sheet.cell(row, 2), names[key](value) if key in names and value else value)
        if key in ("platform_hosting", "platform_operation"):
            _validation(sheet, lists[key.removeprefix("platform_")], [f"B{row}"])
        if key == "platform_running_since":
            sheet.cell(row, 2).number_format = "yyyy-mm-dd"
            _validation(sheet, "", [f"B{row}"], kind="date")
        row += 1
    yes_no = []
    for category in cat.extra_data_categories:
        _read_only(sheet.cell(row, 1), label("sheet.col.extra_data", lang).format(title=category.title[lang]))
        _input(sheet.cell(row, 2), (yes if category.id in platform.extra_data else no) if platform else None)
        yes_no.append(f"B{row}")
        row += 1
    row += 1
    for col, key in enumerate(MODULE_HEADER, start=1):
        cell = sheet.cell(row, col)
        _read_only(cell, column_label(key, lang), fill=DARK_GREY)
        cell.font = Font(bold=True)
    row += 1
    titles = {b.id: b.title[lang] for b in cat.legal_bases}
    for module in cat.modules:
        use = platform.modules.get(module.id) if platform else None
        _read_only(sheet.cell(row, 1), module.title[lang])
        if module.mandatory:
            _read_only(sheet.cell(row, 2), yes)
        else:
            _input(sheet.cell(row, 2), (yes if use else no) if platform else None)
            yes_no.append(f"B{row}")
        _input(sheet.cell(row, 3), titles.get(use.legal_basis, use.legal_basis) if use and use.legal_basis else None)
        _input(sheet.cell(row, 4), use.groups if use else None)
        _validation(sheet, lists[f"bases:{module.id}"], [f"C{row}"])
        row += 1
    _validation(sheet, lists["yes_no"], yes_no)
    sheet["A1"].fill = PatternFill("solid", fgColor=DARK_GREY)
    for letter, width in zip("ABCD", (58, 30, 34, 60)):
        sheet.column_dimensions[letter].width = width
    _protect(sheet)


def _question_sheet(sheet: Worksheet, district: District, lang: Lang, school: SchoolAssessment | None,
                    lists: dict[str, str]) -> None:
    """One row per question; where the school has no answer, the vendor's suggestion stands in the answer cell,
    marked (yellow, and a note in the suggestion column): it counts only once the school picks a status."""
    from openpyxl.styles import Font, PatternFill

    rows = []
    for question in district.catalogue.questions:
        answer = school.dsfa.answers.get(question.id) if school else None
        default = question.default
        mark = (label("sheet.default_mark", lang).format(status=label(f"sheet.val.status.{default.status}", lang))
                if default else None)
        inputs = ([label(f"sheet.val.status.{answer.status}", lang), answer.text] if answer
                  else [None, default.text[lang] if default else None])
        given = [question.id, label(f"sheet.val.part.{question.part}", lang), question.title[lang],
                 question.guidance[lang], mark]
        rows.append((given, inputs))
    _rows_sheet(sheet, [column_label(k, lang) for k in QUESTION_COLUMNS], rows, (20, 18, 40, 60, 36, 20, 70))
    for row, (given, inputs) in enumerate(rows, start=2):
        if inputs[0] is None and inputs[1] is not None:
            sheet.cell(row, 7).fill = PatternFill("solid", fgColor=SUGGESTION)
            sheet.cell(row, 7).font = Font(italic=True)
            sheet.cell(row, 5).fill = PatternFill("solid", fgColor=SUGGESTION)
    _validation(sheet, lists["status"], [f"F2:F{len(rows) + 1}"])


def _threshold_sheet(sheet: Worksheet, district: District, lang: Lang, school: SchoolAssessment | None,
                     lists: dict[str, str]) -> None:
    """One row per criterion: the district's answer (read-only) and the school's addition."""
    rows = []
    for criterion in district.catalogue.threshold_criteria:
        base = district.config.threshold.get(criterion.id)
        answer = base.answer if base else criterion.platform_answer
        reason = (base.reason if base else criterion.platform_reason[lang] if criterion.platform_reason else None)
        district_answer = label(f"sheet.val.answer.{answer}", lang) + (f": {reason}" if reason else "")
        own = school.dsfa.threshold.get(criterion.id) if school else None
        rows.append(([criterion.id, criterion.title[lang], criterion.guidance[lang], district_answer],
                     [label(f"sheet.val.answer.{own.answer}", lang) if own else None, own.reason if own else None]))
    _rows_sheet(sheet, [column_label(k, lang) for k in THRESHOLD_COLUMNS], rows, (22, 36, 60, 60, 18, 60))
    _validation(sheet, lists["answer"], [f"E2:E{len(rows) + 1}"])


def _view_sheet(sheet: Worksheet, district: District, lang: Lang, school: SchoolAssessment | None,
                lists: dict[str, str]) -> None:
    """One row per council, named as the district names it: sought, when, what was said, or why not."""
    rows = []
    for council in district.config.council_list():
        view = school.dsfa.views.get(council.id) if school else None
        sought = None if view is None else label("yes" if view.sought else "no", lang)
        rows.append(([council.id, council.title[lang]],
                     [sought, view.on if view else None, view.summary if view else None, view.reason if view else None]))
    _rows_sheet(sheet, [column_label(k, lang) for k in VIEW_COLUMNS], rows, (16, 30, 12, 14, 60, 60))
    last = len(rows) + 1
    _validation(sheet, lists["yes_no"], [f"C2:C{last}"])
    _validation(sheet, "", [f"D2:D{last}"], kind="date")
    for row in range(2, last + 1):
        sheet.cell(row, 4).number_format = "yyyy-mm-dd"


def _decision_sheet(sheet: Worksheet, district: District, lang: Lang, school: SchoolAssessment | None,
                    lists: dict[str, str]) -> None:
    """The head of school's decision: who, when, the outcome and its conditions."""
    decision = school.dsfa.decision if school else None
    values = {}
    if decision:
        values = {"decision_by": decision.by, "decision_on": decision.on, "decision_conditions": decision.conditions,
                  "decision_outcome": label(f"sheet.val.outcome.{decision.outcome}", lang) if decision.outcome else None}
    _header(sheet, [column_label("field", lang), column_label("value", lang)])
    for row, key in enumerate(DECISION_FIELDS, start=2):
        _read_only(sheet.cell(row, 1), column_label(key, lang))
        _input(sheet.cell(row, 2), values.get(key))
    sheet["B3"].number_format = "yyyy-mm-dd"
    _validation(sheet, "", ["B3"], kind="date")
    _validation(sheet, lists["outcome"], ["B4"])
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 70
    _protect(sheet)
