"""The capture form's state without any widget: an editable draft of one school's assessment, its checks in plain
words, and saving that never silently overwrites a file someone else changed."""

from __future__ import annotations

import copy
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from ..model.assessment import (
    SCHOOL_KINDS, Override, PartialMeasure, RiskEntry, RiskResult, SchoolAssessment, SeverityRaise, assess_risk,
    check_school_id, read_school, reference_problems, school_path,
)
from ..model.dsfa import Dsfa
from ..model.platform import Platform
from ..model.catalogue import Catalogue
from ..model.district import District
from ..model.errors import Problem, RiskkitError, ValidationError
from ..model.locks import FileConflict
from ..model.i18n import Lang, label
from ..model.messages import translate
from ..model.yamlio import key_path


@dataclass
class PlannedDraft:
    """A planned measure as typed so far."""

    measure: str | None = None
    owner: str = ""
    due: date | None = None
    note: str = ""


@dataclass
class OverrideDraft:
    """Explicit residual values as typed so far."""

    likelihood: int | None = None
    severity: int | None = None
    reason: str = ""


@dataclass
class RiskDraft:
    """One risk as typed so far; `likelihood` None means not assessed yet."""

    likelihood: int | None = None
    reason: str = ""
    measures_in_place: list[str] = field(default_factory=list)
    measures_planned: list[PlannedDraft] = field(default_factory=list)
    override: OverrideDraft | None = None
    partial: dict[str, str] = field(default_factory=dict)  # measure id -> scope of a measure in place only in part
    severity: SeverityRaise | None = None

    def in_place(self) -> list[str | PartialMeasure]:
        return [PartialMeasure.model_construct(measure=m, partial=self.partial[m]) if m in self.partial else m
                for m in self.measures_in_place]

    def entry(self) -> RiskEntry | None:
        """An unchecked RiskEntry for the live heatmap."""
        if self.likelihood is None:
            return None
        return RiskEntry.model_construct(
            likelihood=self.likelihood, reason=self.reason, measures_in_place=self.in_place(),
            measures_planned=[], severity=self.severity,
        )

    def residual(self) -> Override | None:
        """The residual values as typed, once both levels are chosen (incomplete ones are ignored until complete)."""
        o = self.override
        if o and o.likelihood and o.severity:
            return Override.model_construct(likelihood=o.likelihood, severity=o.severity, reason=o.reason)
        return None

    def is_blank(self) -> bool:
        return self == RiskDraft()


@dataclass
class Draft:
    """The SchoolAssessment being edited, allowed to be incomplete; every catalogue risk has a RiskDraft."""

    school_id: str = ""
    school_name: str = ""
    school_kind: str | None = None
    assessed_on: date | None = None
    assessed_by: str = ""
    risks: dict[str, RiskDraft] = field(default_factory=dict)
    platform: Platform | None = None  # kept as loaded: the form does not edit it (yet)
    dsfa: Dsfa = field(default_factory=Dsfa)  # kept as loaded, but for the residual values the risk drafts hold

    @classmethod
    def blank(cls, catalogue: Catalogue, today: date) -> Draft:
        return cls(assessed_on=today, risks={r.id: RiskDraft() for r in catalogue.risks})

    @classmethod
    def from_assessment(cls, assessment: SchoolAssessment, catalogue: Catalogue) -> Draft:
        risks = {}
        for risk in catalogue.risks:
            entry = assessment.risks.get(risk.id)
            override = assessment.dsfa.decision.residual.get(risk.id)
            risks[risk.id] = RiskDraft() if entry is None else RiskDraft(
                likelihood=entry.likelihood,
                reason=entry.reason,
                measures_in_place=[m.id for m in catalogue.measures_for(risk.id) if m.id in entry.measure_ids],
                measures_planned=[PlannedDraft(p.measure, p.owner, p.due, p.note or "") for p in entry.measures_planned],
                override=OverrideDraft(override.likelihood, override.severity, override.reason) if override else None,
                partial={m: part for m, part in entry.in_place() if part},
                severity=entry.severity,
            )
        school = assessment.school
        return cls(school.id, school.name, school.kind, assessment.assessed_on, assessment.assessed_by, risks,
                   assessment.platform, assessment.dsfa)

    def results(self, catalogue: Catalogue, matrix) -> list[RiskResult]:
        """Inherent and residual risk of every catalogue risk as the draft stands (for the live view)."""
        residual = {risk_id: o for risk_id, d in self.risks.items() if (o := d.residual())}
        school = SchoolAssessment.model_construct(
            platform=self.platform, catalogue_version=catalogue.version,
            dsfa=self.dsfa.model_copy(update={"decision": self.dsfa.decision.model_copy(update={"residual": residual})}),
        )
        in_use = school.modules_in_use(catalogue)
        return [assess_risk(r, self.risks[r.id].entry(), catalogue, matrix, school, in_use) for r in catalogue.risks]

    def to_data(self, catalogue: Catalogue) -> dict[str, Any]:
        """The school file's content (plain data, not yet validated); risks not assessed are left out."""
        risks, residual = {}, {}
        for risk_id, d in self.risks.items():
            if d.likelihood is None:
                continue
            entry: dict[str, Any] = {"likelihood": d.likelihood, "reason": d.reason.strip()}
            if d.measures_in_place:
                entry["measures_in_place"] = [
                    {"measure": m, "partial": d.partial[m]} if m in d.partial else m for m in d.measures_in_place
                ]
            if d.measures_planned:
                entry["measures_planned"] = [
                    {"measure": p.measure, "owner": p.owner.strip(), "due": p.due,
                     **({"note": p.note.strip()} if p.note.strip() else {})}
                    for p in d.measures_planned
                ]
            if d.severity:
                entry["severity"] = d.severity.model_dump()
            if d.override:
                residual[risk_id] = {"likelihood": d.override.likelihood, "severity": d.override.severity,
                                     "reason": d.override.reason.strip()}
            risks[risk_id] = entry
        dsfa = self.dsfa.model_dump(mode="json", exclude_defaults=True)
        decision = {**dsfa.get("decision", {}), "residual": residual}
        dsfa["decision"] = {k: v for k, v in decision.items() if v}
        return {
            "school": {"id": self.school_id.strip(), "name": self.school_name.strip(), "kind": self.school_kind},
            "assessed_on": self.assessed_on,
            "assessed_by": self.assessed_by.strip(),
            "catalogue_version": catalogue.version,
            **({"platform": self.platform.model_dump(mode="json", exclude_defaults=True)} if self.platform else {}),
            "risks": risks,
            **({"dsfa": {k: v for k, v in dsfa.items() if v}} if any(dsfa.values()) or residual else {}),
        }


