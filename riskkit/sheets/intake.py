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
from ..model.i18n import LANGUAGES, Lang, label
from ..model.method import LEVELS, RISK_LEVELS
from ..model.yamlio import key_path, pydantic_problems
from .files import Table, read_table_file
from .flat import (
    CHOICES, OVERRIDE_FIELDS, PARTIAL_COLUMN, PLANNED_COLUMN, PLANNED_FIELDS, REQUIRED_COLUMNS, RISK_COLUMNS,
    SCHOOL_COLUMNS, RISK_FIELDS, SchoolField, derived_columns, input_columns, partial_column, planned_column,
    school_fields,
)
from .questionnaire import (
    ANSWER_COLUMNS, DECISION_FIELDS, DECISION_RISK_COLUMNS, PLANNED_COLUMNS, PLANNED_REQUIRED,
    PLATFORM_FIELDS, QUESTION_COLUMNS, RISK_COLUMNS as TEMPLATE_RISK_COLUMNS, THRESHOLD_COLUMNS, VIEW_COLUMNS, VIEW_KEYS,
    column_label, sheet_name,
)

@dataclass(frozen=True)
class Cell:
    """A value read from a file and where it stood."""

    value: Any
    where: str


@dataclass
class RawRisk:
    """One risk's cells: the school's answers and the decision's per-risk values (`fields`), measure ids in place,
    the scopes of measures in place only in part, planned measures."""

    risk: Cell
    fields: dict[str, Cell] = field(default_factory=dict)
    in_place: list[Cell] = field(default_factory=list)
    partial: list[tuple[Cell, Cell]] = field(default_factory=list)  # (measure id, scope)
    planned: list[dict[str, Cell]] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        """The school assessed this risk (an entry under `risks:`)."""
        entry = ("likelihood", "reason", "severity_raise_level", "severity_raise_reason")
        return (any(self.fields[k].value is not None for k in entry if k in self.fields)
                or bool(self.in_place or self.partial or self.planned))

    @property
    def filled(self) -> bool:
        return self.answered or any(c.value is not None for c in self.fields.values())


@dataclass
class RawSchool:
    """One school's cells from one file; `fields` holds every cell of each school column (rows repeat them);
    `carries`: the parts of a school file the file had columns or sheets for, of platform, threshold, answers, views,
    advice, decision (who, when, outcome, conditions), residual, accepted, proposed (school details and risks are
    always carried)."""

    file: str
    fields: dict[str, list[Cell]]
    risks: list[RawRisk]
    carries: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Imported:
    """A school assessment read and validated, the file it came from, and the parts of a school file it carried
    (an update keeps the other parts from the school's file)."""

    assessment: SchoolAssessment
    file: str
    carries: frozenset[str] = frozenset()


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
            intake.imported.append(Imported(assessment, raw.file, raw.carries))
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
_PARTIAL = tuple(_fold(label("sheet.partial", lang)) for lang in LANGUAGES)
_LIST_SPLIT = re.compile(r"[,;\s]+")


def _set(data: dict[str, Any], path: tuple[str, ...] | list[str], value: Any) -> None:
    target = data
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def _modules_in_use(data: dict[str, Any], district: District) -> set[str]:
    """The modules a school's (raw) data switch on; all of them without a platform block."""
    platform = data.get("platform")
    if not isinstance(platform, dict):
        return set(district.catalogue.modules_by_id)
    return set(platform.get("modules") or {}) | set(district.catalogue.mandatory_modules)


