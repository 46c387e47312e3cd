"""A school's assessment: its likelihood estimates, reasons and measures per risk, and what follows from them."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from . import method
from .catalogue import Catalogue, Risk
from .errors import Problem, ValidationError
from .i18n import NonEmptyStr
from .method import Level, Matrix, RiskLevel
from .locks import FileConflict, school_lock
from .yamlio import dump_yaml, key_path, pydantic_problems, read_yaml, write_atomic

SCHOOL_KINDS = ("primary", "secondary", "grammar", "comprehensive", "special-needs", "vocational", "other")
SchoolKind = Literal["primary", "secondary", "grammar", "comprehensive", "special-needs", "vocational", "other"]
_ID = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def check_school_id(value: str) -> str:
    """A school id becomes a file name: lowercase letters, digits, '-' and '_' only, no device names."""
    if not _ID.fullmatch(value):
        raise ValueError(
            "school id must be 1-64 characters a-z, 0-9, '-' or '_', starting and ending with a letter"
            " or digit (it becomes a file name)"
        )
    if value in _RESERVED:
        raise ValueError("school id must not be a reserved device name (con, prn, aux, nul, com0-9, lpt0-9)")
    return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip())):
        return value.strip() if isinstance(value, str) else value
    raise ValueError("must be a date written YYYY-MM-DD")


SchoolId = Annotated[str, Field(strict=True), AfterValidator(check_school_id)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class School(_Model):
    id: SchoolId
    name: NonEmptyStr
    kind: SchoolKind


class PlannedMeasure(_Model):
    """A measure the school will put in place, who is responsible and by when."""

    measure: str
    owner: NonEmptyStr
    due: IsoDate
    note: str | None = None


class Override(_Model):
    """Explicit residual values that replace the computed ones; a reason is required."""

    likelihood: Level
    severity: Level
    reason: NonEmptyStr


class RiskEntry(_Model):
    """The school's assessment of one catalogue risk."""

    likelihood: Level
    reason: NonEmptyStr
    measures_in_place: list[str] = []
    measures_planned: list[PlannedMeasure] = []
    override: Override | None = None


class SchoolAssessment(_Model):
    """One school's assessment file: `data/<district>/schools/<school-id>.yaml`."""

    school: School
    assessed_on: IsoDate
    assessed_by: NonEmptyStr
    catalogue_version: str | None = None
    risks: dict[str, RiskEntry] = {}

    def evaluate(self, catalogue: Catalogue, matrix: Matrix | None = None) -> list[RiskResult]:
        """Inherent and residual risk for every catalogue risk; risks not assessed stay open."""
        matrix = matrix or method.default_matrix()
        return [assess_risk(risk, self.risks.get(risk.id), catalogue, matrix) for risk in catalogue.risks]

    def to_yaml(self) -> str:
        return dump_yaml(self.model_dump(mode="json", exclude_defaults=True))


@dataclass(frozen=True)
class RiskResult:
    """What the method makes of one risk at one school. Levels are None for a risk not yet assessed."""

    risk: Risk
    entry: RiskEntry | None
    inherent_level: RiskLevel | None = None
    residual_likelihood: int | None = None
    residual_severity: int | None = None
    residual_level: RiskLevel | None = None

    @property
    def assessed(self) -> bool:
        return self.entry is not None

    @property
    def likelihood(self) -> int | None:
        return self.entry.likelihood if self.entry else None

    @property
    def severity(self) -> int:
        return self.risk.severity

    @property
    def overridden(self) -> bool:
        return bool(self.entry and self.entry.override)

    @property
    def prior_consultation(self) -> bool:
        """A high residual risk means the supervisory authority must be consulted first (Art. 36(1))."""
        return self.residual_level == "high"


def assess_risk(risk: Risk, entry: RiskEntry | None, catalogue: Catalogue, matrix: Matrix) -> RiskResult:
    """Classify the inherent risk and the residual risk after the measures in place (or the override)."""
    if entry is None:
        return RiskResult(risk, None)
    if entry.override:
        likelihood, severity = entry.override.likelihood, entry.override.severity
    else:
        effects = (catalogue.measure(m).effect_on(risk.id) for m in entry.measures_in_place)
        reductions = [(e.likelihood, e.severity) for e in effects if e]
        likelihood, severity = method.residual(entry.likelihood, risk.severity, reductions, matrix.max_reduction)
    return RiskResult(
        risk,
        entry,
        inherent_level=matrix.classify(entry.likelihood, risk.severity),
        residual_likelihood=likelihood,
        residual_severity=severity,
        residual_level=matrix.classify(likelihood, severity),
    )


