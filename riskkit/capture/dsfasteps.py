"""The form's DSFA steps after the platform: the school's additions to the threshold analysis, the answers on
necessity, proportionality and rights (the vendor's default offered to take or replace), the views of the councils
(named as the district names them), the DPO's advice (a step for the DPO) and the head of school's decision with the
residual values and the acceptance of each medium or high residual risk. Every field is keyed like the school file
(`dsfa.decision.on`) and edits `Draft.dsfa` (residual values: `RiskDraft.override`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w
from markupsafe import Markup

from ..model.assessment import RiskResult, SchoolAssessment
from ..model.catalogue import QUESTION_PARTS, Catalogue
from ..model.district import DistrictConfig
from ..model.dsfa import ANSWERS, OPINIONS, OUTCOMES, QUESTION_STATUSES
from ..model.method import LEVELS, Matrix
from ..model.status import threshold
from .draft import AnswerDraft, Draft, OverrideDraft, ThresholdDraft, ViewDraft
from .fields import Fields, Lazy, fragment, html, section, show

Setter = Callable[[Any], None]


def _entry(block: dict, key: str, make: Callable[[], Any], empty: Any) -> Callable[[str, Any], None]:
    """A setter of one attribute of `block[key]`: the entry is made on the first edit and dropped once it is empty
    again, so clearing a field gives back what was loaded."""
    def set_part(name: str, value: Any) -> None:
        entry = block.setdefault(key, make())
        setattr(entry, name, value)
        if entry == empty:
            del block[key]
    return set_part


def threshold_step(draft: Draft, catalogue: Catalogue, config: DistrictConfig, fields: Fields,
                   heading: w.Widget) -> tuple[w.VBox, w.HTML]:
    """Each criterion with the platform's answer (district, else catalogue) and the school's own answer; and the
    conclusion line, which the form keeps up to date."""
    f, lang = fields, fields.lang
    answers = [(f.t(f"form.answer.{a}"), a) for a in ANSWERS]
    given = {a.criterion.id: a for a in threshold(catalogue, config, SchoolAssessment.model_construct()).answers}
    items = []
    for criterion in catalogue.threshold_criteria:
        base = f"dsfa.threshold.{criterion.id}"
        own = draft.dsfa.threshold.get(criterion.id, ThresholdDraft())
        set_part = _entry(draft.dsfa.threshold, criterion.id, ThresholdDraft, ThresholdDraft())
        platform = given[criterion.id]
        said = f.t(f"form.answer.{platform.answer}") + (f" – {platform.reason}" if platform.reason else "")
        items.append(section(None, [
            html("question_head", criterion.title[lang], criterion.guidance[lang], criterion.reference[lang]),
            html("labelled", f.t("form.threshold_given"), said),
            f.field(f"{base}.answer", w.Dropdown(options=[(f.t("form.threshold_keep"), ""), *answers],
                                                 value=own.answer or "", layout=w.Layout(width="20em")),
                    f.t("form.threshold_own"), lambda v, s=set_part: s("answer", v or None)),
            f.field(f"{base}.reason", w.Textarea(own.reason, rows=2), f.t("form.threshold_reason"),
                    lambda v, s=set_part: s("reason", v)),
        ]))
    conclusion = w.HTML()
    box = w.VBox([heading, *items, conclusion])
    box.add_class("rk-step")
    return box, conclusion


def threshold_text(required: bool | None, fields: Fields) -> Markup:
    key = {True: "form.threshold_required", False: "form.threshold_not_required", None: "form.threshold_open"}
    return fragment("strong_paragraph", fields.t(key[required]))


def questions_step(draft: Draft, catalogue: Catalogue, fields: Fields, heading: w.Widget) -> w.VBox:
    """The questions by part; where the vendor gives a standard answer, a button puts it into the fields."""
    f, lang = fields, fields.lang
    statuses = [(f.t(f"form.question_status.{s}"), s) for s in QUESTION_STATUSES]
    parts = []
    for part in QUESTION_PARTS:
        items: list[w.Widget] = [html("heading", 4, f.t(f"form.part.{part}"))]
        for q in [q for q in catalogue.questions if q.part == part]:
            base = f"dsfa.answers.{q.id}"
            own = draft.dsfa.answers.get(q.id, AnswerDraft())
            set_part = _entry(draft.dsfa.answers, q.id, AnswerDraft, AnswerDraft())
            status = f.field(f"{base}.status", f.menu(statuses, own.status, layout=w.Layout(width="20em")),
                             f.t("form.question_status"), lambda v, s=set_part: s("status", v or None))
            text = f.field(f"{base}.text", w.Textarea(own.text, rows=3), f.t("form.question_text"),
                           lambda v, s=set_part: s("text", v))
            children = [html("question_head", q.title[lang], q.guidance[lang], q.reference[lang])]
            if q.default:
                default = q.default
                take = f.buttons[base] = w.Button(description=f.t("form.take_default"), layout=w.Layout(width="auto"))

                def fill(_: Any, key: str = base, status: str = default.status, answer: str = default.text[lang]) -> None:
                    f.inputs[f"{key}.status"].value = status
                    f.inputs[f"{key}.text"].value = answer

                take.on_click(fill)
                children += [html("offered", f.t("form.vendor_default"), f.t(f"form.question_status.{default.status}"),
                                  default.text[lang]), take]
            items.append(section(None, [*children, status, text]))
        parts.append(w.VBox(items))
    box = w.VBox([heading, *parts])
    box.add_class("rk-step")
    return box


def views_step(draft: Draft, config: DistrictConfig, fields: Fields, heading: w.Widget) -> w.VBox:
    """Per council: sought or not; when and what it said, or why it was not sought."""
    f, lang = fields, fields.lang
    sought = [(f.t("form.sought.yes"), True), (f.t("form.sought.no"), False)]
    items = []
    for council in config.council_list():
        base = f"dsfa.views.{council.id}"
        own = draft.dsfa.views.get(council.id, ViewDraft())
        set_part = _entry(draft.dsfa.views, council.id, ViewDraft, ViewDraft())
        on = f.field(f"{base}.on", w.DatePicker(value=own.on, layout=w.Layout(width="14em")), f.t("form.view_on"),
                     lambda v, s=set_part: s("on", v))
        summary = f.field(f"{base}.summary", w.Textarea(own.summary, rows=3), f.t("form.view_summary"),
                          lambda v, s=set_part: s("summary", v))
        reason = f.field(f"{base}.reason", w.Textarea(own.reason, rows=2), f.t("form.view_reason"),
                         lambda v, s=set_part: s("reason", v))

        def choose(value: Any, s: Callable = set_part, yes: tuple = (on, summary), no: w.Widget = reason) -> None:
            value = None if value == "" else value
            s("sought", value)
            for widget in yes:
                show(widget, value is True)
            show(no, value is False)

        choose_field = f.field(f"{base}.sought", f.menu(sought, own.sought, layout=w.Layout(width="20em")),
                               f.t("form.sought"), choose)
        show(on, own.sought is True)
        show(summary, own.sought is True)
        show(reason, own.sought is False)
        items.append(section(None, [html("heading", 4, council.title[lang]), choose_field, on, summary, reason]))
    box = w.VBox([heading, *items])
    box.add_class("rk-step")
    return box


def advice_step(draft: Draft, numbers: dict[str, str], catalogue: Catalogue, matrix: Matrix, fields: Fields,
                heading: w.Widget) -> w.VBox:
    """The DPO's advice: who, when, the opinion and its text; the residual levels the DPO proposed, shown as kept."""
    f, lang, a = fields, fields.lang, draft.dsfa.advice
    opinions = [(f.t(f"form.opinion.{o}"), o) for o in OPINIONS]

    def part(name: str, none: bool = False) -> Setter:
        return lambda v: setattr(a, name, (v or None) if none else v)

    children = [
        heading,
        f.field("dsfa.advice.by", w.Text(a.by), f.t("form.advice_by"), part("by")),
        f.field("dsfa.advice.on", w.DatePicker(value=a.on, layout=w.Layout(width="14em")), f.t("form.advice_on"),
                part("on")),
        f.field("dsfa.advice.opinion", f.menu(opinions, a.opinion, layout=w.Layout(width="24em")),
                f.t("form.opinion"), part("opinion", none=True)),
        f.field("dsfa.advice.text", w.Textarea(a.text, rows=4), f.t("form.advice_text"), part("text")),
    ]
    if a.proposed:
        items = [f"{numbers[r]} {catalogue.risk(r).title[lang]}: {matrix.risk_level_name(level, lang)}"
                 for r, level in a.proposed.items() if r in numbers]
        children.append(html("problem_list", f.t("form.advice_proposed"), items))
    box = w.VBox(children)
    box.add_class("rk-step")
    return box


