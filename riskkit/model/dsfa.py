"""The DSFA's parts beyond the risks, as a school records them: threshold analysis, answers on necessity and rights,
the DPO's advice (Art. 35(2)), the views of those affected (Art. 35(9)) and the controller's decision."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from .catalogue import Answer, QuestionStatus
from .fields import IsoDate, StrictModel
from .i18n import NonEmptyStr
from .method import Level, RiskLevel

Opinion = Literal["favourable", "conditions", "unfavourable"]
Outcome = Literal["released", "conditions", "not-released", "suspended"]
OPINIONS: tuple[Opinion, ...] = ("favourable", "conditions", "unfavourable")
OUTCOMES: tuple[Outcome, ...] = ("released", "conditions", "not-released", "suspended")
ANSWERS: tuple[Answer, ...] = ("yes", "no", "unknown")
QUESTION_STATUSES: tuple[QuestionStatus, ...] = ("met", "partly", "not-met", "not-applicable")


class ThresholdAnswer(StrictModel):
    answer: Answer
    reason: NonEmptyStr | None = None


class QuestionAnswer(StrictModel):
    status: QuestionStatus
    text: NonEmptyStr


class Advice(StrictModel):
    """The data-protection officer's advice; anything but a favourable opinion needs its text."""

    by: NonEmptyStr
    on: IsoDate
    opinion: Opinion
    text: NonEmptyStr | None = None
    proposed: dict[str, RiskLevel] = {}

    @model_validator(mode="after")
    def _reasoned(self) -> Advice:
        if self.opinion != "favourable" and not self.text:
            raise ValueError(f"an opinion {self.opinion!r} needs its text (key `text`)")
        return self


class View(StrictModel):
    """The view of a council (parents, pupils, staff): sought, when and what it said — or why it was not sought."""

    sought: bool
    on: IsoDate | None = None
    summary: NonEmptyStr | None = None
    reason: NonEmptyStr | None = None

    @model_validator(mode="after")
    def _complete(self) -> View:
        if self.sought and not (self.on and self.summary):
            raise ValueError("a view that was sought needs its date (`on`) and what was said (`summary`)")
        if not self.sought and not self.reason:
            raise ValueError("a view that was not sought needs the reason why (`reason`)")
        return self


class Residual(StrictModel):
    """The controller's residual values for one risk, replacing the computed ones; a reason is required."""

    likelihood: Level
    severity: Level
    reason: NonEmptyStr


class Decision(StrictModel):
    """The controller's decision: residual values it sets, the risks it accepts, and the outcome."""

    residual: dict[str, Residual] = {}
    accepted: dict[str, NonEmptyStr] = {}
    by: NonEmptyStr | None = None
    on: IsoDate | None = None
    outcome: Outcome | None = None
    conditions: NonEmptyStr | None = None

    @model_validator(mode="after")
    def _dated(self) -> Decision:
        if self.outcome and not (self.by and self.on):
            raise ValueError("a decision needs who decided (`by`) and the date (`on`)")
        if self.outcome == "conditions" and not self.conditions:
            raise ValueError("a release with conditions needs the conditions (`conditions`)")
        return self

    @property
    def made(self) -> bool:
        return self.outcome is not None


class Dsfa(StrictModel):
    """`dsfa:` of a school file."""

    threshold: dict[str, ThresholdAnswer] = {}
    answers: dict[str, QuestionAnswer] = {}
    advice: Advice | None = None
    views: dict[str, View] = {}
    decision: Decision = Decision()
