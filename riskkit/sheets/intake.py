"""Reading filled questionnaires (XLSX) and flat tables (CSV/XLSX) into validated school assessments.

Each cell keeps where it came from (`Risiken!row 7, column Begründung`), so every problem names file, sheet, row,
column and value; all problems of all files are collected before anything is decided. The rules themselves are the
foundation's: values are parsed here, then validated by SchoolAssessment and `reference_problems`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

from pydantic import ValidationError as PydanticValidationError

from ..model.assessment import SCHOOL_KINDS, SchoolAssessment, check_school_id, reference_problems
from ..model.district import District
from ..model.errors import Problem
from .flat import (
    DERIVED_COLUMNS, OVERRIDE_FIELDS, PLANNED_COLUMN, PLANNED_FIELDS, REQUIRED_COLUMNS, RISK_COLUMNS, SCHOOL_COLUMNS,
    planned_column,
)
from ..model.i18n import LANGUAGES, Lang, label
from ..model.method import LEVELS
from .files import Table, read_table_file
from .questionnaire import (
    ANSWER_COLUMNS, OVERRIDE_COLUMNS, PLANNED_COLUMNS, PLANNED_REQUIRED, RISK_COLUMNS as TEMPLATE_RISK_COLUMNS,
    column_label, sheet_name,
)
from ..model.yamlio import key_path, pydantic_problems

SCHOOL_KEYS = {
    "school_id": ("school", "id"), "school_name": ("school", "name"), "school_kind": ("school", "kind"),
    "assessed_on": ("assessed_on",), "assessed_by": ("assessed_by",), "catalogue_version": ("catalogue_version",),
}


@dataclass(frozen=True)
class Cell:
    """A value read from a file and where it stood."""

    value: Any
    where: str


@dataclass
class RawRisk:
    """One risk's cells: likelihood, reason and override fields, measure ids in place, planned measures."""

    risk: Cell
    fields: dict[str, Cell] = field(default_factory=dict)
    in_place: list[Cell] = field(default_factory=list)
    planned: list[dict[str, Cell]] = field(default_factory=list)

    @property
    def filled(self) -> bool:
        return any(c.value is not None for c in self.fields.values()) or bool(self.in_place or self.planned)


@dataclass
class RawSchool:
    """One school's cells from one file; `fields` holds every cell of each school column (rows repeat them)."""

    file: str
    fields: dict[str, list[Cell]]
    risks: list[RawRisk]


@dataclass(frozen=True)
class Imported:
    """A school assessment read and validated, and the file it came from."""

    assessment: SchoolAssessment
    file: str


@dataclass
class Intake:
    """What a set of files gave: valid assessments, the schools refused, and every problem."""

    imported: list[Imported] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_files(paths: list[Path], district: District) -> Intake:
    """Read every file; a school is imported only if none of its cells, and nothing about its file, is wrong."""
    intake, raws, tainted = Intake(), [], set()
    for path in paths:
        schools, problems = read_schools(Path(path), district)
        intake.problems += problems
        raws += schools
        if problems:  # a school from a file with problems is checked, to report everything, but never imported
            tainted |= {id(raw) for raw in schools}
            if not schools:
                intake.rejected.append(str(path))
    ids = [_ident(_first(r.fields["school_id"]).value) for r in raws]
    by_id: dict[str, list[RawSchool]] = defaultdict(list)
    for raw, school_id in zip(raws, ids):
        by_id[school_id or ""].append(raw)
    known_ids = {*district.schools, *filter(None, ids)}
    for raw, school_id in zip(raws, ids):
        builder = _Builder(raw.file, district, known_ids)
        assessment = builder.build(raw)
        twins = [other for other in by_id[school_id or ""] if other is not raw] if school_id else []
        for other in twins:
            cell = _first(raw.fields["school_id"])
            builder.problem(cell, f"school {school_id} is in this import more than once (also {other.file},"
                                  f" {_first(other.fields['school_id']).where}); import it once")
        intake.problems += builder.problems
        if builder.problems or assessment is None or id(raw) in tainted:
            intake.rejected.append(f"{school_id or '?'} ({raw.file})")
        else:
            intake.imported.append(Imported(assessment, raw.file))
    return intake


def read_schools(path: Path, district: District) -> tuple[list[RawSchool], list[Problem]]:
    """The schools' raw cells in one file: a filled questionnaire, or a flat table (one row per school and risk)."""
    tables, problems = read_table_file(path)
    if problems:
        return [], problems
    by_sheet = {t.sheet: t for t in tables}
    for lang in LANGUAGES:
        if sheet_name("school", lang) in by_sheet and sheet_name("risks", lang) in by_sheet:
            return _Questionnaire(by_sheet, lang, district).read()
    return _flat_schools(tables[0], district)


