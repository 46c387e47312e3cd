"""The school file as the capture form edits it: plain dataclasses that may be incomplete while a person types, read
from a SchoolAssessment, turned back into the school file's data, and viewed as an (unchecked) assessment for the
live results and the DSFA status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..model.assessment import PartialMeasure, RiskEntry, RiskResult, SchoolAssessment, SeverityRaise, assess_risk
from ..model.catalogue import Catalogue
from ..model.dsfa import Advice, Decision, Dsfa, QuestionAnswer, Residual, ThresholdAnswer, View
from ..model.platform import ModuleUse, Platform


def _text(value: str | None) -> str:
    return value or ""


def _some(**values: Any) -> dict[str, Any]:
    """The values that are set (texts stripped, empty texts, None and empty collections left out)."""
    out = {}
    for key, value in values.items():
        value = value.strip() if isinstance(value, str) else value
        if value not in (None, "", [], {}):
            out[key] = value
    return out


@dataclass
class PlannedDraft:
    """A planned measure as typed so far."""

    measure: str | None = None
    owner: str = ""
    due: date | None = None
    note: str = ""


@dataclass
class OverrideDraft:
    """The controller's residual values for one risk as typed so far (dsfa.decision.residual)."""

    likelihood: int | None = None
    severity: int | None = None
    reason: str = ""


@dataclass
class SeverityDraft:
    """The school's raise of a risk's severity as typed so far."""

    level: int | None = None
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
    severity: SeverityDraft | None = None

    def in_place(self) -> list[str | PartialMeasure]:
        """The measures in place for the live results; one marked partial counts as partial before its scope is
        typed (the scope is checked when saving)."""
        return [PartialMeasure.model_construct(measure=m, partial=self.partial[m] or "…") if m in self.partial else m
                for m in self.measures_in_place]

    def raised(self) -> SeverityRaise | None:
        s = self.severity
        return SeverityRaise.model_construct(level=s.level, reason=s.reason) if s and s.level else None

    def entry(self) -> RiskEntry | None:
        """An unchecked RiskEntry for the live heatmap."""
        if self.likelihood is None:
            return None
        return RiskEntry.model_construct(
            likelihood=self.likelihood, reason=self.reason, measures_in_place=self.in_place(),
            measures_planned=[], severity=self.raised(),
        )

    def residual(self) -> Residual | None:
        """The residual values as typed, once both levels are chosen (incomplete ones are ignored until complete)."""
        o = self.override
        if o and o.likelihood and o.severity:
            return Residual.model_construct(likelihood=o.likelihood, severity=o.severity, reason=o.reason)
        return None

    def is_blank(self) -> bool:
        """Nothing assessed (residual values set by the decision do not count: they are not the school's estimate)."""
        return self == RiskDraft(override=self.override)

    def to_data(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"likelihood": self.likelihood, "reason": self.reason.strip()}
        if self.measures_in_place:
            entry["measures_in_place"] = [
                {"measure": m, "partial": self.partial[m].strip()} if m in self.partial else m
                for m in self.measures_in_place
            ]
        if self.measures_planned:
            entry["measures_planned"] = [
                {"measure": p.measure, "owner": p.owner.strip(), "due": p.due, **_some(note=p.note)}
                for p in self.measures_planned
            ]
        if self.severity:
            entry["severity"] = {"level": self.severity.level, "reason": self.severity.reason.strip()}
        return entry


@dataclass
class ModuleDraft:
    """A module the school has switched on."""

    legal_basis: str | None = None
    groups: str = ""


@dataclass
class PlatformDraft:
    """`platform:` as typed so far; `modules` holds the modules switched on (mandatory ones always)."""

    hosting: str | None = None
    operation: str = "planned"
    running_since: date | None = None
    pupils: str = ""  # typed as text: a count, checked when saving
    staff: str = ""
    extra_data: list[str] = field(default_factory=list)
    modules: dict[str, ModuleDraft] = field(default_factory=dict)

    @classmethod
    def of(cls, platform: Platform) -> PlatformDraft:
        return cls(platform.hosting, platform.operation, platform.running_since,
                   "" if platform.pupils is None else str(platform.pupils),
                   "" if platform.staff is None else str(platform.staff), list(platform.extra_data),
                   {m: ModuleDraft(u.legal_basis, _text(u.groups)) for m, u in platform.modules.items()})

    @classmethod
    def every_module(cls, catalogue: Catalogue) -> PlatformDraft:
        """What a school that has not described its platform counts as: every module in use."""
        return cls(modules={m.id: ModuleDraft() for m in catalogue.modules})

    def view(self) -> Platform:
        """An unchecked Platform for the live results (a count not yet a number counts as not given)."""
        return Platform.model_construct(
            hosting=self.hosting, operation=self.operation, running_since=self.running_since,
            pupils=_count(self.pupils), staff=_count(self.staff), extra_data=list(self.extra_data),
            modules={m: ModuleUse.model_construct(legal_basis=u.legal_basis, groups=u.groups or None)
                     for m, u in self.modules.items()},
        )

    def to_data(self, catalogue: Catalogue) -> dict[str, Any]:
        counts = {key: int(text) if text.strip().isdigit() else text.strip()
                  for key, text in (("pupils", self.pupils), ("staff", self.staff)) if text.strip()}
        modules = {m: _some(legal_basis=u.legal_basis, groups=u.groups) for m, u in self.modules.items()}
        extra = [c.id for c in catalogue.extra_data_categories if c.id in self.extra_data]
        return {**_some(hosting=self.hosting), "operation": self.operation,
                **_some(running_since=self.running_since), **counts, **_some(extra_data=extra), "modules": modules}


