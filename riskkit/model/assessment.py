"""A school's assessment: its platform, its likelihood estimates, reasons and measures per risk, the DSFA's other
parts, and what follows from them (applicability, inherent and residual risk, Art. 36)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import PlainSerializer, PlainValidator, ValidationError as PydanticValidationError

from . import method
from .catalogue import Catalogue, Risk
from .dsfa import Dsfa, Residual
from .errors import Problem, ValidationError
from .fields import IsoDate, SchoolId, StrictModel, check_school_id
from .i18n import NonEmptyStr
from .method import Level, Matrix, RiskLevel
from .locks import FileConflict, school_lock
from .migrate import Change, migrate
from .platform import Platform
from .yamlio import dump_yaml, key_path, pydantic_problems, read_yaml, update_yaml, write_atomic

__all__ = [
    "SCHOOL_KINDS", "Override", "PartialMeasure", "PlannedMeasure", "RiskEntry", "RiskResult", "SchoolAssessment",
    "SeverityRaise", "assess_risk", "check_school_id", "load_school", "read_school", "read_school_file",
    "reference_problems",
    "save_school",
]

SCHOOL_KINDS = ("primary", "secondary", "grammar", "comprehensive", "special-needs", "vocational", "other")
SchoolKind = Literal["primary", "secondary", "grammar", "comprehensive", "special-needs", "vocational", "other"]
Override = Residual  # the controller's residual values (dsfa.decision.residual); riskkit < 0.2 kept them per risk
_Model = StrictModel
MISSING_MODULE = "(switched off)"


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


class PartialMeasure(_Model):
    """A measure in place only in part; `partial` says its scope in words (e.g. "nur Lehrkräfte")."""

    measure: str
    partial: NonEmptyStr


def _measure_in_place(value: Any) -> str | PartialMeasure:
    if isinstance(value, str):
        return value
    if isinstance(value, PartialMeasure):
        return value
    if isinstance(value, dict):
        try:
            return PartialMeasure.model_validate(value)
        except PydanticValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"{where}: {first['msg']}") from None
    raise ValueError("must be a measure id, or {measure: <id>, partial: <scope in words>} for a measure in part")


def _dump_measure(value: str | PartialMeasure) -> str | dict[str, str]:
    return value if isinstance(value, str) else value.model_dump()


# One validator for both shapes, so a problem is named at the item (a plain union names each member's failure).
MeasureInPlace = Annotated[Any, PlainValidator(_measure_in_place), PlainSerializer(_dump_measure)]


class SeverityRaise(_Model):
    """The school raises the catalogue's severity of a risk (e.g. Art. 9 data); lowering is the residual decision."""

    level: Level
    reason: NonEmptyStr


class RiskEntry(_Model):
    """The school's assessment of one catalogue risk."""

    likelihood: Level
    reason: NonEmptyStr
    measures_in_place: list[MeasureInPlace] = []
    measures_planned: list[PlannedMeasure] = []
    severity: SeverityRaise | None = None

    def in_place(self) -> list[tuple[str, str | None]]:
        """(measure id, partial scope or None) of each measure in place."""
        return [(m, None) if isinstance(m, str) else (m.measure, m.partial) for m in self.measures_in_place]

    @property
    def measure_ids(self) -> list[str]:
        return [m for m, _ in self.in_place()]