# --- values -------------------------------------------------------------------------------------------------------

def _text(value: Any) -> str | None:
    """Any cell as text, None if blank; whole numbers without '.0', dates as YYYY-MM-DD.

    Text is not stripped here: the school file's models strip what they strip, and keep the rest exactly.
    """
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        value = value.isoformat()
    text = str(value)
    return text if text.strip() else None


def _ident(value: Any) -> str | None:
    """An id (school, risk, measure) as stripped text, None if blank."""
    text = _text(value)
    return text.strip() if text else None


def _same(value: Any) -> Any:
    """A value as compared between rows: text without surrounding spaces."""
    return value.strip() if isinstance(value, str) else value


def _first(cells: list[Cell]) -> Cell:
    """The first cell holding a value, else the first cell."""
    return next((c for c in cells if c.value is not None), cells[0])


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _names(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Folded name -> id, for values a person may write as an id or as a German or English label."""
    return {_fold(name): key for key, name in pairs}


_YES = {"x", "1", "true", "wahr", "✓", "✔"} | {_fold(label("yes", lang)) for lang in LANGUAGES}
_NO = {"0", "false", "falsch", "-"} | {_fold(label("no", lang)) for lang in LANGUAGES}


class _Builder:
    """Parses one school's cells into a SchoolAssessment, collecting problems with their cell's location."""

    def __init__(self, file: str, district: District, known_ids: set[str]):
        self.file, self.district, self.known_ids = file, district, known_ids
        self.problems: list[Problem] = []
        self.origin: dict[str, str] = {}  # key path in the school file -> where in the input
        self.failed: set[str] = set()  # key paths whose cell was unreadable (pydantic need not report them again)
        matrix = district.matrix
        self.level_names = _names([(str(i), matrix.level_name(i, lang)) for i in LEVELS for lang in LANGUAGES])
        self.levels_allowed = "1-4 or " + " / ".join(
            ", ".join(matrix.level_name(i, lang) for i in LEVELS) for lang in LANGUAGES
        )
        self.kinds = _names([(k, k) for k in SCHOOL_KINDS] + [(k, label(f"kind.{k}", lang)) for k in SCHOOL_KINDS for lang in LANGUAGES])

    def problem(self, cell: Cell, message: str) -> None:
        self.problems.append(Problem(self.file, cell.where, cell.value, message))

    def parse(self, cell: Cell, path: list[str | int], parser: Callable[[Cell], Any]) -> Any:
        """Parse a cell for a key of the school file, remembering where the key came from."""
        key = key_path(path)
        self.origin[key] = cell.where
        if cell.value is None:
            return None
        value = parser(cell)
        if value is None:
            self.failed.add(key)
        return value

    def text(self, cell: Cell) -> str | None:
        return _text(cell.value)

    def ident(self, cell: Cell) -> str | None:
        return _ident(cell.value)

    def level(self, cell: Cell) -> int | None:
        value = cell.value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value in (1, 2, 3, 4):
            return int(value)
        text = _ident(value) or ""
        if re.fullmatch(r"[1-4]([.,]0*)?", text):
            return int(text[0])
        if _fold(text) in self.level_names:
            return int(self.level_names[_fold(text)])
        self.problem(cell, f"not a level; allowed: {self.levels_allowed}")
        return None

    def day(self, cell: Cell) -> date | None:
        value = cell.value
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = _ident(value) or ""
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                return date.fromisoformat(text)
            if match := re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text):
                return date(int(match[3]), int(match[2]), int(match[1]))
        except ValueError:
            pass
        self.problem(cell, "not a date; allowed: YYYY-MM-DD or DD.MM.YYYY")
        return None

    def kind(self, cell: Cell) -> str | None:
        found = self.kinds.get(_fold(_text(cell.value) or ""))
        if found is None:
            allowed = ", ".join(f"{k} ({label(f'kind.{k}', 'de')})" for k in SCHOOL_KINDS)
            self.problem(cell, f"unknown kind of school; allowed: {allowed}")
        return found

    def school_id(self, cell: Cell) -> str | None:
        text = _ident(cell.value)
        try:
            return check_school_id(text or "")
        except ValueError as exc:
            twins = sorted(i for i in self.known_ids if text and i != text and _fold(i) == _fold(text))
            hint = f" (ids differ only in case or Unicode form: {', '.join(twins)})" if twins else ""
            self.problem(cell, f"{exc}{hint}")
            return None

    def school_field(self, column: str, cells: list[Cell], data: dict[str, Any]) -> None:
        """A school detail: the same value on every row that gives one."""
        parser = {"school_id": self.school_id, "school_kind": self.kind, "assessed_on": self.day}.get(column, self.text)
        path = list(SCHOOL_KEYS[column])
        first = _first(cells)
        value = self.parse(first, path, parser)
        for cell in cells:
            if cell is first or cell.value is None or _same(_text(cell.value)) == _same(_text(first.value)):
                continue
            if _same(parser(cell)) not in (_same(value), None):
                self.problem(cell, f"differs from {first.where} ({first.value!r}); a school's details must be the"
                                   " same on all its rows")
        if value is not None:
            target = data
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = value.isoformat() if isinstance(value, date) else value

    def risk_entry(self, raw: RawRisk, risk_id: str, data: dict[str, Any]) -> dict[str, Any]:
        base: list[str | int] = ["risks", risk_id]
        entry: dict[str, Any] = {}
        self.origin[key_path(base)] = raw.risk.where
        for name, parser in (("likelihood", self.level), ("reason", self.text)):
            cell = raw.fields.get(name, Cell(None, raw.risk.where))
            if (value := self.parse(cell, [*base, name], parser)) is not None:
                entry[name] = value
        entry["measures_in_place"] = [
            self.parse(cell, [*base, "measures_in_place", i], self.ident) for i, cell in enumerate(raw.in_place)
        ]
        overrides = [raw.fields.get(f"override_{f}", Cell(None, raw.risk.where)) for f in OVERRIDE_FIELDS]
        if any(c.value is not None for c in overrides):  # the controller's residual values (dsfa.decision.residual)
            residual: list[str | int] = ["dsfa", "decision", "residual", risk_id]
            self.origin[key_path(residual)] = _first(overrides).where
            parsed = {f: self.parse(c, [*residual, f], p)
                      for f, c, p in zip(OVERRIDE_FIELDS, overrides, (self.level, self.level, self.text))}
            decision = data.setdefault("dsfa", {}).setdefault("decision", {})
            decision.setdefault("residual", {})[risk_id] = {f: v for f, v in parsed.items() if v is not None}
        planned = []
        parsers = {"measure": self.ident, "owner": self.text, "due": self.day, "note": self.text}
        for i, cells in enumerate(raw.planned):
            path = [*base, "measures_planned", i]
            self.origin[key_path(path)] = _first(list(cells.values())).where
            parsed = {f: self.parse(cells.get(f, Cell(None, raw.risk.where)), [*path, f], parsers[f]) for f in PLANNED_FIELDS}
            planned.append({f: (v.isoformat() if isinstance(v, date) else v) for f, v in parsed.items() if v is not None})
        entry["measures_planned"] = planned
        return entry

    def build(self, raw: RawSchool) -> SchoolAssessment | None:
        data: dict[str, Any] = {"risks": {}}
        for column in SCHOOL_COLUMNS:
            self.school_field(column, raw.fields.get(column) or [Cell(None, "")], data)
        seen: dict[str, str] = {}
        for risk in raw.risks:
            risk_id = _ident(risk.risk.value)
            if risk_id is None:
                if risk.filled:
                    self.problem(risk.risk, "risk id is empty; every filled row needs one")
                continue
            if risk_id in seen:
                self.problem(risk.risk, f"risk {risk_id} is listed twice for this school (also {seen[risk_id]})")
            elif risk.filled:
                data["risks"][risk_id] = self.risk_entry(risk, risk_id, data)
            seen[risk_id] = risk.risk.where
        found = reference_problems(data, self.district.catalogue, self.file)
        try:
            assessment = SchoolAssessment.model_validate(data)
        except PydanticValidationError as exc:
            assessment, found = None, pydantic_problems(exc, self.file) + found
        self.problems += [p for p in map(self.relocate, found) if p]
        return None if self.problems else assessment

    def relocate(self, problem: Problem) -> Problem | None:
        """A problem found in the school-file shape, moved to the cell it came from (None if already reported)."""
        path = problem.path
        while path and path not in self.origin:
            path = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", path)
        if path in self.failed:
            return None
        missing = problem.message == "required key is missing"
        message = "required; the cell is empty" if missing else problem.message
        return Problem(self.file, self.origin.get(path, problem.path), None if missing else problem.value, message)


# --- flat tables --------------------------------------------------------------------------------------------------

def _merged_problems(table: Table) -> list[Problem]:
    return [Problem(table.file, f"{table.sheet}!{ref}", ref, "merged cells are not allowed; unmerge them and fill every cell")
            for ref in table.merged]


def _structure_problems(table: Table, allowed: Callable[[str], bool], required: tuple[str, ...], hint: str) -> list[Problem]:
    """Unknown, duplicate and missing columns, and merged cells: the file is refused as a whole."""
    problems = _merged_problems(table)
    seen: set[str] = set()
    for name in table.header:
        if name is None:
            continue
        if not allowed(name):
            problems.append(Problem(table.file, table.where(1, name), name, f"unknown column; allowed: {hint}"))
        elif name in seen:
            problems.append(Problem(table.file, table.where(1, name), name, "column appears twice"))
        seen.add(name)
    problems += [Problem(table.file, table.where(1), None, f"required column {name!r} is missing")
                 for name in required if name not in seen]
    return problems


def _row_cells(table: Table, number: int, values: list[Any], keys: list[str | None]) -> tuple[dict[str, Cell], list[Problem]]:
    """A row's cells by column key; a value under no header is a problem."""
    cells, problems = {}, []
    for i in range(max(len(values), len(keys))):
        value, key = values[i] if i < len(values) else None, keys[i] if i < len(keys) else None
        if key is None:
            if value is not None:
                problems.append(Problem(table.file, table.where(number, f"#{i + 1}"), value, "value in a column without a header"))
            continue
        cells[key] = Cell(value, table.where(number, table.header[i]))
    return cells, problems


def _flat_schools(table: Table, district: District) -> tuple[list[RawSchool], list[Problem]]:
    known = {*SCHOOL_COLUMNS, *RISK_COLUMNS, *DERIVED_COLUMNS}
    hint = (f"{', '.join([*SCHOOL_COLUMNS, *RISK_COLUMNS])}, planned_N_measure/owner/due/note (N = 1, 2, ...)"
            f"; derived, ignored: {', '.join(DERIVED_COLUMNS)}")
    if not any(table.header):
        return [], [Problem(table.file, table.where(1), None, "row 1 must hold the column headers")]
    problems = _structure_problems(table, lambda n: n in known or bool(PLANNED_COLUMN.fullmatch(n)), REQUIRED_COLUMNS, hint)
    if not table.rows and not problems:
        problems.append(Problem(table.file, table.where(1), None, "no data rows below the header row"))
    if problems:
        return [], problems
    slots = max((int(m[1]) for h in table.header if h and (m := PLANNED_COLUMN.fullmatch(h))), default=0)
    schools: dict[str, RawSchool] = {}
    for number, values in table.rows:
        cells, row_problems = _row_cells(table, number, values, table.header)
        problems += row_problems
        school_id = _ident(cells["school_id"].value)
        if school_id is None:
            problems.append(Problem(table.file, cells["school_id"].where, None, "school_id is empty; every row needs one"))
            continue
        raw = schools.setdefault(school_id, RawSchool(table.file, defaultdict(list), []))
        for column in SCHOOL_COLUMNS:
            raw.fields[column].append(cells.get(column, Cell(None, table.where(number, column))))
        in_place = cells.get("measures_in_place", Cell(None, ""))
        planned = [{part: cells[planned_column(n, part)] for part in PLANNED_FIELDS if planned_column(n, part) in cells}
                   for n in range(1, slots + 1)]
        raw.risks.append(RawRisk(
            cells["risk_id"],
            {k: cells[k] for k in ("likelihood", "reason", *(f"override_{f}" for f in OVERRIDE_FIELDS)) if k in cells},
            [Cell(i, in_place.where) for i in re.split(r"[,;\s]+", _text(in_place.value) or "") if i],
            [p for p in planned if any(c.value is not None for c in p.values())],
        ))
    return list(schools.values()), problems


# --- the questionnaire --------------------------------------------------------------------------------------------

class _Questionnaire:
    """Reads a filled `riskkit template`: school sheet, risk rows with yes-columns per measure, planned measures."""

    def __init__(self, by_sheet: dict[str | None, Table], lang: Lang, district: District):
        self.by_sheet, self.lang, self.district = by_sheet, lang, district
        self.cat = district.catalogue
        self.problems: list[Problem] = []

    def labels(self, keys: tuple[str, ...]) -> dict[str, str]:
        return _names([(k, column_label(k, lang)) for k in keys for lang in LANGUAGES])

    def table(self, key: str) -> Table:
        return self.by_sheet[sheet_name(key, self.lang)]

    def read(self) -> tuple[list[RawSchool], list[Problem]]:
        school, risks = self.table("school"), self.table("risks")
        planned = self.by_sheet.get(sheet_name("planned", self.lang))
        rows = self.risk_rows(risks)
        raw = RawSchool(school.file, self.school_fields(school), rows or [])
        if planned is not None and rows is not None:
            self.planned_rows(planned, {_ident(r.risk.value): r for r in rows})
        return [raw], self.problems

    def keys(self, table: Table, names: dict[str, str], required: tuple[str, ...]) -> list[str | None] | None:
        """Column keys of a sheet's headers; None (and problems) if a column is unknown, doubled or missing."""
        columns = [k for k in dict.fromkeys(names.values()) if not k.startswith("measure:")]
        hint = ", ".join(column_label(k, self.lang) for k in columns)
        problems = _structure_problems(table, lambda n: _fold(n) in names, (), hint + " and the measures' titles")
        keys = [names.get(_fold(h)) if h else None for h in table.header]
        problems += [Problem(table.file, table.where(1), None, f"required column {column_label(k, self.lang)!r} is missing")
                     for k in required if k not in keys]
        self.problems += problems
        return None if problems else keys

    def school_fields(self, table: Table) -> dict[str, list[Cell]]:
        names = self.labels(SCHOOL_COLUMNS)
        fields: dict[str, list[Cell]] = {}
        self.problems += _merged_problems(table)
        for number, values in table.rows:
            name = _text(values[0]) if values else None
            key = names.get(_fold(name or ""))
            if key is None:
                allowed = ", ".join(column_label(k, self.lang) for k in SCHOOL_COLUMNS)
                self.problems.append(Problem(table.file, table.where(number, table.header[0]), name, f"unknown field; allowed: {allowed}"))
                continue
            fields[key] = [Cell(values[1] if len(values) > 1 else None, table.where(number, name))]
        for key in SCHOOL_COLUMNS:
            fields.setdefault(key, [Cell(None, f"{table.sheet}!{column_label(key, self.lang)}")])
        return fields

    def risk_rows(self, table: Table) -> list[RawRisk] | None:
        names = self.labels((*TEMPLATE_RISK_COLUMNS, *OVERRIDE_COLUMNS))
        names |= _names([(f"measure:{m.id}", m.title[lang]) for m in self.cat.measures for lang in LANGUAGES])
        names |= _names([(f"measure:{m.id}", m.id) for m in self.cat.measures])
        keys = self.keys(table, names, ("risk_id", "likelihood", "reason"))
        if keys is None:
            return None
        rows = []
        for number, values in table.rows:
            cells, problems = _row_cells(table, number, values, keys)
            self.problems += problems
            in_place = []
            for key, cell in cells.items():
                if key.startswith("measure:") and cell.value is not None:
                    if _fold(_text(cell.value) or "") in _YES or cell.value is True:
                        in_place.append(Cell(key.removeprefix("measure:"), cell.where))
                    elif _fold(_text(cell.value) or "") not in _NO:
                        self.problems.append(Problem(table.file, cell.where, cell.value,
                                                     f"not yes or no; allowed: {label('yes', self.lang)} or empty"))
            fields = {k: cells[k] for k in (*ANSWER_COLUMNS, *OVERRIDE_COLUMNS) if k in cells}
            rows.append(RawRisk(cells.get("risk_id", Cell(None, table.where(number))), fields, in_place))
        return rows

    def planned_rows(self, table: Table, risks: dict[str | None, RawRisk]) -> None:
        keys = self.keys(table, self.labels(PLANNED_COLUMNS), PLANNED_REQUIRED)
        if keys is None:
            return
        risk_ids = _names([(r.id, r.id) for r in self.cat.risks] + [(r.id, r.title[lang]) for r in self.cat.risks for lang in LANGUAGES])
        measure_ids = _names([(m.id, m.id) for m in self.cat.measures] + [(m.id, m.title[lang]) for m in self.cat.measures for lang in LANGUAGES])
        for number, values in table.rows:
            cells, problems = _row_cells(table, number, values, keys)
            self.problems += problems
            risk = cells.get("risk", Cell(None, table.where(number)))
            risk_id = risk_ids.get(_fold(_text(risk.value) or ""))
            if risk_id not in risks:
                allowed = "the risks' titles in the drop-down"
                self.problems.append(Problem(table.file, risk.where, risk.value, f"unknown risk; allowed: {allowed}"))
                continue
            measure = cells.get("planned_measure", Cell(None, risk.where))
            measure_id = measure_ids.get(_fold(_text(measure.value) or ""), measure.value)
            planned = {"measure": Cell(measure_id, measure.where)}
            planned |= {part: cells[f"planned_{part}"] for part in PLANNED_FIELDS[1:] if f"planned_{part}" in cells}
            risks[risk_id].planned.append(planned)