def _count(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


@dataclass
class ThresholdDraft:
    """The school's own answer to a threshold criterion (replacing the district's or the catalogue's)."""

    answer: str | None = None
    reason: str = ""


@dataclass
class AnswerDraft:
    """The answer to a question on necessity, proportionality or rights."""

    status: str | None = None
    text: str = ""


@dataclass
class AdviceDraft:
    """The data-protection officer's advice (Art. 35(2)); `proposed` residual levels are kept as loaded."""

    by: str = ""
    on: date | None = None
    opinion: str | None = None
    text: str = ""
    proposed: dict[str, str] = field(default_factory=dict)

    def given(self) -> bool:
        return self != AdviceDraft(proposed=self.proposed)


@dataclass
class ViewDraft:
    """A council's view (Art. 35(9)); `sought` None: not recorded yet."""

    sought: bool | None = None
    on: date | None = None
    summary: str = ""
    reason: str = ""


@dataclass
class DecisionDraft:
    """The head of school's decision; the residual values live in the risk drafts (`RiskDraft.override`)."""

    by: str = ""
    on: date | None = None
    outcome: str | None = None
    conditions: str = ""
    accepted: dict[str, str] = field(default_factory=dict)  # risk id -> why its residual risk is accepted


@dataclass
class DsfaDraft:
    """`dsfa:` as typed so far, keyed by criterion, question, council."""

    threshold: dict[str, ThresholdDraft] = field(default_factory=dict)
    answers: dict[str, AnswerDraft] = field(default_factory=dict)
    advice: AdviceDraft = field(default_factory=AdviceDraft)
    views: dict[str, ViewDraft] = field(default_factory=dict)
    decision: DecisionDraft = field(default_factory=DecisionDraft)

    @classmethod
    def of(cls, dsfa: Dsfa) -> DsfaDraft:
        a, d = dsfa.advice, dsfa.decision
        return cls(
            {c: ThresholdDraft(t.answer, _text(t.reason)) for c, t in dsfa.threshold.items()},
            {q: AnswerDraft(x.status, x.text) for q, x in dsfa.answers.items()},
            AdviceDraft(a.by, a.on, a.opinion, _text(a.text), dict(a.proposed)) if a else AdviceDraft(),
            {c: ViewDraft(v.sought, v.on, _text(v.summary), _text(v.reason)) for c, v in dsfa.views.items()},
            DecisionDraft(_text(d.by), d.on, d.outcome, _text(d.conditions), dict(d.accepted)),
        )

    def view(self, residual: dict[str, Residual]) -> Dsfa:
        """An unchecked Dsfa for the live status: only entries far enough to count (an answer with its status, a
        view sought or not, an advice with its opinion, a decision with its outcome, an acceptance with its reason)."""
        d, a = self.decision, self.advice
        return Dsfa.model_construct(
            threshold={c: ThresholdAnswer.model_construct(answer=t.answer, reason=t.reason or None)
                       for c, t in self.threshold.items() if t.answer},
            answers={q: QuestionAnswer.model_construct(status=x.status, text=x.text)
                     for q, x in self.answers.items() if x.status},
            advice=Advice.model_construct(by=a.by, on=a.on, opinion=a.opinion, text=a.text or None,
                                          proposed=a.proposed) if a.opinion else None,
            views={c: View.model_construct(sought=v.sought, on=v.on, summary=v.summary or None, reason=v.reason or None)
                   for c, v in self.views.items() if v.sought is not None},
            decision=Decision.model_construct(residual=residual, by=d.by or None, on=d.on, outcome=d.outcome,
                                              conditions=d.conditions or None,
                                              accepted={r: why for r, why in d.accepted.items() if why.strip()}),
        )

    def to_data(self, residual: dict[str, Any]) -> dict[str, Any]:
        a, d = self.advice, self.decision
        data = {
            "threshold": {c: _some(answer=t.answer, reason=t.reason) for c, t in self.threshold.items()
                          if t.answer or t.reason.strip()},
            "answers": {q: _some(status=x.status, text=x.text) for q, x in self.answers.items()
                        if x.status or x.text.strip()},
            "advice": _some(by=a.by, on=a.on, opinion=a.opinion, text=a.text, proposed=a.proposed) if a.given() else {},
            "views": {c: {"sought": v.sought, **_some(on=v.on, summary=v.summary, reason=v.reason)}
                      for c, v in self.views.items() if v.sought is not None},
            "decision": _some(residual=residual, accepted={r: why.strip() for r, why in d.accepted.items() if why.strip()},
                              by=d.by, on=d.on, outcome=d.outcome, conditions=d.conditions),
        }
        return {key: value for key, value in data.items() if value}


@dataclass
class Draft:
    """The SchoolAssessment being edited, allowed to be incomplete; every catalogue risk has a RiskDraft.
    `platform` None: the school has not described its platform (every module counts as in use)."""

    school_id: str = ""
    school_name: str = ""
    school_kind: str | None = None
    assessed_on: date | None = None
    assessed_by: str = ""
    risks: dict[str, RiskDraft] = field(default_factory=dict)
    platform: PlatformDraft | None = None
    dsfa: DsfaDraft = field(default_factory=DsfaDraft)

    @classmethod
    def blank(cls, catalogue: Catalogue, today: date) -> Draft:
        return cls(assessed_on=today, risks={r.id: RiskDraft() for r in catalogue.risks})

    @classmethod
    def from_assessment(cls, assessment: SchoolAssessment, catalogue: Catalogue) -> Draft:
        risks = {}
        for risk in catalogue.risks:
            entry = assessment.risks.get(risk.id)
            offered = {m.id for m in catalogue.measures_for(risk.id)}
            override = assessment.dsfa.decision.residual.get(risk.id)
            risks[risk.id] = RiskDraft(
                override=OverrideDraft(override.likelihood, override.severity, override.reason) if override else None,
            ) if entry is None else RiskDraft(
                likelihood=entry.likelihood,
                reason=entry.reason,
                measures_in_place=[m for m in entry.measure_ids if m in offered],
                measures_planned=[PlannedDraft(p.measure, p.owner, p.due, p.note or "") for p in entry.measures_planned],
                override=OverrideDraft(override.likelihood, override.severity, override.reason) if override else None,
                partial={m: part for m, part in entry.in_place() if part},
                severity=SeverityDraft(entry.severity.level, entry.severity.reason) if entry.severity else None,
            )
        school = assessment.school
        platform = PlatformDraft.of(assessment.platform) if assessment.platform else None
        return cls(school.id, school.name, school.kind, assessment.assessed_on, assessment.assessed_by, risks,
                   platform, DsfaDraft.of(assessment.dsfa))

    def residual(self) -> dict[str, Residual]:
        return {risk_id: o for risk_id, d in self.risks.items() if (o := d.residual())}

    def assessment(self, catalogue: Catalogue) -> SchoolAssessment:
        """The draft as an unchecked SchoolAssessment (for the live results and the DSFA status)."""
        return SchoolAssessment.model_construct(
            platform=self.platform.view() if self.platform else None, catalogue_version=catalogue.version,
            dsfa=self.dsfa.view(self.residual()),
        )

    def results(self, catalogue: Catalogue, matrix, school: SchoolAssessment | None = None) -> list[RiskResult]:
        """Inherent and residual risk of every catalogue risk as the draft stands (for the live view)."""
        school = school or self.assessment(catalogue)
        in_use = school.modules_in_use(catalogue)
        return [assess_risk(r, self.risks[r.id].entry(), catalogue, matrix, school, in_use) for r in catalogue.risks]

    def to_data(self, catalogue: Catalogue) -> dict[str, Any]:
        """The school file's content (plain data, not yet validated); risks not assessed are left out."""
        risks = {risk_id: d.to_data() for risk_id, d in self.risks.items() if d.likelihood is not None}
        residual = {risk_id: {"likelihood": d.override.likelihood, "severity": d.override.severity,
                              "reason": d.override.reason.strip()}
                    for risk_id, d in self.risks.items() if d.override}
        dsfa = self.dsfa.to_data(residual)
        return {
            "school": {"id": self.school_id.strip(), "name": self.school_name.strip(), "kind": self.school_kind},
            "assessed_on": self.assessed_on,
            "assessed_by": self.assessed_by.strip(),
            "catalogue_version": catalogue.version,
            **({"platform": self.platform.to_data(catalogue)} if self.platform else {}),
            "risks": risks,
            **({"dsfa": dsfa} if dsfa else {}),
        }