class SchoolAssessment(_Model):
    """One school's assessment file: `data/<district>/schools/<school-id>.yaml`."""

    school: School
    assessed_on: IsoDate
    assessed_by: NonEmptyStr
    catalogue_version: str | None = None
    platform: Platform | None = None
    risks: dict[str, RiskEntry] = {}
    dsfa: Dsfa = Dsfa()

    def modules_in_use(self, catalogue: Catalogue) -> set[str]:
        """The modules switched on; a school that has not described its platform uses them all."""
        if self.platform is None:
            return {m.id for m in catalogue.modules}
        return set(self.platform.modules) | set(catalogue.mandatory_modules)

    def evaluate(
        self, catalogue: Catalogue, matrix: Matrix | None = None, assessed_against: str | None = None
    ) -> list[RiskResult]:
        """Inherent and residual risk for every catalogue risk; risks not assessed stay open, risks of switched-off
        modules are not applicable. `assessed_against`: the catalogue version the file named before migration
        (risks added since are marked new)."""
        matrix = matrix or method.default_matrix()
        in_use = self.modules_in_use(catalogue)
        against = assessed_against or self.catalogue_version
        return [
            assess_risk(risk, self.risks.get(risk.id), catalogue, matrix, self, in_use, against)
            for risk in catalogue.risks
        ]

    def to_yaml(self, previous: str | None = None) -> str:
        """The school file's text; given the file's `previous` text, only what changed is changed in it."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        return dump_yaml(data) if previous is None else update_yaml(previous, data, self.model_dump(mode="json"))


@dataclass(frozen=True)
class Migrated:
    """What reading an older school file changed: the version it named and each change."""

    from_version: str | None
    changes: tuple[Change, ...]


SeveritySource = Literal["catalogue", "data", "school"]


@dataclass(frozen=True)
class RiskResult:
    """What the method makes of one risk at one school. Levels are None for a risk not assessed or not applicable."""

    risk: Risk
    entry: RiskEntry | None
    inherent_level: RiskLevel | None = None
    residual_likelihood: int | None = None
    residual_severity: int | None = None
    residual_level: RiskLevel | None = None
    applicable: bool = True
    severity: int = 0
    severity_source: SeveritySource = "catalogue"
    severity_reason: str | None = None
    override: Residual | None = None
    new: bool = False

    def __post_init__(self) -> None:
        if not self.severity:
            object.__setattr__(self, "severity", self.risk.severity)

    @property
    def assessed(self) -> bool:
        return self.applicable and self.entry is not None

    @property
    def open(self) -> bool:
        """Applicable but not assessed yet."""
        return self.applicable and self.entry is None

    @property
    def likelihood(self) -> int | None:
        return self.entry.likelihood if self.assessed else None

    @property
    def overridden(self) -> bool:
        return self.override is not None

    @property
    def prior_consultation(self) -> bool:
        """A high residual risk means the supervisory authority must be consulted first (Art. 36(1))."""
        return self.residual_level == "high"


def _newer(since: str | None, assessed_against: str | None) -> bool:
    """Whether a risk added in catalogue version `since` is newer than the version a school assessed against."""
    if since is None or assessed_against is None:
        return False
    return _version_key(since) > _version_key(assessed_against)


@cache
def _version_key(version: str) -> tuple[int, ...]:
    """`1.1.0+ext.2` -> (1, 1, 0): the catalogue's own version, compared by number."""
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("+")[0].split("."))


def effective_severity(
    risk: Risk, entry: RiskEntry | None, catalogue: Catalogue, school: SchoolAssessment | None
) -> tuple[int, SeveritySource, str | None]:
    """The catalogue's severity, raised by a catalogue rule for declared extra data or by the school with a reason."""
    level, source, reason = risk.severity, "catalogue", None
    extra = school.platform.extra_data if school and school.platform else []
    rule = catalogue.severity_floor(risk.id, extra)
    if rule and rule.severity > level:
        level, source, reason = rule.severity, "data", rule.category
    if entry and entry.severity and entry.severity.level > level:
        level, source, reason = entry.severity.level, "school", entry.severity.reason
    return level, source, reason


def assess_risk(
    risk: Risk, entry: RiskEntry | None, catalogue: Catalogue, matrix: Matrix,
    school: SchoolAssessment | None = None, in_use: set[str] | None = None, assessed_against: str | None = None,
) -> RiskResult:
    """Classify the inherent risk and the residual risk after the measures in place (or the controller's residual
    decision). A risk whose modules are all switched off is not applicable; one not assessed stays open."""
    new = _newer(risk.since, assessed_against)
    if in_use is not None and not in_use.intersection(risk.modules):
        return RiskResult(risk, entry, applicable=False, new=new)
    severity, source, severity_reason = effective_severity(risk, entry, catalogue, school)
    if entry is None:
        return RiskResult(risk, None, severity=severity, severity_source=source, severity_reason=severity_reason,
                          new=new)
    override = school.dsfa.decision.residual.get(risk.id) if school else None
    if override:
        likelihood, residual_severity = override.likelihood, override.severity
    else:
        reductions = []
        for measure_id, partial in entry.in_place():
            effect = catalogue.measure(measure_id).effect_on(risk.id)
            if effect:
                counted = effect.partial if partial else effect
                reductions.append((counted.likelihood, counted.severity))
        likelihood, residual_severity = method.residual(entry.likelihood, severity, reductions, matrix.max_reduction)
    return RiskResult(
        risk,
        entry,
        inherent_level=matrix.classify(entry.likelihood, severity),
        residual_likelihood=likelihood,
        residual_severity=residual_severity,
        residual_level=matrix.classify(likelihood, residual_severity),
        severity=severity,
        severity_source=source,
        severity_reason=severity_reason,
        override=override,
        new=new,
    )


