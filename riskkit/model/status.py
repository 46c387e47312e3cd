"""Derived, never stored: the threshold analysis' conclusion and where a school's DSFA stands.

Steps: draft -> complete (platform described, every applicable risk assessed, every question answered, the threshold
analysis concluded, every council's view recorded) -> advised (the DPO's advice recorded) -> decided (the controller's
decision recorded, every medium or high residual risk accepted with a reason). An "unknown" never counts as "no".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .catalogue import Answer, Catalogue, ThresholdCriterion
from .i18n import Lang, counted_label, label

if TYPE_CHECKING:
    from .assessment import RiskResult, SchoolAssessment
    from .district import DistrictConfig

Step = Literal["draft", "complete", "advised", "decided"]
STEPS: tuple[Step, ...] = ("draft", "complete", "advised", "decided")
AnsweredBy = Literal["catalogue", "district", "school"]


@dataclass(frozen=True)
class CriterionAnswer:
    criterion: ThresholdCriterion
    answer: Answer
    reason: str | None
    by: AnsweredBy


@dataclass(frozen=True)
class Threshold:
    """The threshold analysis: each criterion's answer and the conclusion (None while it cannot be drawn)."""

    answers: tuple[CriterionAnswer, ...]

    @property
    def yes(self) -> list[CriterionAnswer]:
        return [a for a in self.answers if a.answer == "yes"]

    @property
    def unknown(self) -> list[CriterionAnswer]:
        return [a for a in self.answers if a.answer == "unknown"]

    @property
    def required(self) -> bool | None:
        """A DSFA is required when a listed processing applies or two criteria are met; unknowns leave it open."""
        yes = self.yes
        if any(a.criterion.kind == "list" for a in yes) or len(yes) >= 2:
            return True
        return None if self.unknown else False


def threshold(catalogue: Catalogue, config: DistrictConfig, school: SchoolAssessment) -> Threshold:
    """Each criterion answered by the school, else the district, else the catalogue's answer for its platform."""
    answers = []
    for criterion in catalogue.threshold_criteria:
        own, district = school.dsfa.threshold.get(criterion.id), config.threshold.get(criterion.id)
        if own:
            answers.append(CriterionAnswer(criterion, own.answer, own.reason, "school"))
        elif district:
            answers.append(CriterionAnswer(criterion, district.answer, district.reason, "district"))
        else:
            reason = criterion.platform_reason
            answers.append(CriterionAnswer(criterion, criterion.platform_answer, reason and reason[config.language],
                                           "catalogue"))
    return Threshold(tuple(answers))


@dataclass(frozen=True)
class Blocker:
    """One thing that keeps a DSFA from its next step; `key` names a label `status.blocker.<key>` with `{count}`."""

    key: str
    count: int = 1

    def text(self, lang: Lang) -> str:
        return counted_label(f"status.blocker.{self.key}", self.count, lang)


@dataclass(frozen=True)
class DsfaStatus:
    step: Step
    blockers: tuple[Blocker, ...]

    def text(self, lang: Lang) -> str:
        return label(f"status.{self.step}", lang)

    def blockers_text(self, lang: Lang) -> str:
        return "; ".join(b.text(lang) for b in self.blockers)


def dsfa_status(
    catalogue: Catalogue, config: DistrictConfig, school: SchoolAssessment, results: Sequence[RiskResult]
) -> DsfaStatus:
    """The step a school's DSFA has reached and what blocks the next one."""
    dsfa = school.dsfa
    gates: list[list[Blocker]] = [[], [], []]
    complete, advised, decided = gates
    if school.platform is None:
        complete.append(Blocker("platform"))
    analysis = threshold(catalogue, config, school)
    counts = {
        "risks_open": sum(r.open for r in results),
        "questions": sum(q.id not in dsfa.answers for q in catalogue.questions),
        "threshold": len(analysis.unknown) if analysis.required is None else 0,
        "views": sum(c.id not in dsfa.views for c in config.council_list()),
    }
    complete += [Blocker(key, n) for key, n in counts.items() if n]
    if dsfa.advice is None:
        advised.append(Blocker("advice"))
    if not dsfa.decision.made:
        decided.append(Blocker("decision"))
    unaccepted = sum(r.residual_level in ("medium", "high") and r.risk.id not in dsfa.decision.accepted
                     for r in results)
    if unaccepted:
        decided.append(Blocker("acceptance", unaccepted))
    for reached, blockers in enumerate(gates):
        if blockers:
            return DsfaStatus(STEPS[reached], tuple(blockers))
    return DsfaStatus("decided", ())
