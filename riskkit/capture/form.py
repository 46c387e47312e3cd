"""The capture form: the district's schools, a school's details and its risk cards, with the live risk matrix and a
level summary beside it. All state lives in a CaptureSession (riskkit.capture.state); widgets only edit it. The
pieces: fields (the field registry), riskcard (one risk), dialog (the question bar), livematrix (the figure)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w

from markupsafe import Markup

from ..figures.markup import risk_numbers
from ..model.assessment import SCHOOL_KINDS, RiskResult
from ..model.district import read_district
from ..model.errors import RiskkitError, ValidationError
from ..model.i18n import LANGUAGES, Lang, counted_key, label
from ..model.status import threshold
from .dialog import Question
from .dsfasteps import DecisionStep, advice_step, questions_step, threshold_step, threshold_text, views_step
from .fields import CHOOSE, Fields, close, fragment, html, row, show
from .platformstep import PlatformStep
from .livematrix import LiveMatrix
from .riskcard import RiskCard
from .state import CaptureSession, FieldProblem, InvalidDraft, SaveConflict
from .summary import legend_html, status_line, summary_html

NEW = "_new"  # the school menu's entry for a new school; no school id can start with "_"
SIDEBAR_PX = 530
STYLE = """<style>
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
.rk-step { border-top: 2px solid #5a5a5a; margin-top: 18px; padding-top: 4px; }
.rk-step h5 { margin: 0.4em 0 0.1em; font-size: 1em; }
.rk-steps ul { display: flex; flex-wrap: wrap; gap: 2px 18px; margin: 4px 0 8px; padding-left: 0; list-style: none; }
.rk-steps a { color: #0b4f9c; }
.rk-role-note { background: #fff4d6; border-left: 4px solid #8a5a00; padding: 4px 8px; }
.rk-default { background: #eef3f8; padding: 4px 8px; }
.rk-dsfa-status ul { margin: 0 0 6px; }
.rk-form a:focus, .rk-form input:focus, .rk-form textarea:focus, .rk-form select:focus, .rk-form button:focus,
.rk-form h3:focus { outline: 3px solid #0b4f9c; outline-offset: 2px; }
</style>"""


def capture_form(district_dir: str | Path, lang: Lang | None = None, school: str | None = None) -> CaptureForm | w.HTML:
    """The capture form of a district folder; a plain message instead if the district itself cannot be loaded."""
    try:
        district, problems = read_district(district_dir)
    except RiskkitError as exc:
        return html("district_invalid", label("form.district_invalid", lang or "de"), exc.text(lang or "de"))
    form = CaptureForm(CaptureSession(district, problems), lang or district.config.language)
    if school:
        form.open(school)
    return form


class CaptureForm:
    """The form of one district. `widget` is what a notebook or Voilà shows; `inputs` and `errors` hold each
    field's input and its message area, keyed like the school file (`risks.profiling.likelihood`)."""

    def __init__(self, session: CaptureSession, lang: Lang):
        self.session = session
        self.lang: Lang = lang
        self.started = False  # a school was chosen (or a new one begun)
        self.figure = LiveMatrix(SIDEBAR_PX, 470)  # one per form: plotly.js reaches the browser once
        self._message: Callable[[], Markup] = Markup  # the status line, written anew in each language
        self._retired: tuple[w.Widget, ...] = ()  # the widgets the last rebuild replaced, closed at the next one
        self.widget = w.VBox(layout=w.Layout(width="100%"))
        self.widget.add_class("rk-form")
        self._render()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def inputs(self) -> dict[str, w.ValueWidget]:
        return self.fields.inputs

    @property
    def errors(self) -> dict[str, w.HTML]:
        return self.fields.errors

    @property
    def buttons(self) -> dict[str, w.Button]:
        return self.fields.buttons

    def t(self, key: str, **values: Any) -> str:
        """A label in the form's language, with `{placeholders}` filled."""
        return self.fields.t(key, **values)

    # ---- actions (also what the buttons do) ----

    def open(self, target: str | None) -> None:
        """Start editing a school (`NEW` for a new one); a file that cannot be read is reported, not raised."""
        if not target:
            return
        if target == NEW:
            self.session.new_school()
            self._message = lambda: self.fields.markup("form.new_started")
        else:
            try:
                self.session.load(target)
            except ValidationError as exc:
                problems = exc.problems
                self._message = lambda: self._problem_list(self.t("form.file_invalid"), [p.text(self.lang) for p in problems])
                self._render()
                return
            name = self.session.path(target).name
            self._message = lambda: self.fields.markup("form.loaded", file=name)
        self.started = True
        self._render()

    def save(self) -> Path | None:
        """Save the draft; problems appear at their fields, a file changed on disk is refused with an offer to reload."""
        self.fields.clear_errors()
        self._say(Markup)
        try:
            path = self.session.save()
        except InvalidDraft as exc:
            self._show_problems(exc.problems)
            return None
        except SaveConflict as exc:
            school_id = exc.path.stem
            self.question.ask(self.t("form.conflict", file=exc.path.name), self.t("form.reload_discard"),
                              self.t("form.cancel"), lambda: self.open(school_id))
            return None
        except (RiskkitError, OSError) as exc:
            reason = str(exc)
            self._say(lambda: fragment("not_saved", self.t("form.not_saved"), reason))
            return None
        with self.fields.quietly():
            self.school_menu.options = self._school_options()
            self.school_menu.value = self.session.school_id
        self.inputs["school.id"].disabled = True
        self.reload_button.disabled = False
        self._say(lambda: self.fields.markup("form.saved", file=path.name))
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
        old = self.widget.children
        self.fields = Fields(self.lang, self._edited)
        self._status_lines: dict[str, w.HTML] = {}
        self._cards: dict[str, w.Widget] = {}
        self._lines: dict[str, Markup] = {}  # each risk's status line as last rendered
        self._shown: list[tuple] | None = None  # the levels the matrix and summary show
        s = self.session
        problems = self._problem_list(self.t("form.file_invalid"), [p.text(self.lang) for p in s.problems]) if s.problems else ""
        header = html("header", Markup(STYLE), self.t("form.title"), self.t("form.district"), s.district.config.name,
                      self.t("form.intro"), problems)
        self.language_menu = language = w.ToggleButtons(
            options=[(label("form.language_name", x), x) for x in LANGUAGES], value=self.lang,
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
        self.status = w.HTML(self._message())
        self.status.add_class("rk-status")
        self.question = Question()
        bar = row([self.school_menu, self.reload_button, self.save_button, self.dirty_marker], align_items="center")
        self.dsfa_line = w.HTML()
        self.dsfa_line.add_class("rk-dsfa-status")
        children: list[w.Widget] = [header, language, bar, self.question, self.status]
        if self.started:
            children.insert(1, html("steps_nav", self.t("form.steps"), [(id, text) for id, text, *_ in self._steps()]))
            children.insert(-2, self.dsfa_line)
            form = w.VBox(self._sections(panel), layout=w.Layout(flex="1 1 0%", min_width="0"))
            self.figure.draw(s.results(), s.district.matrix, self.lang)
            self.summary = w.HTML()
            self.summary.add_class("rk-summary")
            side = w.VBox([self.figure, w.HTML(legend_html(self.lang)), self.summary],
                          layout=w.Layout(width=f"{SIDEBAR_PX}px", flex="0 0 auto"))
            side.add_class("rk-sidebar")
            children.append(row([form, side], flex_flow="row", align_items="flex-start"))
        else:
            children.append(html("strong_paragraph", self.t("form.start_hint")))
        self.widget.children = children
        # Replaced widgets are closed one rebuild later: the browser may still be taking down their views (or
        # building views of them, after two quick rebuilds), and a view of a model closed meanwhile shows an error.
        for child in self._retired:
            close(child, keep=self.figure)
        self._retired = old
        if self.started:
            self._refresh()

    def _school_options(self) -> list[tuple[str, str | None]]:
        schools = [(f"{a.school.name} ({sid})", sid) for sid, a in self.session.district.schools.items()]
        return [(self.t("form.choose_school"), CHOOSE), *schools, (self.t("form.new_school"), NEW)]

    def _details(self) -> w.VBox:
        d, f = self.session.draft, self.fields
        kinds = [(self.t(f"kind.{k}"), k) for k in SCHOOL_KINDS]
        school_id = w.Text(d.school_id, placeholder=self.t("form.school_id_placeholder"), disabled=not self.session.is_new)
        fields = [
            f.field("school.id", school_id, self.t("form.school_id"), lambda v: setattr(d, "school_id", v)),
            f.field("school.name", w.Text(d.school_name), self.t("form.school_name"),
                    lambda v: setattr(d, "school_name", v)),
            f.field("school.kind", f.menu(kinds, d.school_kind), self.t("form.school_kind"),
                    lambda v: setattr(d, "school_kind", v or None)),
            f.field("assessed_by", w.Text(d.assessed_by), self.t("form.assessed_by"),
                    lambda v: setattr(d, "assessed_by", v)),
            f.field("assessed_on", w.DatePicker(value=d.assessed_on, layout=w.Layout(width="16em")),
                    self.t("form.assessed_on"), lambda v: setattr(d, "assessed_on", v)),
        ]
        return w.VBox([html("heading", 3, self.t("form.details")), *fields])

    def _steps(self) -> list[tuple[str, str, str | None, str | None]]:
        """The form's steps in the order a DSFA is read: (anchor id, heading, note on who fills it in, intro)."""
        t = self.t
        return [(f"rk-step-{i + 1}", f"{i + 1}. {t(f'form.step.{name}')}", t(note) if note else None,
                 t(f"form.step.{name}_intro") if intro else None)
                for i, (name, note, intro) in enumerate([
                    ("platform", None, True), ("threshold", None, True), ("risks", None, False),
                    ("questions", None, True), ("views", None, True), ("advice", "form.step.advice_note", False),
                    ("decision", "form.step.decision_note", False)])]

    def _sections(self, panel: int | None) -> list[w.Widget]:
        """The school's details, then one section per step, each under its heading (an anchor of the steps list)."""
        s, f = self.session, self.fields
        cat, config, matrix = s.catalogue, s.district.config, s.district.matrix
        self.numbers = risk_numbers(cat.risks)
        headings = [html("step_heading", id, text, intro, note) for id, text, note, intro in self._steps()]
        platform, threshold, risks, questions, views, advice, decision = headings
        self.threshold_box, self.threshold_line = threshold_step(s.draft, cat, config, f, threshold)
        self.decision = DecisionStep(s.draft, self.numbers, cat, matrix, f, decision)
        risk_step = w.VBox([risks, html("paragraph", self.t("form.risks_heading")), self._risks(panel)])
        risk_step.add_class("rk-step")
        return [
            self._details(),
            PlatformStep(s.draft, cat, f, platform).widget,
            self.threshold_box,
            risk_step,
            questions_step(s.draft, cat, f, questions),
            views_step(s.draft, config, f, views),
            advice_step(s.draft, self.numbers, cat, matrix, f, advice),
            self.decision.widget,
        ]

    def _risks(self, panel: int | None) -> w.Accordion:
        """One panel per platform module; a risk with several modules goes under its first."""
        cat = self.session.catalogue
        modules = [m for m in cat.modules if any(r.modules[0] == m.id for r in cat.risks)]
        panels = []
        for module in modules:
            cards = [RiskCard(r, self.numbers[r.id], self.session, self.fields, self._refresh)
                     for r in cat.risks if r.modules[0] == module.id]
            self._status_lines.update({card.risk.id: card.status for card in cards})
            self._cards.update({card.risk.id: card.widget for card in cards})
            panels.append(w.VBox([card.widget for card in cards]))
        self.accordion = w.Accordion(panels, selected_index=panel)
        self._modules = modules
        return self.accordion

    # ---- live updates ----

    def _edited(self, key: str) -> None:
        parts = key.split(".")
        self._refresh(parts[1] if parts[0] == "risks" else None)

    def _refresh(self, risk_id: str | None = None) -> None:
        """Bring the risk's status line, the matrix, the summary, the decision rows, the DSFA status and the unsaved
        marker up to date; a risk whose modules are all switched off leaves the form (not applicable)."""
        school, results, status = self.session.evaluate()
        m, lang = self.session.district.matrix, self.lang
        shown = [(r.risk.id, r.applicable, r.likelihood, r.severity, r.residual_likelihood, r.residual_severity)
                 for r in results]
        moved = shown != self._shown  # typing a reason changes no level: leave the matrix and summary alone
        if moved:
            self.figure.move(results, m, lang)  # first, so the browser's slowest step (the redraw) starts first
        changed = {now[0] for i, now in enumerate(shown) if self._shown is None or self._shown[i] != now}
        self._shown = shown
        for r in results:  # a risk's line is rendered again only when it moved or was edited
            if r.risk.id in changed or r.risk.id == risk_id:
                self._lines[r.risk.id] = line = status_line(r, m, lang, self._raised(r))
                self._set(self._status_lines[r.risk.id], line)
        if moved:
            for r in results:
                show(self._cards[r.risk.id], r.applicable)
            self.decision.update(results, self._lines)
            self.summary.value = summary_html(results, self.numbers, m, lang)
            titles = tuple(self._module_title(module.title[lang], [r for r in results if r.risk.modules[0] == module.id])
                           for module in self._modules)
            if titles != self.accordion.titles:  # one message for all titles, and only when they change
                self.accordion.titles = titles
        if risk_id is None:  # a risk's own fields do not change the threshold analysis
            config = self.session.district.config
            self._set(self.threshold_line, threshold_text(threshold(self.session.catalogue, config, school).required,
                                                          self.fields))
        self._set(self.dsfa_line, fragment("dsfa_status", self.t("form.dsfa_status"), status.text(lang),
                                           self.t("form.dsfa_blockers"), [b.text(lang) for b in status.blockers]))
        dirty = self.session.dirty
        self._set(self.dirty_marker, fragment("dirty_marker", dirty, self.t("form.unsaved" if dirty else "form.all_saved")))

    @staticmethod
    def _set(widget: w.HTML, value: Markup) -> None:
        """Send a text to the browser only when it changed."""
        if widget.value != value:
            widget.value = value

    def _raised(self, r: RiskResult) -> str | None:
        """Why a risk's severity is above the catalogue's: the school's reason or the declared data category."""
        if r.severity_source == "school":
            return r.severity_reason
        if r.severity_source == "data":
            category = next((c for c in self.session.catalogue.extra_data_categories if c.id == r.severity_reason), None)
            return category.title[self.lang] if category else r.severity_reason
        return None

    def _module_title(self, module: str, mine: list[RiskResult]) -> str:
        applicable = [r for r in mine if r.applicable]
        na, still_open = len(mine) - len(applicable), sum(r.open for r in mine)
        key, count = ("form.module_title_na", len(applicable)) if na else ("form.module_title", len(mine))
        return self.t(counted_key(key, count), module=module, count=count, open=still_open, na=na)

    # ---- messages and questions ----

    def _say(self, message: Callable[[], Markup]) -> None:
        """Show a status message; `message` writes it in the form's language (again after a language switch)."""
        self._message = message
        self.status.value = message()

    def _problem_list(self, head: str, items: list[str]) -> Markup:
        return fragment("problem_list", head, items)

    def _show_problems(self, problems: list[FieldProblem]) -> None:
        for p in problems:
            if p.key in self.errors:
                self.errors[p.key].value = fragment("field_problem", p.text(self.lang))
        self._say(lambda: self._problem_list(self.t("form.not_saved_problems", count=len(problems)),
                                             [f"{self._where(p.key)}: {p.text(self.lang)}" for p in problems]))
        first = next((p.key.split(".")[1] for p in problems if p.key.startswith("risks.")), None)
        if first:
            module = self.session.catalogue.risk(first).modules[0]
            self.accordion.selected_index = next(i for i, m in enumerate(self._modules) if m.id == module)

    def _where(self, key: str) -> str:
        """A field described in words: `R3 Profiling – Reason for your estimate`."""
        caption = self.fields.captions.get(key, key)
        parts = key.split(".")
        at = 1 if parts[0] == "risks" else 3 if key.startswith(("dsfa.decision.residual.", "dsfa.decision.accepted.")) else 0
        if at and len(parts) > at and parts[at] in self.session.catalogue.risks_by_id:
            risk = self.session.catalogue.risk(parts[at])
            return f"{self.numbers[risk.id]} {risk.title[self.lang]} – {caption}"
        return caption

    def _on_school(self, change: dict) -> None:
        if self.fields.quiet:
            return
        target = change["new"]
        with self.fields.quietly():
            self.school_menu.value = change["old"]  # stays until the change really happens
        self._guard(lambda: self.open(target))

    def _guard(self, action: Callable[[], None]) -> None:
        """Run `action` now, or after asking whether to discard unsaved changes."""
        if self.session.dirty:
            self.question.ask(self.t("form.discard_question"), self.t("form.discard"), self.t("form.cancel"), action)
        else:
            action()