def reference_problems(data: Any, catalogue: Catalogue, file: str) -> list[Problem]:
    """Ids the catalogue does not know or that do not fit where they stand: risks, measures, modules, legal bases,
    extra data categories, threshold criteria, questions; a mandatory module switched off; a severity lowered.

    Works on the raw file data, so that these problems are reported together with any type errors.
    """
    if not isinstance(data, dict):
        return []
    problems = _platform_problems(data.get("platform"), catalogue, file)
    risks = data.get("risks")
    for risk_id, entry in (risks.items() if isinstance(risks, dict) else ()):
        if risk_id not in catalogue.risks_by_id:
            allowed = ", ".join(catalogue.risks_by_id)
            problems.append(Problem(file, f"risks.{risk_id}", risk_id, f"unknown risk id; allowed: {allowed}"))
            continue
        if isinstance(entry, dict):
            problems += _measure_problems(risk_id, entry, catalogue, file)
            problems += _severity_problems(risk_id, entry, catalogue, file)
    return problems + _dsfa_problems(data.get("dsfa"), catalogue, file)


def _unknown(file: str, path: str, value: Any, kind: str, known: Any) -> Problem:
    return Problem(file, path, value, f"unknown {kind}; allowed: {', '.join(known) or '(none)'}")


def _platform_problems(platform: Any, catalogue: Catalogue, file: str) -> list[Problem]:
    if not isinstance(platform, dict):
        return []
    problems = []
    modules = platform.get("modules")
    if isinstance(modules, dict):
        for module_id, use in modules.items():
            if module_id not in catalogue.modules_by_id:
                problems.append(_unknown(file, f"platform.modules.{module_id}", module_id, "module",
                                         catalogue.modules_by_id))
                continue
            offered = catalogue.module(module_id).processing.legal_bases
            basis = use.get("legal_basis") if isinstance(use, dict) else None
            if basis is not None and offered and basis not in offered:
                problems.append(Problem(file, f"platform.modules.{module_id}.legal_basis", basis,
                                        f"legal basis not offered for this module; allowed: {', '.join(offered)}"))
        for module_id in sorted(catalogue.mandatory_modules - set(modules)):
            problems.append(Problem(file, f"platform.modules.{module_id}", MISSING_MODULE,
                                    "mandatory module cannot be switched off; list it under platform.modules"))
    extra = platform.get("extra_data")
    known = [c.id for c in catalogue.extra_data_categories]
    for i, category in enumerate(extra if isinstance(extra, list) else ()):
        if category not in known:
            problems.append(_unknown(file, f"platform.extra_data[{i}]", category, "data category", known))
    return problems


def _severity_problems(risk_id: str, entry: dict, catalogue: Catalogue, file: str) -> list[Problem]:
    raised = entry.get("severity")
    level = raised.get("level") if isinstance(raised, dict) else None
    floor = catalogue.risk(risk_id).severity
    if isinstance(level, int) and not isinstance(level, bool) and level <= floor:
        return [Problem(file, f"risks.{risk_id}.severity.level", level,
                        f"a school may only raise the severity (catalogue: {floor}); lowering the result is the"
                        " controller's residual decision (dsfa.decision.residual) with its reason")]
    return []