def reference_problems(data: Any, catalogue: Catalogue, file: str) -> list[Problem]:
    """Risk and measure ids the catalogue does not know, or that do not fit the risk they are listed under.

    Works on the raw file data, so that these problems are reported together with any type errors.
    """
    risks = data.get("risks") if isinstance(data, dict) else None
    if not isinstance(risks, dict):
        return []
    problems = []
    for risk_id, entry in risks.items():
        if risk_id not in catalogue.risks_by_id:
            allowed = ", ".join(catalogue.risks_by_id)
            problems.append(Problem(file, f"risks.{risk_id}", risk_id, f"unknown risk id; allowed: {allowed}"))
            continue
        if isinstance(entry, dict):
            problems += _measure_problems(risk_id, entry, catalogue, file)
    return problems


def _measure_problems(risk_id: str, entry: dict, catalogue: Catalogue, file: str) -> list[Problem]:
    problems = []
    allowed = [m.id for m in catalogue.measures_for(risk_id)]
    listed = {field: _listed(risk_id, entry, field) for field in ("measures_in_place", "measures_planned")}
    for field, items in listed.items():
        for path, measure_id in items:
            if not isinstance(measure_id, str) or measure_id not in allowed:
                known = isinstance(measure_id, str) and measure_id in catalogue.measures_by_id
                kind = "measure does not lower this risk" if known else "unknown measure id"
                problems.append(Problem(file, path, measure_id, f"{kind}; allowed for this risk: {', '.join(allowed)}"))
        for measure_id, count in Counter(m for _, m in items if isinstance(m, str)).items():
            if count > 1:
                problems.append(Problem(file, f"risks.{risk_id}.{field}", measure_id, "measure listed more than once"))
    in_place = {m for _, m in listed["measures_in_place"] if isinstance(m, str)}
    for path, measure_id in listed["measures_planned"]:
        if measure_id in in_place:
            problems.append(Problem(file, path, measure_id, "measure is already in place; plan only missing ones"))
    return problems


def _listed(risk_id: str, entry: dict, field: str) -> list[tuple[str, Any]]:
    """(key path, measure id) of each measure listed under `field`, skipping malformed items (reported elsewhere)."""
    items = entry.get(field) or []
    if not isinstance(items, list):
        return []
    if field == "measures_in_place":
        return [(key_path(["risks", risk_id, field, i]), m) for i, m in enumerate(items)]
    return [
        (key_path(["risks", risk_id, field, i, "measure"]), p["measure"])
        for i, p in enumerate(items) if isinstance(p, dict) and "measure" in p
    ]


def read_school(path: Path, catalogue: Catalogue) -> tuple[SchoolAssessment | None, list[Problem]]:
    """Read and validate one school file; returns the assessment or the problems found."""
    path = Path(path)
    data, problems = read_yaml(path)
    if problems:
        return None, problems
    try:
        assessment = SchoolAssessment.model_validate(data)
    except PydanticValidationError as exc:
        return None, pydantic_problems(exc, str(path)) + reference_problems(data, catalogue, str(path))
    problems = reference_problems(data, catalogue, str(path))
    if assessment.school.id != path.stem:
        problems.append(Problem(str(path), "school.id", assessment.school.id, f"must equal the file name {path.stem!r}"))
    return (None if problems else assessment), problems


def load_school(path: Path, catalogue: Catalogue) -> SchoolAssessment:
    """Read one school file or raise ValidationError listing all its problems."""
    assessment, problems = read_school(path, catalogue)
    if problems:
        raise ValidationError(problems)
    return assessment


def school_path(folder: Path, school_id: str) -> Path:
    """A school's file: the existing `<id>.yaml` or `<id>.yml` (its extension is kept), else `<id>.yaml`."""
    folder = Path(folder)
    return next((p for p in (folder / f"{school_id}.yaml", folder / f"{school_id}.yml") if p.is_file()),
                folder / f"{school_id}.yaml")


def save_school(assessment: SchoolAssessment, folder: Path, catalogue: Catalogue,
                under_lock: Callable[[Path], None] | None = None) -> Path:
    """Validate and write the school's file atomically, holding the school's lock (riskkit.model.locks).

    `under_lock(path)` runs with the lock held, just before the write (a stamp check, a history copy); it may raise
    to refuse. A school without a file gets a new one only if none appeared meanwhile (else FileConflict). The file
    keeps its extension (.yaml or .yml); a failed save leaves the old file intact.
    """
    school_id = assessment.school.id
    checked = SchoolAssessment.model_validate(assessment.model_dump())
    problems = reference_problems(checked.model_dump(), catalogue, str(Path(folder) / f"{school_id}.yaml"))
    if problems:
        raise ValidationError(problems)
    with school_lock(folder, school_id):
        path = school_path(folder, school_id)
        if under_lock:
            under_lock(path)
        try:
            write_atomic(path, checked.to_yaml(), new=not path.exists())
        except FileExistsError:
            raise FileConflict(path, "was created by someone else meanwhile; nothing was written") from None
    return path