class DecisionStep:
    """The head of school's decision, and one row per assessed risk: its residual risk now, the residual values set
    by the head (the former per-risk override) and, where the residual risk is medium or high, its acceptance."""

    def __init__(self, draft: Draft, numbers: dict[str, str], catalogue: Catalogue, matrix: Matrix, fields: Fields,
                 heading: w.Widget):
        f, lang, d = fields, fields.lang, draft.dsfa.decision
        self.fields, self.draft = fields, draft
        outcomes = [(f.t(f"form.outcome.{o}"), o) for o in OUTCOMES]
        conditions = f.field("dsfa.decision.conditions", w.Textarea(d.conditions, rows=3), f.t("form.conditions"),
                             lambda v: setattr(d, "conditions", v))
        show(conditions, d.outcome == "conditions" or bool(d.conditions))

        def outcome(value: str) -> None:
            d.outcome = value or None
            show(conditions, d.outcome == "conditions" or bool(d.conditions))

        self.lines: dict[str, w.HTML] = {}
        self.rows: dict[str, w.VBox] = {}
        self.accepted: dict[str, w.VBox] = {}
        levels = [(f"{i} {matrix.level_name(i, lang)}", i) for i in LEVELS]
        rows = []
        for risk in catalogue.risks:
            line = self.lines[risk.id] = w.HTML()
            accepted = self.accepted[risk.id] = Lazy(lambda risk_id=risk.id: [f.field(
                f"dsfa.decision.accepted.{risk_id}", w.Textarea(d.accepted.get(risk_id, ""), rows=2),
                f.t("form.accepted"), self._accept(risk_id))], False)
            box = self.rows[risk.id] = section(f"{numbers[risk.id]} {risk.title[lang]}",
                                               [line, self._override(risk.id, levels), accepted])
            box.add_class(f"rk-decision-{risk.id}")
            rows.append(box)
        self.widget = w.VBox([
            heading,
            f.field("dsfa.decision.by", w.Text(d.by), f.t("form.decision_by"), lambda v: setattr(d, "by", v)),
            f.field("dsfa.decision.on", w.DatePicker(value=d.on, layout=w.Layout(width="14em")),
                    f.t("form.decision_on"), lambda v: setattr(d, "on", v)),
            f.field("dsfa.decision.outcome", f.menu(outcomes, d.outcome, layout=w.Layout(width="36em")),
                    f.t("form.outcome"), outcome),
            conditions,
            html("heading", 4, f.t("form.residual_heading")),
            *rows,
        ])
        self.widget.add_class("rk-step")

    def _accept(self, risk_id: str) -> Setter:
        accepted = self.draft.dsfa.decision.accepted

        def setter(value: str) -> None:
            if value:
                accepted[risk_id] = value
            else:
                accepted.pop(risk_id, None)
        return setter

    def _override(self, risk_id: str, levels: list[tuple[str, int]]) -> w.VBox:
        f, d = self.fields, self.draft.risks[risk_id]
        o = d.override or OverrideDraft()
        base = f"dsfa.decision.residual.{risk_id}"

        def part(name: str) -> Setter:
            def setter(value: Any) -> None:
                setattr(o, name, value if name == "reason" else value or None)
            return setter

        values = Lazy(lambda: [
            f.field(f"{base}.likelihood", f.menu(levels, o.likelihood, layout=w.Layout(width="20em")),
                    f.t("form.override_likelihood"), part("likelihood")),
            f.field(f"{base}.severity", f.menu(levels, o.severity, layout=w.Layout(width="20em")),
                    f.t("form.override_severity"), part("severity")),
            f.field(f"{base}.reason", w.Textarea(o.reason, rows=2), f.t("form.override_reason"), part("reason")),
        ], d.override is not None)

        def toggle(on: bool) -> None:
            d.override = o if on else None
            values.set(on)

        switch = f.switch(base, w.Checkbox(d.override is not None, indent=False), f.t("form.override"), toggle)
        return w.VBox([switch, values])

    def update(self, results: list[RiskResult], lines: dict[str, Markup]) -> None:
        """Show the rows of assessed risks with their residual risk now; the acceptance where it is needed (medium
        or high) or already given."""
        accepted = self.draft.dsfa.decision.accepted
        for r in results:
            show(self.rows[r.risk.id], r.assessed)
            if r.assessed:
                if self.lines[r.risk.id].value != lines[r.risk.id]:
                    self.lines[r.risk.id].value = lines[r.risk.id]
                self.accepted[r.risk.id].set(r.residual_level in ("medium", "high") or r.risk.id in accepted)