@dataclass(frozen=True)
class FieldProblem:
    """Something wrong with one form field, keyed like the school file (`risks.profiling.reason`)."""

    key: str
    message: str  # a label key
    detail: str = ""

    def text(self, lang: Lang) -> str:
        return label(self.message, lang).format(detail=translate(self.detail, lang))


class InvalidDraft(RiskkitError):
    """The draft cannot be saved; `problems` says which fields and why."""

    exit_code = 2

    def __init__(self, problems: list[FieldProblem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.key}: {p.text('en')}" for p in problems))


class SaveConflict(FileConflict):
    """The school's file changed (or was created) on disk since it was loaded; saving would overwrite someone
    else's work."""

    def __init__(self, path: Path):
        self.path = Path(path)
        RiskkitError.__init__(self, f"{path} changed on disk since it was loaded; reload it before saving")


def check_draft(draft: Draft, catalogue: Catalogue, taken_ids: set[str] | None = None) -> list[FieldProblem]:
    """Every problem of the draft, each at its field; `taken_ids` are the ids a new school must not use."""
    problems: list[FieldProblem] = []

    def need(ok: object, key: str, message: str = "form.error.required") -> None:
        if not ok:
            problems.append(FieldProblem(key, message))

    if taken_ids is not None:
        try:
            check_school_id(draft.school_id.strip())
        except ValueError:
            problems.append(FieldProblem("school.id", "form.error.school_id"))
        else:
            need(draft.school_id.strip() not in taken_ids, "school.id", "form.error.id_taken")
    need(draft.school_name.strip(), "school.name")
    need(draft.school_kind in SCHOOL_KINDS, "school.kind", "form.error.choose")
    need(draft.assessed_on, "assessed_on", "form.error.date")
    need(draft.assessed_by.strip(), "assessed_by")
    for risk_id, d in draft.risks.items():
        _check_risk(risk_id, d, need)
    if not problems:
        problems += _model_problems(draft, catalogue)
    return problems


def _check_risk(risk_id: str, d: RiskDraft, need) -> None:
    base = f"risks.{risk_id}"
    if d.likelihood is None:
        need(d.is_blank(), f"{base}.likelihood", "form.error.likelihood_missing")
        return
    need(d.reason.strip(), f"{base}.reason", "form.error.reason")
    planned = [p.measure for p in d.measures_planned]
    counts = Counter(planned)
    for i, p in enumerate(d.measures_planned):
        row = key_path(["risks", risk_id, "measures_planned", i])
        need(p.measure, f"{row}.measure", "form.error.choose")
        need(p.measure not in d.measures_in_place, f"{row}.measure", "form.error.planned_in_place")
        need(not p.measure or counts[p.measure] == 1 or planned.index(p.measure) == i, f"{row}.measure",
             "form.error.planned_twice")
        need(p.owner.strip(), f"{row}.owner")
        need(p.due, f"{row}.due", "form.error.date")
    if d.override:
        need(d.override.likelihood, f"{base}.override.likelihood", "form.error.choose")
        need(d.override.severity, f"{base}.override.severity", "form.error.choose")
        need(d.override.reason.strip(), f"{base}.override.reason", "form.error.override_reason")


def _model_problems(draft: Draft, catalogue: Catalogue) -> list[FieldProblem]:
    """The school file's own validation, as a backstop for anything the form's checks did not catch."""
    data = draft.to_data(catalogue)
    try:
        SchoolAssessment.model_validate(data)
    except PydanticValidationError as exc:
        return [
            FieldProblem(key_path(p for p in err["loc"] if p != "[key]"), "form.error.invalid",
                         err["msg"].removeprefix("Value error, "))
            for err in exc.errors(include_url=False)
        ]
    return _field_problems(reference_problems(data, catalogue, ""))


def _field_problems(problems: list[Problem]) -> list[FieldProblem]:
    return [FieldProblem(p.path, "form.error.invalid", p.message) for p in problems]


@dataclass(frozen=True)
class FileStamp:
    """What a file looked like when read: modification time and content hash."""

    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, path: Path) -> FileStamp | None:
        """The file's stamp, or None if it does not exist."""
        try:
            stat = path.stat()
            content = path.read_bytes()
        except FileNotFoundError:
            return None
        return cls(stat.st_mtime_ns, hashlib.sha256(content).hexdigest())