class _Builder:
    """Parses one school's cells into a SchoolAssessment, collecting problems with their cell's location."""

    def __init__(self, file: str, district: District, known_ids: set[str]):
        self.file, self.district, self.known_ids = file, district, known_ids
        self.problems: list[Problem] = []
        self.origin: dict[str, str] = {}  # key path in the school file -> where in the input
        self.failed: set[str] = set()  # key paths whose cell was unreadable (pydantic need not report them again)
        matrix, cat, config = district.matrix, district.catalogue, district.config
        self.level_names = _names([(str(i), matrix.level_name(i, lang)) for i in LEVELS for lang in LANGUAGES])
        self.levels_allowed = "1-4 or " + " / ".join(
            ", ".join(matrix.level_name(i, lang) for i in LEVELS) for lang in LANGUAGES
        )
        self.risk_levels = _names([(r, r) for r in RISK_LEVELS]
                                  + [(r, matrix.risk_level_name(r, lang)) for r in RISK_LEVELS for lang in LANGUAGES])
        self.kinds = _names([(k, k) for k in SCHOOL_KINDS]
                            + [(k, label(f"kind.{k}", lang)) for k in SCHOOL_KINDS for lang in LANGUAGES]
                            + [(k, config.kind_name(k, lang)) for k in SCHOOL_KINDS for lang in LANGUAGES])
        self.fields = school_fields(cat, config)
        self.bases = {b.id: b for b in cat.legal_bases}

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

    def risk_level(self, cell: Cell) -> str | None:
        found = self.risk_levels.get(_fold(_text(cell.value) or ""))
        if found is None:
            names = " / ".join(", ".join(self.district.matrix.risk_level_name(r, lang) for r in RISK_LEVELS)
                               for lang in LANGUAGES)
            self.problem(cell, f"not a risk level; allowed: {', '.join(RISK_LEVELS)} or {names}")
        return found

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

    def count(self, cell: Cell) -> int | None:
        value = cell.value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = (_ident(value) or "").replace(".", "").replace("\u202f", "").replace(" ", "")
        if re.fullmatch(r"\d{1,7}", text):
            return int(text)
        self.problem(cell, "not a whole number; allowed: 0-1000000")
        return None

    def boolean(self, cell: Cell) -> bool | None:
        if isinstance(cell.value, bool):
            return cell.value
        folded = _fold(_text(cell.value) or "")
        if folded in _YES:
            return True
        if folded in _NO:
            return False
        self.problem(cell, f"not yes or no; allowed: {label('yes', 'de')}, {label('no', 'de')}, yes, no")
        return None

    def kind(self, cell: Cell) -> str | None:
        found = self.kinds.get(_fold(_text(cell.value) or ""))
        if found is None:
            allowed = ", ".join(f"{k} ({self.district.config.kind_name(k, 'de')})" for k in SCHOOL_KINDS)
            self.problem(cell, f"unknown kind of school; allowed: {allowed}")
        return found

    def ids(self, cell: Cell) -> list[str]:
        if isinstance(cell.value, list):
            return list(cell.value)
        return [i for i in _LIST_SPLIT.split(_text(cell.value) or "") if i]

    def choice(self, spec: SchoolField) -> Callable[[Cell], str | None]:
        """A parser for one of `spec`'s values, given as id or as its German or English name."""
        if spec.group == "legal_basis":
            pairs = [(b, b) for b in spec.choices] + [
                (b, self.bases[b].title[lang]) for b in spec.choices if b in self.bases for lang in LANGUAGES]
        else:
            ids = CHOICES[spec.group]
            pairs = [(i, i) for i in ids] + [(i, label(f"sheet.val.{spec.group}.{i}", lang)) for i in ids
                                             for lang in LANGUAGES]
        names = _names(pairs)

        def parse(cell: Cell) -> str | None:
            found = names.get(_fold(_text(cell.value) or ""))
            if found is None:
                allowed = ", ".join(dict.fromkeys(n for _, n in pairs))
                self.problem(cell, f"not an allowed value; allowed: {allowed}")
            return found
        return parse

    def parser(self, spec: SchoolField) -> Callable[[Cell], Any]:
        return {
            "school_id": self.school_id, "kind": self.kind, "date": self.day, "count": self.count, "bool": self.boolean,
            "list": self.ids, "text": self.text, "ident": self.ident, "level": self.level, "risk_level": self.risk_level,
        }.get(spec.kind) or self.choice(spec)

    def school_id(self, cell: Cell) -> str | None:
        text = _ident(cell.value)
        try:
            return check_school_id(text or "")
        except ValueError as exc:
            twins = sorted(i for i in self.known_ids if text and i != text and _fold(i) == _fold(text))
            hint = f" (ids differ only in case or Unicode form: {', '.join(twins)})" if twins else ""
            self.problem(cell, f"{exc}{hint}")
            return None

    def school_field(self, spec: SchoolField, cells: list[Cell], data: dict[str, Any]) -> None:
        """A school-level value: the same on every row that gives one."""
        parser = self.parser(spec)
        path = list(spec.path)
        first = _first(cells)
        value = self.parse(first, path, parser)
        for cell in cells:
            if cell is first or cell.value is None or _same(_text(cell.value)) == _same(_text(first.value)):
                continue
            if _same(parser(cell)) not in (_same(value), None):
                self.problem(cell, f"differs from {first.where} ({first.value!r}); a school's details must be the"
                                   " same on all its rows")
        if value is None:
            return
        if spec.path[:2] == ("platform", "modules") and len(spec.path) == 4:
            in_use = data.get("platform", {}).get("modules", {})
            if spec.path[2] not in in_use:
                self.problem(first, f"module {spec.path[2]} is not in use at this school; switch it on or leave"
                                    " this cell empty")
                return
        if spec.column == "platform_modules":
            value = {module: {} for module in value}
        _set(data, path, value.isoformat() if isinstance(value, date) else value)

    def risk_entry(self, raw: RawRisk, risk_id: str, data: dict[str, Any]) -> None:
        base: list[str | int] = ["risks", risk_id]
        self.origin[key_path(base)] = raw.risk.where
        empty = Cell(None, raw.risk.where)
        if raw.answered:
            entry: dict[str, Any] = {}
            for name, parser in (("likelihood", self.level), ("reason", self.text)):
                if (value := self.parse(raw.fields.get(name, empty), [*base, name], parser)) is not None:
                    entry[name] = value
            raised = [raw.fields.get(f"severity_raise_{f}", empty) for f in ("level", "reason")]
            if any(c.value is not None for c in raised):
                path = [*base, "severity"]
                self.origin[key_path(path)] = _first(raised).where
                parsed = {f: self.parse(c, [*path, f], p)
                          for f, c, p in zip(("level", "reason"), raised, (self.level, self.text))}
                entry["severity"] = {f: v for f, v in parsed.items() if v is not None}
            in_place: list[Any] = [self.parse(c, [*base, "measures_in_place", i], self.ident)
                                   for i, c in enumerate(raw.in_place)]
            for measure, scope in raw.partial:
                measure_id = self.ident(measure)
                i = in_place.index(measure_id) if measure_id in in_place else len(in_place)
                path = [*base, "measures_in_place", i]
                self.origin[key_path(path)] = measure.where
                self.parse(measure, [*path, "measure"], self.ident)
                value = {"measure": measure_id, "partial": self.parse(scope, [*path, "partial"], self.text)}
                if i == len(in_place):
                    in_place.append(value)
                else:
                    in_place[i] = value
            entry["measures_in_place"] = in_place
            planned = []
            parsers = {"measure": self.ident, "owner": self.text, "due": self.day, "note": self.text}
            for i, cells in enumerate(raw.planned):
                path = [*base, "measures_planned", i]
                self.origin[key_path(path)] = _first(list(cells.values())).where
                parsed = {f: self.parse(cells.get(f, empty), [*path, f], parsers[f]) for f in PLANNED_FIELDS}
                planned.append({f: (v.isoformat() if isinstance(v, date) else v) for f, v in parsed.items() if v is not None})
            entry["measures_planned"] = planned
            data["risks"][risk_id] = entry
        overrides = [raw.fields.get(f"override_{f}", empty) for f in OVERRIDE_FIELDS]
        if any(c.value is not None for c in overrides):  # the controller's residual values (dsfa.decision.residual)
            residual: list[str | int] = ["dsfa", "decision", "residual", risk_id]
            self.origin[key_path(residual)] = _first(overrides).where
            parsed = {f: self.parse(c, [*residual, f], p)
                      for f, c, p in zip(OVERRIDE_FIELDS, overrides, (self.level, self.level, self.text))}
            _set(data, residual, {f: v for f, v in parsed.items() if v is not None})
        for column, path, parser in (("accepted_reason", ["dsfa", "decision", "accepted", risk_id], self.text),
                                     ("advice_proposed", ["dsfa", "advice", "proposed", risk_id], self.risk_level)):
            if (value := self.parse(raw.fields.get(column, empty), path, parser)) is not None:
                _set(data, path, value)

    def build(self, raw: RawSchool) -> SchoolAssessment | None:
        data: dict[str, Any] = {"risks": {}}
        for spec in self.fields:
            if spec.column in raw.fields:
                self.school_field(spec, raw.fields[spec.column], data)
        in_use = _modules_in_use(data, self.district)
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
                known = self.district.catalogue.risks_by_id.get(risk_id)
                if known and not in_use.intersection(known.modules):
                    self.problem(risk.risk, f"risk {risk_id} is not applicable at this school: its modules"
                                            f" ({', '.join(known.modules)}) are not in use; leave its row empty or"
                                            " switch a module on")
                else:
                    self.risk_entry(risk, risk_id, data)
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


