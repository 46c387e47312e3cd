"""The capture form: ipywidgets built from the catalogue, the matrix and the labels, with a live risk matrix and a
level summary beside it. All state lives in a CaptureSession (riskkit.capture.state); widgets only edit it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ipywidgets as w
import plotly.graph_objects as go
from markupsafe import Markup

from ..model.assessment import SCHOOL_KINDS, RiskResult
from .state import CaptureSession, FieldProblem, InvalidDraft, OverrideDraft, PlannedDraft, SaveConflict
from .summary import legend_html, status_line, summary_html
from ..model.catalogue import Risk
from ..model.district import read_district
from ..model.errors import RiskkitError, ValidationError
from ..model.i18n import LANGUAGES, Lang, label
from ..model.method import LEVELS, Matrix
from ..figures.plots import LEVEL_FILL, LEVEL_TEXT, LIVE_PROPERTIES, PLOT_CONFIG, matrix_layout, risk_numbers, risk_points
from ..figures.markup import macro, plotly_lines, plotly_text, text_label

NEW = "_new"  # the school menu's entry for a new school; no school id can start with "_"
CHOOSE = ""  # the value of a menu's "please choose" entry (a None value would show an empty menu)
SIDEBAR_PX = 530
FRAGMENTS = "form.html.j2"  # the form's HTML fragments, an autoescaping template
STYLE = Markup("""<style>
.rk-form { font-size: 14px; max-width: 1500px; }
.rk-form h2 { margin: 0.2em 0; }
.rk-form h4 { margin: 0.3em 0; font-size: 1.1em; }
.rk-stacked.widget-inline-hbox { flex-direction: column; align-items: stretch; height: auto; }
.rk-stacked.widget-inline-hbox > :not(.widget-label) { flex: 0 0 auto; }
.rk-stacked > .widget-label { width: auto !important; max-width: none; text-align: left; white-space: normal;
  font-weight: 600; line-height: 1.4; margin-bottom: 2px; }
