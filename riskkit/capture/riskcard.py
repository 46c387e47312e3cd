"""One risk's card in the capture form: likelihood, reason, a severity raise, measures in place (each possibly only
in part), planned measures, and the line that says where the risk now stands."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

from ..figures.markup import effect_text
from ..model.catalogue import Measure, Risk
from ..model.method import LEVELS
from .draft import PlannedDraft, SeverityDraft
from .fields import Fields, Lazy, close, css_class, html, row, section
from .state import CaptureSession


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
        self.widget = w.VBox([head, likelihood, reason, *self._raise(), self._measures_in_place(), self._planned(),
                              self.status])
        self.widget.add_class("rk-risk")
        self.widget.add_class(css_class(f"risk-{risk.id}"))

    def _raise(self) -> list[w.Widget]:
        """A higher severity than the catalogue's, with its reason (none for a risk already at the top level)."""
        f, d, m, risk = self.fields, self.draft, self.session.district.matrix, self.risk
        above = [(f"{i} {m.level_name(i, f.lang)}", i) for i in LEVELS if i > risk.severity]
        if not above:
            return []
        base = f"risks.{risk.id}.severity"
        s = d.severity or SeverityDraft()

        def part(name: str) -> Callable[[object], None]:
            return lambda value: setattr(s, name, value if name == "reason" else value or None)

        fields = Lazy(lambda: [
            f.field(f"{base}.level", f.menu(above, s.level, layout=w.Layout(width="20em")), f.t("form.raise_level"),
                    part("level")),
            f.field(f"{base}.reason", w.Textarea(s.reason, rows=2), f.t("form.raise_reason"), part("reason")),
        ], d.severity is not None)

        def toggle(on: bool) -> None:
            d.severity = s if on else None
            fields.set(on)

        return [section(None, [f.switch(base, w.Checkbox(d.severity is not None, indent=False), f.t("form.raise"),
                                        toggle), fields])]

    def _measures_in_place(self) -> w.VBox:
        measures = self.session.catalogue.measures_for(self.risk.id)
        # Ticked measures keep the order of the file (then the catalogue's), so unticking and ticking again
        # gives back what was loaded.
        loaded = self.draft.measures_in_place
        self._rank = {m: i for i, m in enumerate([*loaded, *(m.id for m in measures if m.id not in loaded)])}
        return section(self.fields.t("form.measures_in_place"), [self._measure(m) for m in measures])

    def _measure(self, measure: Measure) -> w.VBox:
        """A measure's tick box; once ticked, whether it is in place only in part and, if so, its scope in words."""
        f, d, risk, lang = self.fields, self.draft, self.risk, self.fields.lang
        base = f"risks.{risk.id}.measures_in_place.{measure.id}"

        def scope() -> list[w.Widget]:
            return [f.field(f"{base}.partial", w.Text(d.partial.get(measure.id, ""), layout=w.Layout(width="22em")),
                            f.t("form.partial_scope"), lambda v: d.partial.__setitem__(measure.id, v))]

        def partly() -> list[w.Widget]:
            scope_box = Lazy(scope, measure.id in d.partial)

            def switch(on: bool) -> None:
                typed = f.inputs.get(f"{base}.partial")  # a scope typed before is kept while switched off
                if on:
                    d.partial[measure.id] = typed.value if typed else ""
                else:
                    d.partial.pop(measure.id, None)
                scope_box.set(on)

            box = f.switch(f"{base}.partly", w.Checkbox(measure.id in d.partial, indent=False,
                                                        layout=w.Layout(width="auto")), f.t("form.partly"), switch)
            return [row([box, scope_box], align_items="flex-end")]

        details = Lazy(partly, measure.id in d.measures_in_place)

        def tick(on: bool) -> None:
            if on and measure.id not in d.measures_in_place:
                d.measures_in_place.append(measure.id)
                d.measures_in_place.sort(key=self._rank.__getitem__)
            elif not on and measure.id in d.measures_in_place:
                d.measures_in_place.remove(measure.id)
                if measure.id in d.partial:
                    f.inputs[f"{base}.partly"].value = False  # a measure not in place is not in place in part either
            details.set(on)

        box = f.switch(base, w.Checkbox(measure.id in d.measures_in_place, indent=False,
                                        tooltip=measure.description[lang]),
                       f"{measure.title[lang]} – {effect_text(measure.effect_on(risk.id), lang)}", tick)
        return w.VBox([box, details])

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