def _structure_problems(table: Table, keys: list[str | None], required: tuple[str, ...], hint: str,
                        names: Callable[[str], str]) -> list[Problem]:
    """Unknown, duplicate and missing columns, and merged cells: the file is refused as a whole. `keys` holds each
    header's column key (None: unknown); `names` gives a required key's header for the message."""
    problems = _merged_problems(table)
    seen: set[str] = set()
    for name, key in zip(table.header, keys):
        if name is None:
            continue
        if key is None:
            problems.append(Problem(table.file, table.where(1, name), name, f"unknown column; allowed: {hint}"))
        elif key in seen:
            problems.append(Problem(table.file, table.where(1, name), name, "column appears twice"))
        else:
            seen.add(key)
    problems += [Problem(table.file, table.where(1), None, f"required column {names(key)!r} is missing")
                 for key in required if key not in seen]
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


MAX_SLOTS = 99


def flat_header_names(district: District) -> dict[str, str]:
    """Folded header -> column key, for every column the flat table may have: the ids (English export) and the German
    and English labels, and the derived columns (read, then ignored)."""
    from .export import header_label

    fields = {f.column: f for f in school_fields(district.catalogue, district.config)}
    columns = [*input_columns(MAX_SLOTS, list(fields.values())), *derived_columns()]
    return _names([(c, c) for c in columns] + [(c, header_label(c, fields, lang)) for c in columns for lang in LANGUAGES])