def _dsfa_problems(dsfa: Any, catalogue: Catalogue, file: str) -> list[Problem]:
    if not isinstance(dsfa, dict):
        return []
    problems = []
    checks = (
        ("threshold", [c.id for c in catalogue.threshold_criteria], "threshold criterion"),
        ("answers", [q.id for q in catalogue.questions], "question"),
    )
    for key, known, kind in checks:
        block = dsfa.get(key)
        for item_id in (block if isinstance(block, dict) else ()):
            if item_id not in known:
                problems.append(_unknown(file, f"dsfa.{key}.{item_id}", item_id, kind, known))
    risks = list(catalogue.risks_by_id)
    decision = dsfa.get("decision") if isinstance(dsfa.get("decision"), dict) else {}
    advice = dsfa.get("advice") if isinstance(dsfa.get("advice"), dict) else {}
    for path, block in (("dsfa.decision.residual", decision.get("residual")),
                        ("dsfa.decision.accepted", decision.get("accepted")),
                        ("dsfa.advice.proposed", advice.get("proposed"))):
        for risk_id in (block if isinstance(block, dict) else ()):
            if risk_id not in catalogue.risks_by_id:
                problems.append(_unknown(file, f"{path}.{risk_id}", risk_id, "risk id", risks))
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
        return [(key_path(["risks", risk_id, field, i]), m) if not isinstance(m, dict)
                else (key_path(["risks", risk_id, field, i, "measure"]), m.get("measure")) for i, m in enumerate(items)]
    return [
        (key_path(["risks", risk_id, field, i, "measure"]), p["measure"])
        for i, p in enumerate(items) if isinstance(p, dict) and "measure" in p
    ]


def read_school(path: Path, catalogue: Catalogue) -> tuple[SchoolAssessment | None, list[Problem]]:
    """Read and validate one school file; returns the assessment or the problems found."""
    assessment, problems, _ = read_school_file(path, catalogue)
    return assessment, problems


def read_school_file(
    path: Path, catalogue: Catalogue
) -> tuple[SchoolAssessment | None, list[Problem], Migrated | None]:
    """Like `read_school`, and what reading it through the catalogue's migration table changed (None: nothing)."""
    path = Path(path)
    data, problems = read_yaml(path)
    if problems:
        return None, problems, None
    original = data.get("catalogue_version") if isinstance(data, dict) else None
    data, changes = migrate(data, catalogue)
    migrated = Migrated(original, tuple(changes)) if changes else None
    try:
        assessment = SchoolAssessment.model_validate(data)
    except PydanticValidationError as exc:
        return None, pydantic_problems(exc, str(path)) + reference_problems(data, catalogue, str(path)), migrated
    problems = reference_problems(data, catalogue, str(path))
    if assessment.school.id != path.stem:
        problems.append(Problem(str(path), "school.id", assessment.school.id, f"must equal the file name {path.stem!r}"))
    return (None if problems else assessment), problems, migrated


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


def _previous_text(path: Path) -> str | None:
    """The text of the file a save replaces (None: there is none); unreadable text is replaced whole."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return ""


def _in_catalogue_order(data: dict[str, Any], catalogue: Catalogue) -> dict[str, Any]:
    """Risks, and the decision's per-risk entries, in the catalogue's order: a school file reads like the catalogue."""
    position = {risk_id: i for i, risk_id in enumerate(catalogue.risks_by_id)}

    def ordered(entries: dict[str, Any]) -> dict[str, Any]:
        return dict(sorted(entries.items(), key=lambda item: position.get(item[0], len(position))))

    decision = data["dsfa"]["decision"]
    decision.update(residual=ordered(decision["residual"]), accepted=ordered(decision["accepted"]))
    return {**data, "risks": ordered(data["risks"])}


def save_school(assessment: SchoolAssessment, folder: Path, catalogue: Catalogue,
                under_lock: Callable[[Path], None] | None = None) -> Path:
    """Validate and write the school's file atomically, holding the school's lock (riskkit.model.locks).

    `under_lock(path)` runs with the lock held, just before the write (a stamp check, a history copy); it may raise
    to refuse. A school without a file gets a new one only if none appeared meanwhile (else FileConflict). The file
    keeps its extension (.yaml or .yml); a failed save leaves the old file intact.
    """
    school_id = assessment.school.id
    checked = SchoolAssessment.model_validate(_in_catalogue_order(assessment.model_dump(), catalogue))
    problems = reference_problems(checked.model_dump(), catalogue, str(Path(folder) / f"{school_id}.yaml"))
    if problems:
        raise ValidationError(problems)
    with school_lock(folder, school_id):
        path = school_path(folder, school_id)
        if under_lock:
            under_lock(path)
        previous = _previous_text(path)
        try:
            write_atomic(path, checked.to_yaml(previous), new=previous is None)
        except FileExistsError:
            raise FileConflict(path, "was created by someone else meanwhile; nothing was written") from None
    return path
