"""The capture form's state without any widget: an editable draft of one school's assessment, its checks in plain
words, and saving that never silently overwrites a file someone else changed."""

from __future__ import annotations

import copy
import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import ValidationError as PydanticValidationError

from ..model.assessment import SCHOOL_KINDS, RiskResult, SchoolAssessment, check_school_id, read_school, reference_problems, school_path
from ..model.catalogue import Catalogue
from ..model.district import District
from ..model.errors import Problem, RiskkitError, ValidationError
from ..model.history import keep_previous
from ..model.locks import FileConflict
from ..model.i18n import Lang, label
from ..model.status import DsfaStatus, dsfa_status
from ..model.messages import translate
from ..model.yamlio import key_path
from .draft import Draft, DsfaDraft, PlannedDraft, PlatformDraft, RiskDraft

__all__ = ["CaptureSession", "Conflict", "Draft", "FieldProblem", "FileStamp", "InvalidDraft", "PlannedDraft",
           "SaveConflict", "check_draft", "three_way"]


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


@dataclass(frozen=True)
class Conflict:
    """A field both this draft and someone else's save changed, to different values (None: not set)."""

    key: str  # keyed like the school file: `risks.profiling.likelihood`
    mine: object
    theirs: object


_MISSING = object()


def _leaves(data: object, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    """Every value of a school file's data with its key path; a list is one value."""
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from _leaves(value, (*prefix, str(key)))
    else:
        yield prefix, data


def three_way(base: dict, mine: dict, theirs: dict, prefer: str | None = None) -> tuple[dict, list[Conflict]]:
    """Merge two edits of `base`: what only one side changed is taken from it; a field both changed differently is a
    conflict, settled by `prefer` ("mine" or "theirs") or else listed (and left as theirs in the result)."""
    b, m, t = dict(_leaves(base)), dict(_leaves(mine)), dict(_leaves(theirs))
    merged: dict = {}
    conflicts: list[Conflict] = []
    for path in dict.fromkeys([*m, *t, *b]):  # this draft's order first
        was, ours, other = b.get(path, _MISSING), m.get(path, _MISSING), t.get(path, _MISSING)
        if ours == was or ours == other:
            value = other
        elif other == was or prefer == "mine":
            value = ours
        else:
            value = other
            if prefer is None:
                conflicts.append(Conflict(".".join(path), None if ours is _MISSING else ours,
                                          None if other is _MISSING else other))
        if value is not _MISSING:
            node = merged
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = value
    return merged, conflicts


Need = Callable[..., None]
RELEASED = ("released", "conditions")  # outcomes that let the processing go on


def check_draft(draft: Draft, catalogue: Catalogue, taken_ids: set[str] | None = None,
                results: list[RiskResult] | None = None) -> list[FieldProblem]:
    """Every problem of the draft, each at its field (keyed like the school file); `taken_ids` are the ids a new
    school must not use; `results` (the draft's live results) let a release be checked against the residual risks."""
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
    if draft.platform:
        _check_platform(draft.platform, need)
    for risk_id, d in draft.risks.items():
        _check_risk(risk_id, d, need)
    _check_dsfa(draft.dsfa, need, results)
    if not problems:
        problems += _model_problems(draft, catalogue)
    return problems


def _check_platform(p: PlatformDraft, need: Need) -> None:
    for key in ("pupils", "staff"):
        text = getattr(p, key).strip()
        need(not text or text.isdigit(), f"platform.{key}", "form.error.count")
    if p.operation == "running":
        need(p.running_since, "platform.running_since", "form.error.running_since")


def _check_risk(risk_id: str, d: RiskDraft, need: Need) -> None:
    base = f"risks.{risk_id}"
    if d.override:
        residual = f"dsfa.decision.residual.{risk_id}"
        need(d.override.likelihood, f"{residual}.likelihood", "form.error.choose")
        need(d.override.severity, f"{residual}.severity", "form.error.choose")
        need(d.override.reason.strip(), f"{residual}.reason", "form.error.override_reason")
    if d.likelihood is None:
        need(d.is_blank(), f"{base}.likelihood", "form.error.likelihood_missing")
        return
    need(d.reason.strip(), f"{base}.reason", "form.error.reason")
    for measure in d.measures_in_place:
        if measure in d.partial:
            need(d.partial[measure].strip(), f"{base}.measures_in_place.{measure}.partial", "form.error.partial_scope")
    if d.severity:
        need(d.severity.level, f"{base}.severity.level", "form.error.choose")
        need(d.severity.reason.strip(), f"{base}.severity.reason", "form.error.severity_reason")
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


def _check_dsfa(dsfa: DsfaDraft, need: Need, results: list[RiskResult] | None) -> None:
    for criterion, t in dsfa.threshold.items():
        need(t.answer or not t.reason.strip(), f"dsfa.threshold.{criterion}.answer", "form.error.choose")
    for question, a in dsfa.answers.items():
        if a.status or a.text.strip():
            need(a.status, f"dsfa.answers.{question}.status", "form.error.choose")
            need(a.text.strip(), f"dsfa.answers.{question}.text", "form.error.answer_text")
    advice = dsfa.advice
    if advice.given():
        need(advice.by.strip(), "dsfa.advice.by")
        need(advice.on, "dsfa.advice.on", "form.error.date")
        need(advice.opinion, "dsfa.advice.opinion", "form.error.choose")
        need(advice.opinion in (None, "favourable") or advice.text.strip(), "dsfa.advice.text",
             "form.error.advice_text")
    for council, v in dsfa.views.items():
        base = f"dsfa.views.{council}"
        if v.sought is None:
            need(not (v.on or v.summary.strip() or v.reason.strip()), f"{base}.sought", "form.error.choose")
        elif v.sought:
            need(v.on, f"{base}.on", "form.error.date")
            need(v.summary.strip(), f"{base}.summary", "form.error.view_summary")
        else:
            need(v.reason.strip(), f"{base}.reason", "form.error.view_reason")
    d = dsfa.decision
    if d.by.strip() or d.on or d.outcome or d.conditions.strip():
        need(d.by.strip(), "dsfa.decision.by")
        need(d.on, "dsfa.decision.on", "form.error.date")
        need(d.outcome, "dsfa.decision.outcome", "form.error.choose")
        need(d.outcome != "conditions" or d.conditions.strip(), "dsfa.decision.conditions",
             "form.error.conditions")
    if d.outcome in RELEASED:
        for r in results or ():
            if r.residual_level in ("medium", "high"):
                need(d.accepted.get(r.risk.id, "").strip(), f"dsfa.decision.accepted.{r.risk.id}",
                     "form.error.acceptance")


def _model_problems(draft: Draft, catalogue: Catalogue) -> list[FieldProblem]:
    """The school file's own validation, as a backstop for anything the form's checks did not catch."""
    data = draft.to_data(catalogue)
    try:
        SchoolAssessment.model_validate(data)
    except PydanticValidationError as exc:
        return [
            FieldProblem(_field_key(draft, [p for p in err["loc"] if p != "[key]"]), "form.error.invalid",
                         err["msg"].removeprefix("Value error, "))
            for err in exc.errors(include_url=False)
        ]
    return _field_problems(reference_problems(data, catalogue, ""))


def _field_key(draft: Draft, loc: list[str | int]) -> str:
    """The form's key of a place in the school file: a measure in place is keyed by its id, not its position."""
    if len(loc) >= 4 and loc[0] == "risks" and loc[2] == "measures_in_place" and isinstance(loc[3], int):
        measures = draft.risks[str(loc[1])].measures_in_place if loc[1] in draft.risks else []
        if loc[3] < len(measures):
            loc = [*loc[:3], measures[loc[3]], *loc[4:]]
    return key_path(loc)


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

    def merge_saved(self, prefer: str | None = None) -> list[Conflict]:
        """Bring into the draft what someone else saved since this school was loaded: what only they changed is taken,
        what only this draft changed is kept. Returns the fields both changed differently and changes nothing, unless
        `prefer` ("mine" or "theirs") settles them. Raises ValidationError if the saved file cannot be read."""
        path = self.path(self.school_id)
        stamp = FileStamp.of(path)
        saved, problems = read_school(path, self.catalogue)
        if problems:
            raise ValidationError(problems)
        theirs = Draft.from_assessment(saved, self.catalogue)
        merged, conflicts = three_way(self.baseline.to_data(self.catalogue), self.draft.to_data(self.catalogue),
                                      theirs.to_data(self.catalogue), prefer)
        if conflicts:
            return conflicts
        self.draft = Draft.from_assessment(SchoolAssessment.model_validate(merged), self.catalogue)
        self.baseline, self.stamp = theirs, stamp
        return []

    def resume(self, draft: Draft, base: Draft, stamp: FileStamp | None) -> None:
        """Go on with a draft kept from an earlier page (see unsaved.py), based on the file as it was then."""
        self.draft, self.baseline, self.stamp = draft, base, stamp

    def _start(self, draft: Draft) -> None:
        self.draft = draft
        self.baseline = copy.deepcopy(draft)

    def results(self) -> list[RiskResult]:
        return self.draft.results(self.catalogue, self.district.matrix)

    def evaluate(self) -> tuple[SchoolAssessment, list[RiskResult], DsfaStatus]:
        """The draft as an (unchecked) assessment, its live results and where the DSFA stands."""
        school = self.draft.assessment(self.catalogue)
        results = self.draft.results(self.catalogue, self.district.matrix, school)
        return school, results, dsfa_status(self.catalogue, self.district.config, school, results)

    def check(self) -> list[FieldProblem]:
        taken = {*self.district.schools, *(p.stem for p in self.district.schools_dir.glob("*.y*ml"))}
        return check_draft(self.draft, self.catalogue, taken if self.is_new else None, self.results())

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
            if path.exists():
                keep_previous(path)  # a broken file can be put back to it (CaptureForm, the DPO's link)

        try:
            path = self.district.save_school(assessment, unchanged)
        except ValidationError as exc:
            raise InvalidDraft(_field_problems(exc.problems)) from None
        except FileConflict as exc:
            raise SaveConflict(exc.path) from None
        self.school_id, self.stamp = assessment.school.id, FileStamp.of(path)
        self.baseline = copy.deepcopy(self.draft)
        return path
