"""One risk's card in the capture form: likelihood, reason, measures in place, planned measures, an optional override
of the levels, and the line that says where the risk now stands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from ..figures.markup import effect_text
from ..model.catalogue import Risk
from ..model.method import LEVELS
from .fields import Fields, close, css_class, html, row, section
from .state import CaptureSession, OverrideDraft, PlannedDraft


class RiskCard:
    """The widgets of one risk, registered in `fields` under `risks.<id>.…`; `on_change(risk_id)` runs after an
    add/remove of a planned measure (edits of a field report through `fields`)."""

    def __init__(self, risk: Risk, number: str, session: CaptureSession, fields: Fields,
                 on_change: Callable[[str], None]):
        self.risk, self.session, self.fields, self._on_change = risk, session, fields, on_change
        self.draft = session.draft.risks[risk.id]
        self.status = w.HTML()  # the risk's levels in words, kept up to date by the form
        m, lang, t = session.district.matrix, fields.lang, fields.t
        base = f"risks.{risk.id}"
        head = html("risk_head", number, risk.title[lang], risk.description[lang], t("form.severity"), risk.severity,
                    m.level_name(risk.severity, lang), risk.severity_reason[lang])
        levels = [(t("form.not_assessed"), 0)] + [
            (f"{i} {m.level_name(i, lang)}: {m.likelihood_guidance[i][lang]}", i) for i in LEVELS
        ]
        d = self.draft
        likelihood = fields.field(f"{base}.likelihood", w.RadioButtons(options=levels, value=d.likelihood or 0),
                                  t("form.likelihood"), lambda v: setattr(d, "likelihood", v or None))
        reason = fields.field(f"{base}.reason", w.Textarea(d.reason, placeholder=t("form.reason_placeholder"), rows=3),
                              t("form.reason"), lambda v: setattr(d, "reason", v))
        self._planned_rows = w.VBox()
        self.widget = w.VBox([head, likelihood, reason, self._measures_in_place(), self._planned(),
                              self._override(), self.status])
        self.widget.add_class("rk-risk")
        self.widget.add_class(css_class(f"risk-{risk.id}"))

    def _measures_in_place(self) -> w.VBox:
        risk, d, lang = self.risk, self.draft, self.fields.lang
        measures = self.session.catalogue.measures_for(risk.id)
        inputs = self.fields.inputs

        def setter(_: bool) -> None:
            d.measures_in_place = [m.id for m in measures if inputs[f"risks.{risk.id}.measures_in_place.{m.id}"].value]

        boxes = [
            self.fields.field(f"risks.{risk.id}.measures_in_place.{measure.id}",
                              w.Checkbox(measure.id in d.measures_in_place, indent=False,
                                         tooltip=measure.description[lang]),
                              f"{measure.title[lang]} – {effect_text(measure.effect_on(risk.id), lang)}", setter)
            for measure in measures
        ]
        return section(self.fields.t("form.measures_in_place"), boxes)

    def _planned(self) -> w.VBox:
        add = self.fields.buttons[f"risks.{self.risk.id}.measures_planned"] = w.Button(
            description=self.fields.t("form.add_planned"))
        add.on_click(lambda _: self._change_planned(lambda plans: plans.append(PlannedDraft())))
        self._fill_planned()
        return section(self.fields.t("form.measures_planned"), [self._planned_rows, add])

    def _fill_planned(self) -> None:
        """(Re)build the rows of planned measures, numbered as in the draft."""
        f, risk, lang = self.fields, self.risk, self.fields.lang
        f.forget(f"risks.{risk.id}.measures_planned[")
        options = [(m.title[lang], m.id) for m in self.session.catalogue.measures_for(risk.id)]
        rows = []
        for i, p in enumerate(self.draft.measures_planned):
            key = f"risks.{risk.id}.measures_planned[{i}]"
            remove = f.buttons[key] = w.Button(description=f.t("form.remove"))
            remove.on_click(lambda _, i=i: self._change_planned(lambda plans: plans.pop(i)))
            rows.append(w.VBox([
                f.field(f"{key}.measure", f.menu(options, p.measure), f.t("form.planned_measure"),
                        lambda v, p=p: setattr(p, "measure", v or None)),
                row([
                    f.field(f"{key}.owner", w.Text(p.owner, layout=w.Layout(width="18em")), f.t("form.owner"),
                            lambda v, p=p: setattr(p, "owner", v)),
                    f.field(f"{key}.due", w.DatePicker(value=p.due, layout=w.Layout(width="12em")), f.t("form.due"),
                            lambda v, p=p: setattr(p, "due", v)),
                    f.field(f"{key}.note", w.Text(p.note, layout=w.Layout(width="18em")), f.t("form.note"),
                            lambda v, p=p: setattr(p, "note", v)),
                ]),
                remove,
            ], layout=w.Layout(border_bottom="1px dashed #b0b0b0", padding="0 0 6px 0")))
        old = self._planned_rows.children
        self._planned_rows.children = rows
        for box in old:
            close(box)

    def _change_planned(self, change: Callable[[list[PlannedDraft]], object]) -> None:
        change(self.draft.measures_planned)
        self._fill_planned()
        self._on_change(self.risk.id)

    def _override(self) -> w.VBox:
        f, d, m = self.fields, self.draft, self.session.district.matrix
        o = d.override or OverrideDraft()
        base = f"risks.{self.risk.id}.override"
        levels = [(f"{i} {m.level_name(i, f.lang)}", i) for i in LEVELS]

        def part(name: str) -> Callable[[Any], None]:
            def setter(value: Any) -> None:
                setattr(o, name, value if name == "reason" else value or None)
            return setter

        fields = w.VBox([
            f.field(f"{base}.likelihood", f.menu(levels, o.likelihood, layout=w.Layout(width="20em")),
                    f.t("form.override_likelihood"), part("likelihood")),
            f.field(f"{base}.severity", f.menu(levels, o.severity, layout=w.Layout(width="20em")),
                    f.t("form.override_severity"), part("severity")),
            f.field(f"{base}.reason", w.Textarea(o.reason, rows=2), f.t("form.override_reason"), part("reason")),
        ], layout=w.Layout(display=None if d.override else "none"))

        def toggle(on: bool) -> None:
            d.override = o if on else None
            fields.layout.display = None if on else "none"

        switch = f.field(base, w.Checkbox(d.override is not None, indent=False), f.t("form.override"), toggle)
        return section(None, [switch, fields])