def _flat_schools(table: Table, district: District) -> tuple[list[RawSchool], list[Problem]]:
    if not any(table.header):
        return [], [Problem(table.file, table.where(1), None, "row 1 must hold the column headers")]
    names = flat_header_names(district)
    keys = [names.get(_fold(h)) if h else None for h in table.header]
    others = [f.column for f in school_fields(district.catalogue, district.config) if f.column not in SCHOOL_COLUMNS]
    hint = (f"{', '.join([*SCHOOL_COLUMNS, *RISK_COLUMNS, *others])}, partial_N_measure/scope,"
            f" planned_N_measure/owner/due/note (N = 1, 2, ...); German headers too"
            f"; derived, ignored: {', '.join(derived_columns())}")
    problems = _structure_problems(table, keys, REQUIRED_COLUMNS, hint, lambda k: k)
    if not table.rows and not problems:
        problems.append(Problem(table.file, table.where(1), None, "no data rows below the header row"))
    if problems:
        return [], problems
    present = {k for k in keys if k}
    slots = max((int(m[1]) for k in present if (m := PLANNED_COLUMN.fullmatch(k) or PARTIAL_COLUMN.fullmatch(k))),
                default=0)
    specs = [f for f in school_fields(district.catalogue, district.config) if f.column in present]
    carries = {f.block for f in specs} | {p for p, cols in (
        ("residual", [f"override_{f}" for f in OVERRIDE_FIELDS]), ("accepted", ["accepted_reason"]),
        ("proposed", ["advice_proposed"])) if present.intersection(cols)}
    schools: dict[str, RawSchool] = {}
    for number, values in table.rows:
        cells, row_problems = _row_cells(table, number, values, keys)
        problems += row_problems
        school_id = _ident(cells["school_id"].value)
        if school_id is None:
            problems.append(Problem(table.file, cells["school_id"].where, None, "school_id is empty; every row needs one"))
            continue
        raw = schools.setdefault(school_id, RawSchool(table.file, defaultdict(list), [], frozenset(carries)))
        for spec in specs:
            raw.fields[spec.column].append(cells[spec.column])
        in_place = cells.get("measures_in_place", Cell(None, ""))
        planned = [{part: cells[planned_column(n, part)] for part in PLANNED_FIELDS if planned_column(n, part) in cells}
                   for n in range(1, slots + 1)]
        partial = [(cells[partial_column(n, "measure")], cells.get(partial_column(n, "scope"), Cell(None, "")))
                   for n in range(1, slots + 1) if partial_column(n, "measure") in cells]
        raw.risks.append(RawRisk(
            cells["risk_id"],
            {k: cells[k] for k in RISK_FIELDS if k in cells},
            [Cell(i, in_place.where) for i in _LIST_SPLIT.split(_text(in_place.value) or "") if i],
            [(m, s) for m, s in partial if m.value is not None or s.value is not None],
            [p for p in planned if any(c.value is not None for c in p.values())],
        ))
    return list(schools.values()), problems