class CaptureSession:
    """One person editing one school of a district at a time: load, edit the draft, save (atomically, no lost update).

    `district` is the loaded district; `problems` are the school files that could not be read.
    """

    def __init__(self, district: District, problems: list[Problem] | None = None, today: date | None = None):
        self.district = district
        self.problems = list(problems or [])
        self.today = today or date.today()
        self.school_id: str | None = None  # the file being edited; None for a new school
        self.stamp: FileStamp | None = None
        self.draft = Draft.blank(district.catalogue, self.today)
        self.baseline = copy.deepcopy(self.draft)

    @property
    def catalogue(self) -> Catalogue:
        return self.district.catalogue

    @property
    def is_new(self) -> bool:
        return self.school_id is None

    @property
    def dirty(self) -> bool:
        """Whether the draft differs from what was loaded or last saved."""
        return self.draft != self.baseline

    def path(self, school_id: str) -> Path:
        return school_path(self.district.schools_dir, school_id)

    def new_school(self) -> None:
        """Start a blank draft for a school that has no file yet."""
        self.school_id, self.stamp = None, None
        self._start(Draft.blank(self.catalogue, self.today))

    def load(self, school_id: str) -> None:
        """(Re-)read a school's file from disk; raises ValidationError naming the file's problems."""
        path = self.path(school_id)
        for _ in range(3):  # retry if someone saves while we read, so the stamp matches what was read
            before = FileStamp.of(path)
            assessment, problems = read_school(path, self.catalogue)
            if FileStamp.of(path) == before:
                break
        if problems:
            raise ValidationError(problems)
        self.district.schools = dict(sorted({**self.district.schools, school_id: assessment}.items()))
        self.school_id, self.stamp = school_id, before
        self._start(Draft.from_assessment(assessment, self.catalogue))

    def _start(self, draft: Draft) -> None:
        self.draft = draft
        self.baseline = copy.deepcopy(draft)

    def results(self) -> list[RiskResult]:
        return self.draft.results(self.catalogue, self.district.matrix)

    def check(self) -> list[FieldProblem]:
        taken = {*self.district.schools, *(p.stem for p in self.district.schools_dir.glob("*.y*ml"))}
        return check_draft(self.draft, self.catalogue, taken if self.is_new else None)

    def save(self) -> Path:
        """Validate and write the school's file atomically.

        Raises InvalidDraft (problems per field) or SaveConflict (the file changed on disk since it was loaded).
        """
        problems = self.check()
        if problems:
            raise InvalidDraft(problems)
        assessment = SchoolAssessment.model_validate(self.draft.to_data(self.catalogue))

        def unchanged(path: Path) -> None:  # runs under the school's lock, right before the write
            if FileStamp.of(path) != self.stamp:
                raise SaveConflict(path)

        try:
            path = self.district.save_school(assessment, unchanged)
        except ValidationError as exc:
            raise InvalidDraft(_field_problems(exc.problems)) from None
        except FileConflict as exc:
            raise SaveConflict(exc.path) from None
        self.school_id, self.stamp = assessment.school.id, FileStamp.of(path)
        self.baseline = copy.deepcopy(self.draft)
        return path