.rk-form .widget-radio-box label, .rk-form .widget-checkbox label { white-space: normal; line-height: 1.35; height: auto; }
.rk-form .widget-radio-box { height: auto; }
.rk-form .widget-radio-box label { display: flex; align-items: flex-start; margin-left: 0; }
.rk-form .widget-radio-box input { float: none; flex: none; margin-top: 0.25em; }
.rk-form .widget-checkbox { height: auto; }
.rk-form textarea { font-family: inherit; }
.rk-form .widget-button { width: auto; min-width: 8em; }
.rk-row { gap: 8px 16px; }
.rk-error { color: #a40000; font-weight: 600; }
.rk-dirty { color: #8a3b00; font-weight: 700; }
.rk-risk { border: 1px solid #b0b0b0; border-radius: 4px; padding: 4px 12px 10px; margin-bottom: 14px; }
.rk-sub { border-left: 3px solid #d0d0d0; padding-left: 10px; margin-top: 6px; }
.rk-sidebar { position: sticky; top: 0; align-self: flex-start; }
.rk-summary table { border-collapse: collapse; margin: 4px 0 10px; }
.rk-summary th, .rk-summary td { border: 1px solid #c0c0c0; padding: 2px 6px; text-align: left; vertical-align: top; }
.rk-summary caption { text-align: left; font-weight: 700; }
.rk-status { font-size: 1.05em; }
.rk-legend { list-style: none; margin: 0 0 8px; padding: 0; display: flex; flex-wrap: wrap; gap: 2px 14px; }
.rk-legend svg { vertical-align: -3px; }
</style>""")


def capture_form(district_dir: str | Path, lang: Lang | None = None, school: str | None = None) -> CaptureForm | w.HTML:
    """The capture form of a district folder; a plain message instead if the district itself cannot be loaded."""
    try:
        district, problems = read_district(district_dir)
    except RiskkitError as exc:
        return w.HTML(macro(FRAGMENTS, "district_invalid", label("form.district_invalid", lang or "de"), str(exc)))
    form = CaptureForm(CaptureSession(district, problems), lang or district.config.language)
    if school:
        form.open(school)
    return form


def _close(widget: w.Widget) -> None:
    """Close a widget and all inside it (ipywidgets' close_all would close every widget in the kernel)."""
    for child in getattr(widget, "children", ()):
        _close(child)
    widget.close()


def _cells(matrix: Matrix, lang: Lang) -> list[dict]:
    """The coloured cells (one filled scatter trace per level) and the level written in each (a text trace), drawn
    under the risk traces. Traces, not layout shapes and annotations, which plotly.js redraws and re-checks on every
    marker move; scatter, not a heatmap, which plotly.js drops when markers move without a full redraw."""
    grid = {(l, s): matrix.classify(l, s) for s in LEVELS for l in LEVELS}
    cells = []
    for level, fill in LEVEL_FILL.items():
        xs: list[float | None] = []
        ys: list[float | None] = []
        for l, s in [cell for cell, at in grid.items() if at == level]:
            xs += [l - 0.5, l + 0.5, l + 0.5, l - 0.5, l - 0.5, None]
            ys += [s - 0.5, s - 0.5, s + 0.5, s + 0.5, s - 0.5, None]
        cells.append(dict(type="scatter", x=xs, y=ys, mode="lines", fill="toself", fillcolor=fill,
                          line=dict(color="#ffffff", width=2), hoverinfo="skip", showlegend=False,
                          name=plotly_text(matrix.risk_level_name(level, lang))))
    names = dict(
        type="scatter", x=[l for l, _ in grid], y=[s + 0.44 for _, s in grid], mode="text",
        textposition="bottom center", text=[plotly_text(matrix.risk_level_name(level, lang)) for level in grid.values()],
        textfont=dict(size=11, color=[LEVEL_TEXT[level] for level in grid.values()]),
        hoverinfo="skip", showlegend=False, name="levels",
    )
    return [*cells, names]


def _get(trace: dict, path: str) -> Any:
    """A trace property by its plotly.js path (`marker.size`); None where the trace does not set it."""
    for key in path.split("."):
        trace = trace.get(key) if isinstance(trace, dict) else None
    return trace


def _row(children: list[w.Widget], **layout: str) -> w.HBox:
    """A row that wraps when narrow, with a gap between its items."""
    box = w.HBox(children, layout=w.Layout(**{"flex_flow": "row wrap", **layout}))
    box.add_class("rk-row")
    return box


def _css_class(key: str) -> str:
    """A CSS class naming a field (`rk-risks-profiling-reason`), so a browser test can find it."""
    return "rk-" + re.sub(r"[^a-z0-9-]+", "-", key.lower()).strip("-")


class CaptureForm:
    """The form of one district. `widget` is what a notebook or Voilà shows; `inputs` and `errors` hold each
    field's input and its message area, keyed like the school file (`risks.profiling.likelihood`)."""

    def __init__(self, session: CaptureSession, lang: Lang):
        self.session = session
        self.lang: Lang = lang
        self.started = False  # a school was chosen (or a new one begun)
        self.inputs: dict[str, w.ValueWidget] = {}
        self.errors: dict[str, w.HTML] = {}
        self._captions: dict[str, str] = {}
        self.buttons: dict[str, w.Button] = {}  # add/remove planned measures, keyed like their rows
        self._quiet = False
        self._message = Markup()
        self.widget = w.VBox(layout=w.Layout(width="100%"))
        self.widget.add_class("rk-form")
        self._render()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def t(self, key: str, **values: Any) -> str:
        """A label in the form's language, with `{placeholders}` filled."""
        text = label(key, self.lang)
        return text.format(**values) if values else text

    def markup(self, key: str, **values: Any) -> Markup:
        """A label as HTML for a message: the label and every value escaped."""
        return text_label(key, self.lang, **values)

    # ---- actions (also what the buttons do) ----

    def open(self, target: str | None) -> None:
        """Start editing a school (`NEW` for a new one); a file that cannot be read is reported, not raised."""
        if not target:
            return
        if target == NEW:
            self.session.new_school()
            self._message = self.markup("form.new_started")
        else:
            try:
                self.session.load(target)
            except ValidationError as exc:
                self._message = self._problem_list(self.t("form.file_invalid"), [str(p) for p in exc.problems])
                self._render()
                return
            self._message = self.markup("form.loaded", file=self.session.path(target).name)
        self.started = True
        self._render()

    def save(self) -> Path | None:
        """Save the draft; problems appear at their fields, a file changed on disk is refused with an offer to reload."""
        for error in self.errors.values():
            error.value = ""
        self._say(Markup())
        try:
            path = self.session.save()
        except InvalidDraft as exc:
            self._show_problems(exc.problems)
            return None
        except SaveConflict as exc:
            school_id = exc.path.stem
            self._ask(self.markup("form.conflict", file=exc.path.name), self.t("form.reload_discard"),
                      lambda: self.open(school_id))
            return None
        except (RiskkitError, OSError) as exc:
            self._say(macro(FRAGMENTS, "not_saved", self.t("form.not_saved"), str(exc)))
            return None
        with self._quietly():
            self.school_menu.options = self._school_options()
            self.school_menu.value = self.session.school_id
        self.inputs["school.id"].disabled = True
        self.reload_button.disabled = False
        self._say(self.markup("form.saved", file=path.name))
        self._refresh()
        return path

    def reload(self) -> None:
        """Re-read the school's file; asks first if there are unsaved changes."""
        self._guard(lambda: self.open(self.session.school_id))

    def set_language(self, lang: Lang) -> None:
        self.lang = lang
        self._render()

    # ---- building the widgets ----

    def _render(self) -> None:
        """(Re)build every widget from the session (on load and language switch); the open panel stays open."""
        panel = self.accordion.selected_index if self.started and hasattr(self, "accordion") else None
        for child in self.widget.children:
            _close(child)
        self.inputs, self.errors, self._captions, self.buttons = {}, {}, {}, {}
        self._status_lines: dict[str, w.HTML] = {}
        self._shown: list[tuple] | None = None  # the levels the matrix and summary show
        self._planned_boxes: dict[str, w.VBox] = {}
        s = self.session
        problems = self._problem_list(self.t("form.file_invalid"), [str(p) for p in s.problems]) if s.problems else ""
        header = w.HTML(macro(FRAGMENTS, "header", STYLE, self.t("form.title"), self.t("form.district"),
                              s.district.config.name, self.t("form.intro"), problems))
        self.language_menu = language = w.ToggleButtons(options=[(label("form.language_name", x), x) for x in LANGUAGES], value=self.lang,
                                   description=self.t("form.language"), style={"button_width": "auto"})
        language.observe(lambda c: self.set_language(c["new"]), "value")
        self.school_menu = w.Dropdown(options=self._school_options(), description=self.t("form.school"),
                                      value=(NEW if s.is_new else s.school_id) if self.started else CHOOSE,
                                      layout=w.Layout(width="32em"), style={"description_width": "initial"})
        self.school_menu.add_class("rk-school-menu")
        self.school_menu.observe(self._on_school, "value")
        self.reload_button = w.Button(description=self.t("form.reload"), disabled=not self.started or s.is_new)
        self.reload_button.on_click(lambda _: self.reload())
        self.save_button = w.Button(description=self.t("form.save"), button_style="primary", disabled=not self.started)
        self.save_button.on_click(lambda _: self.save())
        self.dirty_marker = w.HTML()
        self.status = w.HTML(self._message)
        self.status.add_class("rk-status")
        self.question = w.HBox()
        bar = _row([self.school_menu, self.reload_button, self.save_button, self.dirty_marker], align_items="center")
        children: list[w.Widget] = [header, language, bar, self.question, self.status]
        if self.started:
            heading = w.HTML(macro(FRAGMENTS, "heading", 3, self.t("form.risks_heading")))
            form = w.VBox([self._details(), heading, self._risks(panel)], layout=w.Layout(flex="1 1 0%", min_width="0"))
            self.figure = self._figure()
            self.summary = w.HTML()
            self.summary.add_class("rk-summary")
            side = w.VBox([self.figure, w.HTML(legend_html(self.lang)), self.summary],
                          layout=w.Layout(width=f"{SIDEBAR_PX}px", flex="0 0 auto"))
            side.add_class("rk-sidebar")
            children.append(_row([form, side], flex_flow="row", align_items="flex-start"))
        else:
            children.append(w.HTML(macro(FRAGMENTS, "strong_paragraph", self.t("form.start_hint"))))
        self.widget.children = children
        if self.started:
            self._refresh()

    def _school_options(self) -> list[tuple[str, str | None]]:
        schools = [(f"{a.school.name} ({sid})", sid) for sid, a in self.session.district.schools.items()]
        return [(self.t("form.choose_school"), CHOOSE), *schools, (self.t("form.new_school"), NEW)]

    def _menu(self, options: list[tuple[str, Any]], value: Any, **kwargs: Any) -> w.Dropdown:
        """A drop-down menu that starts with "please choose" (read back as None)."""
        return w.Dropdown(options=[(self.t("form.choose"), CHOOSE), *options],
                          value=CHOOSE if value is None else value, **kwargs)

    def _field(self, key: str, widget: w.ValueWidget, caption: str, setter: Callable[[Any], None]) -> w.VBox:
        """An input with its caption as a real <label>, its problem area below, and its edit wired to the draft."""
        widget.description = caption
        widget.style.description_width = "initial"
        widget.add_class("rk-stacked")
        widget.add_class(_css_class(key))
        widget.layout.width = widget.layout.width or "100%"
        self.inputs[key] = widget
        self._captions[key] = caption
        error = self.errors[key] = w.HTML()
        error.add_class("rk-error")
        widget.observe(lambda change: self._edit(key, setter, change["new"]), "value")
        return w.VBox([widget, error], layout=w.Layout(width=widget.layout.width))

    def _edit(self, key: str, setter: Callable[[Any], None], value: Any) -> None:
        if self._quiet:
            return
        setter(value)
        self.errors[key].value = ""
        parts = key.split(".")
        self._refresh(parts[1] if parts[0] == "risks" else None)

    def _details(self) -> w.VBox:
        d = self.session.draft
        kinds = [(self.t(f"kind.{k}"), k) for k in SCHOOL_KINDS]
        school_id = w.Text(d.school_id, placeholder=self.t("form.school_id_placeholder"), disabled=not self.session.is_new)
        fields = [
            self._field("school.id", school_id, self.t("form.school_id"), lambda v: setattr(d, "school_id", v)),
            self._field("school.name", w.Text(d.school_name), self.t("form.school_name"),
                        lambda v: setattr(d, "school_name", v)),
            self._field("school.kind", self._menu(kinds, d.school_kind), self.t("form.school_kind"),
                        lambda v: setattr(d, "school_kind", v or None)),
            self._field("assessed_by", w.Text(d.assessed_by), self.t("form.assessed_by"),
                        lambda v: setattr(d, "assessed_by", v)),
            self._field("assessed_on", w.DatePicker(value=d.assessed_on, layout=w.Layout(width="16em")),
                        self.t("form.assessed_on"), lambda v: setattr(d, "assessed_on", v)),
        ]
        return w.VBox([w.HTML(macro(FRAGMENTS, "heading", 3, self.t("form.details"))), *fields])

    def _risks(self, panel: int | None) -> w.Accordion:
        """One panel per platform module; a risk with several modules goes under its first."""
        cat = self.session.catalogue
        self.numbers = risk_numbers(self.session.results())
        modules = [m for m in cat.modules if any(r.modules[0] == m.id for r in cat.risks)]
        self.accordion = w.Accordion([
            w.VBox([self._risk_card(r) for r in cat.risks if r.modules[0] == m.id]) for m in modules
        ], selected_index=panel)
        self._modules = modules
        return self.accordion

    def _risk_card(self, risk: Risk) -> w.VBox:
        d, m, lang = self.session.draft.risks[risk.id], self.session.district.matrix, self.lang
        base = f"risks.{risk.id}"
        head = w.HTML(macro(FRAGMENTS, "risk_head", self.numbers[risk.id], risk.title[lang], risk.description[lang],
                            self.t("form.severity"), risk.severity, m.level_name(risk.severity, lang),
                            risk.severity_reason[lang]))
        levels = [(self.t("form.not_assessed"), 0)] + [
            (f"{i} {m.level_name(i, lang)}: {m.likelihood_guidance[i][lang]}", i) for i in LEVELS
        ]
        likelihood = self._field(f"{base}.likelihood", w.RadioButtons(options=levels, value=d.likelihood or 0),
                                 self.t("form.likelihood"), lambda v: setattr(d, "likelihood", v or None))
        reason = self._field(f"{base}.reason", w.Textarea(d.reason, placeholder=self.t("form.reason_placeholder"),
                                                          rows=3), self.t("form.reason"), lambda v: setattr(d, "reason", v))
        self._status_lines[risk.id] = status = w.HTML()
        card = w.VBox([head, likelihood, reason, self._measures_in_place(risk), self._planned(risk),
                       self._override(risk), status])
        card.add_class("rk-risk")
        card.add_class(_css_class(f"risk-{risk.id}"))
        return card

    def _measures_in_place(self, risk: Risk) -> w.VBox:
        d, measures = self.session.draft.risks[risk.id], self.session.catalogue.measures_for(risk.id)

        def setter(_: bool) -> None:
            d.measures_in_place = [
                m.id for m in measures if self.inputs[f"risks.{risk.id}.measures_in_place.{m.id}"].value
            ]

        boxes = []
        for measure in measures:
            effect = measure.effect_on(risk.id)
            what = ", ".join(
                self.t("form.effect", what=self.t(f"effect.{dim}"), count=n)
                for dim, n in (("likelihood", effect.likelihood), ("severity", effect.severity)) if n
            )
            box = w.Checkbox(measure.id in d.measures_in_place, indent=False, tooltip=measure.description[self.lang])
            boxes.append(self._field(f"risks.{risk.id}.measures_in_place.{measure.id}", box,
                                     f"{measure.title[self.lang]} – {what}", setter))
        return self._section(self.t("form.measures_in_place"), boxes)

    def _section(self, title: str | None, children: list[w.Widget]) -> w.VBox:
        box = w.VBox([w.HTML(macro(FRAGMENTS, "strong", title)), *children] if title else children)
        box.add_class("rk-sub")
        return box

    def _planned(self, risk: Risk) -> w.VBox:
        add = self.buttons[f"risks.{risk.id}.measures_planned"] = w.Button(description=self.t("form.add_planned"))
        rows = w.VBox()
        self._planned_boxes[risk.id] = rows
        add.on_click(lambda _: self._change_planned(risk, lambda plans: plans.append(PlannedDraft())))
        self._fill_planned(risk)
        return self._section(self.t("form.measures_planned"), [rows, add])

    def _fill_planned(self, risk: Risk) -> None:
        d, lang = self.session.draft.risks[risk.id], self.lang
        rows_box = self._planned_boxes[risk.id]
        prefix = f"risks.{risk.id}.measures_planned["
        for key in [k for k in self.inputs if k.startswith(prefix)]:
            del self.inputs[key], self.errors[key], self._captions[key]
        for key in [k for k in self.buttons if k.startswith(prefix)]:
            del self.buttons[key]
        options = [(m.title[lang], m.id) for m in self.session.catalogue.measures_for(risk.id)]
        rows = []
        for i, p in enumerate(d.measures_planned):
            key = f"risks.{risk.id}.measures_planned[{i}]"
            remove = self.buttons[key] = w.Button(description=self.t("form.remove"))
            remove.on_click(lambda _, i=i: self._change_planned(risk, lambda plans: plans.pop(i)))
            rows.append(w.VBox([
                self._field(f"{key}.measure", self._menu(options, p.measure), self.t("form.planned_measure"),
                            lambda v, p=p: setattr(p, "measure", v or None)),
                _row([
                    self._field(f"{key}.owner", w.Text(p.owner, layout=w.Layout(width="18em")), self.t("form.owner"),
                                lambda v, p=p: setattr(p, "owner", v)),
                    self._field(f"{key}.due", w.DatePicker(value=p.due, layout=w.Layout(width="12em")), self.t("form.due"),
                                lambda v, p=p: setattr(p, "due", v)),
                    self._field(f"{key}.note", w.Text(p.note, layout=w.Layout(width="18em")), self.t("form.note"),
                                lambda v, p=p: setattr(p, "note", v)),
                ]),
                remove,
            ], layout=w.Layout(border_bottom="1px dashed #b0b0b0", padding="0 0 6px 0")))
        old = rows_box.children
        rows_box.children = rows
        for row in old:
            _close(row)

    def _change_planned(self, risk: Risk, change: Callable[[list[PlannedDraft]], object]) -> None:
        change(self.session.draft.risks[risk.id].measures_planned)
        self._fill_planned(risk)
        self._refresh(risk.id)

    def _override(self, risk: Risk) -> w.VBox:
        d, m = self.session.draft.risks[risk.id], self.session.district.matrix
        o = d.override or OverrideDraft()
        base = f"risks.{risk.id}.override"
        levels = [(f"{i} {m.level_name(i, self.lang)}", i) for i in LEVELS]

        def part(name: str) -> Callable[[Any], None]:
            def setter(value: Any) -> None:
                setattr(o, name, value if name == "reason" else value or None)
            return setter

        fields = w.VBox([
            self._field(f"{base}.likelihood", self._menu(levels, o.likelihood, layout=w.Layout(width="20em")),
                        self.t("form.override_likelihood"), part("likelihood")),
            self._field(f"{base}.severity", self._menu(levels, o.severity, layout=w.Layout(width="20em")),
                        self.t("form.override_severity"), part("severity")),
            self._field(f"{base}.reason", w.Textarea(o.reason, rows=2), self.t("form.override_reason"), part("reason")),
        ], layout=w.Layout(display=None if d.override else "none"))

        def toggle(on: bool) -> None:
            d.override = o if on else None
            fields.layout.display = None if on else "none"

        switch = self._field(base, w.Checkbox(d.override is not None, indent=False), self.t("form.override"), toggle)
        return self._section(None, [switch, fields])

    def _figure(self) -> go.FigureWidget:
        """The live matrix: the report's axes, with the cells and level names as traces under the risk traces
        (see _cells), no plotly template and the legend as HTML under it (legend_html), which make it cheap to
        redraw."""
        m = self.session.district.matrix
        layout = matrix_layout(m, self.lang, cells=False)
        ticks = [plotly_lines(i, m.level_name(i, self.lang)) for i in LEVELS]
        layout.update(width=SIDEBAR_PX, height=470, margin=dict(l=100, r=10, t=40, b=70), showlegend=False,
                      template="none", xaxis=dict(ticktext=ticks, tickangle=0))
        cells, points = _cells(m, self.lang), risk_points(self.session.results(), m, self.lang)
        for trace in points:
            trace["visible"] = True  # no legend to keep an empty trace in, and markers move without a redraw
        self._first_point = len(cells)  # the risk traces' index in figure.data
        figure = go.FigureWidget(data=[*cells, *points],
                                 layout=layout)  # layout= in the constructor: Voilà keeps it
        figure._config = dict(PLOT_CONFIG, responsive=False)  # no cloud or link buttons
        return figure

    # ---- live updates ----

    def _move_markers(self, results: list[RiskResult]) -> None:
        """Send the risk traces' new values as a zero-length animation without redraw: plotly.js then moves the
        markers (~20 ms in a browser) instead of re-plotting the figure (~35 ms), and computes the trace deltas it
        reports back after the frame instead of before. FigureWidget has no public call for this (batch_animate
        redraws, and validates every value: 20 ms per edit in the kernel), hence its two internal steps."""
        points = risk_points(results, self.session.district.matrix, self.lang)
        indexes = list(range(self._first_point, self._first_point + len(points)))
        values = {path: [_get(t, path) for t in points] for path in LIVE_PROPERTIES}
        self.figure._send_animate_msg(
            styles_data=[{path: v[i] for path, v in values.items() if v[i] is not None} for i in range(len(points))],
            relayout_data={}, trace_indexes=indexes,
            animation_opts={"transition": {"duration": 0}, "frame": {"duration": 0, "redraw": False}})
        self.figure._perform_plotly_restyle(values, indexes)  # then the figure's data on the Python side

    def _refresh(self, risk_id: str | None = None) -> None:
        """Bring the risk's status line, the matrix, the summary and the unsaved marker up to date."""
        results = self.session.results()
        m, lang = self.session.district.matrix, self.lang
        shown = [(r.risk.id, r.likelihood, r.residual_likelihood, r.residual_severity) for r in results]
        moved = shown != self._shown  # typing a reason changes no level: leave the matrix and summary alone
        if moved:
            self._shown = shown
            self._move_markers(results)  # first, so the browser's slowest step (the redraw) starts first
        for r in results:
            if risk_id in (None, r.risk.id):
                self._status_lines[r.risk.id].value = status_line(r, m, lang)
        if moved:
            self.summary.value = summary_html(results, self.numbers, m, lang)
            titles = tuple(
                self.t("form.module_title", module=module.title[lang], count=len(mine),
                       open=sum(not r.assessed for r in mine))
                for module in self._modules for mine in [[r for r in results if r.risk.modules[0] == module.id]]
            )
            if titles != self.accordion.titles:  # one message for all titles, and only when they change
                self.accordion.titles = titles
        dirty = self.session.dirty
        marker = macro(FRAGMENTS, "dirty_marker", dirty, self.t("form.unsaved" if dirty else "form.all_saved"))
        if marker != self.dirty_marker.value:
            self.dirty_marker.value = marker

    # ---- messages and questions ----

    def _say(self, html: Markup) -> None:
        self._message = self.status.value = html

    def _problem_list(self, head: str, items: list[str]) -> Markup:
        return macro(FRAGMENTS, "problem_list", head, items)

    def _show_problems(self, problems: list[FieldProblem]) -> None:
        items = []
        for p in problems:
            text = p.text(self.lang)
            if p.key in self.errors:
                self.errors[p.key].value = macro(FRAGMENTS, "field_problem", text)
            items.append(f"{self._where(p.key)}: {text}")
        self._say(self._problem_list(self.t("form.not_saved_problems", count=len(problems)), items))
        first = next((p.key.split(".")[1] for p in problems if p.key.startswith("risks.")), None)
        if first:
            module = self.session.catalogue.risk(first).modules[0]
            self.accordion.selected_index = next(i for i, m in enumerate(self._modules) if m.id == module)

    def _where(self, key: str) -> str:
        """A field described in words: `R3 Profiling – Reason for your estimate`."""
        caption = self._captions.get(key, key)
        parts = key.split(".")
        if parts[0] == "risks" and len(parts) > 1 and parts[1] in self.session.catalogue.risks_by_id:
            risk = self.session.catalogue.risk(parts[1])
            return f"{self.numbers[risk.id]} {risk.title[self.lang]} – {caption}"
        return caption

    def _on_school(self, change: dict) -> None:
        if self._quiet:
            return
        target = change["new"]
        with self._quietly():
            self.school_menu.value = change["old"]  # stays until the change really happens
        self._guard(lambda: self.open(target))

    def _guard(self, action: Callable[[], None]) -> None:
        """Run `action` now, or after asking whether to discard unsaved changes."""
        if self.session.dirty:
            self._ask(self.t("form.discard_question"), self.t("form.discard"), action)
        else:
            action()

    def _ask(self, question: str | Markup, yes: str, action: Callable[[], None]) -> None:
        """Show a question with a button that runs `action` and one that cancels."""
        go_on = w.Button(description=yes, button_style="warning", layout=w.Layout(width="auto"))
        cancel = w.Button(description=self.t("form.cancel"))
        message = w.HTML(macro(FRAGMENTS, "strong", question), layout=w.Layout(width="100%"))

        def answer(run: bool) -> None:
            for child in self.question.children:
                child.close()
            self.question.children = []
            if run:
                action()

        go_on.on_click(lambda _: answer(True))
        cancel.on_click(lambda _: answer(False))
        self.question.children = [message, go_on, cancel]
        self.question.layout = w.Layout(flex_flow="row wrap", border="2px solid #8a3b00", padding="6px")
        self.question.add_class("rk-row")

    @contextmanager
    def _quietly(self) -> Iterator[None]:
        """Set widget values without treating them as the user's edits."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False