# --- the questionnaire --------------------------------------------------------------------------------------------

class _Questionnaire:
    """Reads a filled `riskkit template`: school, platform, risk rows with a column per measure (yes / partly: scope),
    planned measures, questions, threshold additions, views and the decision. The DPO's advice is not in it."""

    def __init__(self, by_sheet: dict[str | None, Table], lang: Lang, district: District):
        self.by_sheet, self.lang, self.district = by_sheet, lang, district
        self.cat = district.catalogue
        self.problems: list[Problem] = []
        self.fields: dict[str, list[Cell]] = {}
        self.carries: set[str] = set()
        self.file = next(iter(by_sheet.values())).file

    def labels(self, keys: tuple[str, ...]) -> dict[str, str]:
        return _names([(k, column_label(k, lang)) for k in keys for lang in LANGUAGES])

    def table(self, key: str) -> Table | None:
        return self.by_sheet.get(sheet_name(key, self.lang))

    def read(self) -> tuple[list[RawSchool], list[Problem]]:
        school, risks = self.table("school"), self.table("risks")
        self.fields.update(self.field_rows(school, ("school_id", "school_name", "school_kind", "assessed_on",
                                                    "assessed_by", "catalogue_version")))
        for key, reader in (("platform", self.platform), ("questions", self.questions),
                            ("threshold", self.threshold), ("views", self.views), ("decision", self.decision)):
            if (table := self.table(key)) is not None:
                reader(table)
                self.carries.add("answers" if key == "questions" else key)
        rows = self.risk_rows(risks)
        planned = self.table("planned")
        if planned is not None and rows is not None:
            self.planned_rows(planned, rows)
        carries = frozenset(self.carries)
        return [RawSchool(school.file, self.fields, rows or [], carries)], self.problems

    def keys(self, table: Table, names: dict[str, str], required: tuple[str, ...]) -> list[str | None] | None:
        """Column keys of a sheet's headers; None (and problems) if a column is unknown, doubled or missing."""
        columns = [k for k in dict.fromkeys(names.values()) if not k.startswith("measure:")]
        hint = ", ".join(column_label(k, self.lang) for k in columns)
        keys = [names.get(_fold(h)) if h else None for h in table.header]
        problems = _structure_problems(table, keys, required, hint + " and the measures' titles",
                                       lambda k: column_label(k, self.lang))
        self.problems += problems
        return None if problems else keys

    def field_rows(self, table: Table, keys: tuple[str, ...]) -> dict[str, list[Cell]]:
        """A sheet of (field, value) rows: the value cells by column key."""
        names = self.labels(keys)
        fields: dict[str, list[Cell]] = {}
        self.problems += _merged_problems(table)
        for number, values in table.rows:
            name = _text(values[0]) if values else None
            key = names.get(_fold(name or ""))
            if key is None:
                allowed = ", ".join(column_label(k, self.lang) for k in keys)
                self.problems.append(Problem(table.file, table.where(number, table.header[0]), name, f"unknown field; allowed: {allowed}"))
                continue
            fields[key] = [Cell(values[1] if len(values) > 1 else None, table.where(number, name))]
        for key in keys:
            fields.setdefault(key, [Cell(None, f"{table.sheet}!{column_label(key, self.lang)}")])
        return fields

    def platform(self, table: Table) -> None:
        """Field rows, one yes/no row per extra data category, a title row, one row per module."""
        self.problems += _merged_problems(table)
        names = self.labels(PLATFORM_FIELDS)
        extra = {f"extra:{c.id}": c for c in self.cat.extra_data_categories}
        names |= _names([(k, label("sheet.col.extra_data", lang).format(title=c.title[lang]))
                         for k, c in extra.items() for lang in LANGUAGES])
        names |= _names([(f"module:{m.id}", m.title[lang]) for m in self.cat.modules for lang in LANGUAGES])
        names |= _names([(f"module:{m.id}", m.id) for m in self.cat.modules])
        names |= self.labels(("module",))
        found: dict[str, list[Cell]] = {}
        extra_ids, module_ids, described, first = [], [], False, None
        for number, values in table.rows:
            values = [*values, None, None, None, None]
            name = _text(values[0])
            key = names.get(_fold(name or ""))
            where = lambda col: table.where(number, table.header[col] or f"#{col + 1}")  # noqa: E731
            first = first or Cell(None, where(1))
            if key is None:
                allowed = ", ".join([*(column_label(k, self.lang) for k in PLATFORM_FIELDS),
                                     *(m.title[self.lang] for m in self.cat.modules)])
                self.problems.append(Problem(table.file, where(0), name, f"unknown row; allowed: {allowed}"))
            elif key == "module":
                continue
            elif key in extra:
                cell = Cell(values[1], where(1))
                if cell.value is not None and self.yes(cell):
                    extra_ids.append(key.removeprefix("extra:"))
                    described = True
            elif key.startswith("module:"):
                module = self.cat.module(key.removeprefix("module:"))
                use = Cell(values[1], where(1))
                if module.mandatory or (use.value is not None and self.yes(use)):
                    module_ids.append(module.id)
                described |= not module.mandatory and use.value is not None
                for col, part in ((2, "legal_basis"), (3, "groups")):
                    found[f"module_{module.id}_{part}"] = [Cell(values[col], where(col))]
                    described |= values[col] is not None
            else:
                found[key] = [Cell(values[1], where(1))]
                described |= values[1] is not None
        if described:
            self.fields.update(found)
            where = first.where if first else f"{table.sheet}"
            self.fields["platform_extra_data"] = [Cell(extra_ids or None, where)]
            order = {m.id: i for i, m in enumerate(self.cat.modules)}
            self.fields["platform_modules"] = [Cell(sorted(module_ids, key=order.get), where)]

    def yes(self, cell: Cell) -> bool:
        """A yes/no cell (True for yes); anything else is a problem (and False)."""
        folded = _fold(_text(cell.value) or "")
        if cell.value is True or folded in _YES:
            return True
        if folded not in _NO:
            self.problems.append(Problem(self.file, cell.where, cell.value,
                                         f"not yes or no; allowed: {label('yes', self.lang)}, {label('no', self.lang)}"))
        return False

    def id_rows(self, table: Table, columns: tuple[str, ...], id_column: str, known: list[str]) -> list[dict[str, Cell]]:
        """Rows of a sheet keyed by an id column (questions, criteria, councils); unknown ids are problems."""
        keys = self.keys(table, self.labels(columns), (id_column,))
        if keys is None:
            return []
        rows = []
        for number, values in table.rows:
            cells, problems = _row_cells(table, number, values, keys)
            self.problems += problems
            item = cells.get(id_column, Cell(None, table.where(number)))
            if _ident(item.value) not in known:
                if any(c.value is not None for c in cells.values()):
                    self.problems.append(Problem(table.file, item.where, item.value,
                                                 f"unknown id; allowed: {', '.join(known)}"))
                continue
            rows.append(cells)
        return rows

    def questions(self, table: Table) -> None:
        by_id = {q.id: q for q in self.cat.questions}
        for cells in self.id_rows(table, QUESTION_COLUMNS, "question_id", list(by_id)):
            question = by_id[_ident(cells["question_id"].value)]
            status, text = cells.get("status"), cells.get("text")
            default = question.default
            if (default and (status is None or status.value is None) and text is not None
                    and _text(text.value) in (default.text.de, default.text.en)):
                continue  # the vendor's suggestion, not confirmed: no answer yet
            for part, cell in (("status", status), ("text", text)):
                if cell is not None:
                    self.fields[f"question_{question.id}_{part}"] = [cell]

    def threshold(self, table: Table) -> None:
        known = [c.id for c in self.cat.threshold_criteria]
        for cells in self.id_rows(table, THRESHOLD_COLUMNS, "criterion_id", known):
            criterion = _ident(cells["criterion_id"].value)
            for key, column in (("answer", f"threshold_{criterion}"), ("answer_reason", f"threshold_{criterion}_reason")):
                if key in cells:
                    self.fields[column] = [cells[key]]

    def views(self, table: Table) -> None:
        known = [c.id for c in self.district.config.council_list()]
        for cells in self.id_rows(table, VIEW_COLUMNS, "council_id", known):
            council = _ident(cells["council_id"].value)
            for key, part in VIEW_KEYS.items():
                if key in cells:
                    self.fields[f"view_{council}_{part}"] = [cells[key]]

    def decision(self, table: Table) -> None:
        self.fields.update(self.field_rows(table, DECISION_FIELDS))

    def risk_rows(self, table: Table) -> list[RawRisk] | None:
        names = self.labels((*TEMPLATE_RISK_COLUMNS, *DECISION_RISK_COLUMNS))
        names |= _names([(f"measure:{m.id}", m.title[lang]) for m in self.cat.measures for lang in LANGUAGES])
        names |= _names([(f"measure:{m.id}", m.id) for m in self.cat.measures])
        keys = self.keys(table, names, ("risk_id", "likelihood", "reason"))
        if keys is None:
            return None
        self.carries |= {"residual"} if "override_likelihood" in keys else set()
        self.carries |= {"accepted"} if "accepted_reason" in keys else set()
        rows = []
        for number, values in table.rows:
            cells, problems = _row_cells(table, number, values, keys)
            self.problems += problems
            in_place, partial = [], []
            for key, cell in cells.items():
                if key.startswith("measure:") and cell.value is not None:
                    measure = Cell(key.removeprefix("measure:"), cell.where)
                    text = _text(cell.value) or ""
                    folded = _fold(text)
                    scope = re.sub(r"^\s*\S+?\s*[:：]\s*", "", text, count=1) if ":" in text or "：" in text else ""
                    if folded.startswith(_PARTIAL):
                        if scope.strip():
                            partial.append((measure, Cell(scope, cell.where)))
                        else:
                            example = label("sheet.partial", self.lang)
                            self.problems.append(Problem(table.file, cell.where, cell.value,
                                                         f"say for which part the measure is in place, e.g."
                                                         f" '{example}: nur Lehrkräfte'"))
                    elif folded in _YES or cell.value is True:
                        in_place.append(measure)
                    elif folded not in _NO:
                        self.problems.append(Problem(table.file, cell.where, cell.value,
                                                     f"not yes or partly; allowed: {label('yes', self.lang)},"
                                                     f" '{label('sheet.partial', self.lang)}: <scope>' or empty"))
            fields = {k: cells[k] for k in (*ANSWER_COLUMNS, *DECISION_RISK_COLUMNS) if k in cells}
            rows.append(RawRisk(cells.get("risk_id", Cell(None, table.where(number))), fields, in_place, partial))
        return rows

    def planned_rows(self, table: Table, rows: list[RawRisk]) -> None:
        keys = self.keys(table, self.labels(PLANNED_COLUMNS), PLANNED_REQUIRED)
        if keys is None:
            return
        risks = {_ident(r.risk.value): r for r in rows}
        risk_ids = _names([(r.id, r.id) for r in self.cat.risks] + [(r.id, r.title[lang]) for r in self.cat.risks for lang in LANGUAGES])
        measure_ids = _names([(m.id, m.id) for m in self.cat.measures] + [(m.id, m.title[lang]) for m in self.cat.measures for lang in LANGUAGES])
        for number, values in table.rows:
            cells, problems = _row_cells(table, number, values, keys)
            self.problems += problems
            risk = cells.get("risk", Cell(None, table.where(number)))
            risk_id = risk_ids.get(_fold(_text(risk.value) or ""))
            if risk_id is None:
                allowed = "the risks' titles in the drop-down"
                self.problems.append(Problem(table.file, risk.where, risk.value, f"unknown risk; allowed: {allowed}"))
                continue
            if risk_id not in risks:  # a risk the sheet leaves out (not applicable): checked as its own row
                risks[risk_id] = RawRisk(Cell(risk_id, risk.where))
                rows.append(risks[risk_id])
            measure = cells.get("planned_measure", Cell(None, risk.where))
            measure_id = measure_ids.get(_fold(_text(measure.value) or ""), measure.value)
            planned = {"measure": Cell(measure_id, measure.where)}
            planned |= {part: cells[f"planned_{part}"] for part in PLANNED_FIELDS[1:] if f"planned_{part}" in cells}
            risks[risk_id].planned.append(planned)
