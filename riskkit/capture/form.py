"""The capture form: the district's schools (or, from a school's link, one school), a school's details and its steps
as folds built when first opened, with the live risk matrix and a level summary beside it. All state lives in a
CaptureSession (riskkit.capture.state); widgets only edit it. The pieces: fields (the field registry and folds),
aria (disclosure headings, the status line), riskcard (one risk), dialog (the question bar), livematrix (the
figure), unsaved (drafts kept over a reload)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import ipywidgets as w

from markupsafe import Markup

from ..figures.markup import risk_numbers
from ..model.assessment import SCHOOL_KINDS, RiskResult, school_path
from ..model.district import SCHOOLS_DIR, read_district
from ..model.errors import RiskkitError, ValidationError
from ..model.history import restore, versions
from ..model.i18n import LANGUAGES, Lang, counted_key, date_text, label
from ..model.status import threshold
from . import unsaved
from .aria import LiveRegion
from .dialog import Question
from .dsfasteps import DecisionStep, advice_step, questions_step, threshold_step, threshold_text, views_step
from .fields import CHOOSE, Fields, Fold, close, fragment, html, row, show
from .platformstep import PlatformStep
from .livematrix import LiveMatrix
from .riskcard import RiskCard
from .state import CaptureSession, FieldProblem, InvalidDraft, SaveConflict
from .summary import legend_html, status_line, summary_html

NEW = "_new"  # the school menu's entry for a new school; no school id can start with "_"
SIDEBAR_PX = 530
# The form's steps in the order a DSFA is read: (name, the note on who fills it in, has an intro, its fields' keys)
STEPS = [
    ("platform", None, True, "platform."), ("threshold", None, True, "dsfa.threshold."), ("risks", None, False, "risks."),
    ("questions", None, True, "dsfa.answers."), ("views", None, True, "dsfa.views."),
    ("advice", "form.step.advice_note", False, "dsfa.advice."), ("decision", "form.step.decision_note", False, "dsfa.decision."),
]
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
.rk-form .rk-warning-button { background: #8a3b00; color: #fff; }
.rk-dirty { color: #8a3b00; font-weight: 700; }
.rk-risk { border: 1px solid #b0b0b0; border-radius: 4px; padding: 4px 12px 10px; margin-bottom: 14px; }
.rk-sub { border-left: 3px solid #d0d0d0; padding-left: 10px; margin-top: 6px; }
.rk-sidebar { align-self: stretch; }
.rk-sticky { position: sticky; top: 0; z-index: 1; background: #fff; }
/* the matrix sticks beside the form only if no box around it clips (Lumino's and the output area's do) */
.jp-OutputArea:has(.rk-sidebar), .jp-OutputArea-child:has(.rk-sidebar), .jp-OutputArea-output:has(.rk-sidebar),
.rk-form, .rk-form > .rk-row, .rk-sidebar { overflow: visible !important; }
.rk-school-menu select { min-width: 0; }
/* narrower than form and matrix side by side: the matrix goes below the form, and on a phone it is drawn smaller */
@media (max-width: 940px) { .rk-sidebar { width: 100% !important; } .rk-sticky { position: static; } }
@media (max-width: 600px) { .rk-live-matrix { zoom: 0.66; } }
.rk-summary table { border-collapse: collapse; margin: 4px 0 10px; }
.rk-summary th, .rk-summary td { border: 1px solid #c0c0c0; padding: 2px 6px; text-align: left; vertical-align: top; }
.rk-summary caption { text-align: left; font-weight: 700; }
.rk-status { font-size: 1.05em; }
.rk-legend { list-style: none; margin: 0 0 8px; padding: 0; display: flex; flex-wrap: wrap; gap: 2px 14px; }
.rk-legend svg { vertical-align: -3px; }
.rk-step { padding: 0 2px 8px 8px; }
.rk-step h5 { margin: 0.4em 0 0.1em; font-size: 1em; }
.rk-fold .rk-fold .rk-fold-button { background: #fff; }
.rk-role-note { background: #fff4d6; border-left: 4px solid #8a5a00; padding: 4px 8px; }
.rk-default { background: #eef3f8; padding: 4px 8px; }
.rk-dsfa-status ul { margin: 0 0 6px; }
.rk-form a:focus, .rk-form input:focus, .rk-form textarea:focus, .rk-form select:focus, .rk-form button:focus,
.rk-form h3:focus, .rk-form input::-webkit-calendar-picker-indicator:focus {
  outline: 3px solid #0b4f9c !important; outline-offset: 2px; }
</style>"""


def capture_form(district_dir: str | Path, lang: Lang | None = None, school: str | None = None,
                 only: bool = False) -> CaptureForm | w.HTML:
    """The capture form of a district folder; a plain message instead if the district itself cannot be loaded.
    `only`: the form of `school` alone (a school's link): no other school is read, listed or can be created."""
    try:
        if only:
            exists = school_path(Path(district_dir) / SCHOOLS_DIR, school).is_file()
            district, problems = read_district(district_dir, only=[school] if exists else [])
            problems = [p for p in problems if Path(p.file).stem == school]
        else:
            district, problems = read_district(district_dir)
    except RiskkitError as exc:
        if only:  # the district's own files: the DPO's to see and mend
            return html("district_invalid", label("form.district_invalid", lang or "de"), label("form.ask_dpo", lang or "de"))
        return html("district_invalid", label("form.district_invalid", lang or "de"), exc.text(lang or "de"))
    form = CaptureForm(CaptureSession(district, problems), lang or district.config.language, only=school if only else None)
    if school:
        form.open(school if not only or exists else NEW)
    return form


class CaptureForm:
    """The form of one district. `widget` is what a notebook or Voilà shows; `inputs` and `errors` hold each
    field's input and its message area, keyed like the school file (`risks.profiling.likelihood`)."""

    def __init__(self, session: CaptureSession, lang: Lang, only: str | None = None):
        self.session = session
        self.only = only  # the one school this form may open (a school's link), or None (the district)
        self.lang: Lang = lang
        self.started = False  # a school was chosen (or a new one begun)
        self.opened_folds: set[str] = set()  # the steps and module panels the user has open, kept over rebuilds
        self._offered_today: set[str | None] = set()  # schools offered "assessed on: today" after a save
        self._keep_timer: asyncio.TimerHandle | None = None  # the pending write of the unsaved draft
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
            if self.only:
                self.session.draft.school_id = self.only
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
        if target != NEW:
            self._offer_unsaved(target)

    def _offer_unsaved(self, school_id: str) -> None:
        """A draft of this school kept from an earlier page (closed or reloaded unsaved): offer to go on with it."""
        s = self.session
        kept = unsaved.kept(s.district.path, school_id)
        if kept is None:
            return
        if kept.draft == s.draft:
            unsaved.forget(s.district.path, school_id)
            return

        def resume() -> None:
            s.resume(kept.draft, kept.base, kept.stamp)
            self._message = lambda: self.fields.markup("form.unsaved_resumed")  # said by the rebuilt form
            self._render()

        when = f"{date_text(kept.at.date(), self.lang)}, {kept.at:%H:%M}"
        self.question.choose(fragment("strong", self.t("form.unsaved_found", when=when)),
                             [(self.t("form.unsaved_resume"), resume)], self.t("form.unsaved_discard"),
                             lambda: unsaved.forget(s.district.path, school_id))

    def _keep_unsaved(self) -> None:
        """Keep the draft for a reload of the page, a second after the last edit (at once outside a kernel)."""
        s = self.session
        if s.is_new or not s.dirty:
            return
        if self._keep_timer:
            self._keep_timer.cancel()

        def write() -> None:
            self._keep_timer = None
            if not s.is_new and s.dirty:
                unsaved.keep(s.district.path, s.school_id, unsaved.Unsaved(s.draft, s.baseline, s.stamp, datetime.now()))

        try:
            self._keep_timer = asyncio.get_running_loop().call_later(1.0, write)
        except RuntimeError:  # no event loop (a script or test): write now
            write()

    def _forget_unsaved(self) -> None:
        if self._keep_timer:
            self._keep_timer.cancel()
            self._keep_timer = None
        if not self.session.is_new:
            unsaved.forget(self.session.district.path, self.session.school_id)

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
            return self._merge(exc.path)
        except (RiskkitError, OSError) as exc:
            reason = str(exc)
            self._say(lambda: fragment("not_saved", self.t("form.not_saved"), reason))
            return None
        self.school_menu.options = self._school_options()
        self.school_menu.value = self.session.school_id
        self.inputs["school.id"].disabled = True
        self.reload_button.disabled = False
        self._forget_unsaved()
        self._say(lambda: self._saved(path.name))
        self._refresh()
        self._offer_today()
        return path

    def _saved(self, file: str) -> Markup:
        """The message after a save, with what the law lets a school save but it should know: risks not assessed
        yet, planned measures past their due date."""
        s, notes = self.session, []
        still_open = sum(r.open for r in s.results())
        if still_open:
            notes.append(self.t(counted_key("form.note_open", still_open), count=still_open))
        for risk in s.catalogue.risks:
            for plan in s.draft.risks[risk.id].measures_planned:
                if plan.due and plan.measure and plan.due < s.today:
                    notes.append(self.t("form.note_overdue", risk=f"{self.numbers[risk.id]} {risk.title[self.lang]}",
                                        measure=s.catalogue.measure(plan.measure).title[self.lang],
                                        due=date_text(plan.due, self.lang)))
        if not notes:
            return self.fields.markup("form.saved", file=file)
        return self._problem_list(self.t("form.saved_with_notes", file=file), notes)

    def _offer_today(self) -> None:
        """Once per school and session: offer to set "assessed on" to today when it names an earlier day."""
        s = self.session
        day = s.draft.assessed_on
        if not day or day >= s.today or s.school_id in self._offered_today:
            return
        self._offered_today.add(s.school_id)

        def today() -> None:
            self.inputs["assessed_on"].value = s.today
            self.save()

        self.question.choose(fragment("strong", self.t("form.assessed_on_offer", day=date_text(day, self.lang),
                                                       today=date_text(s.today, self.lang))),
                             [(self.t("form.assessed_on_today"), today)], self.t("form.assessed_on_keep"))

    def _merge(self, path: Path, prefer: str | None = None) -> Path | None:
        """Someone else saved this school meanwhile: take what only they changed, keep what only this draft changed,
        and save; fields both changed differently are shown with both values to choose. A saved file that cannot be
        read (or is gone) leaves only a reload."""
        try:
            conflicts = self.session.merge_saved(prefer)
        except (RiskkitError, OSError):
            school_id = path.stem

            def reload() -> None:
                self._forget_unsaved()
                self.open(school_id)

            self.question.ask(self.t("form.conflict", file=path.name), self.t("form.reload_discard"),
                              self.t("form.cancel"), reload)
            return None
        if conflicts:
            def value(v: object) -> str:
                return self.t("form.conflict_empty") if v in (None, "", []) else (
                    ", ".join(map(str, v)) if isinstance(v, list) else str(v))

            self.question.choose(
                fragment("conflict_list", self.t("form.conflict_both", file=path.name),
                         [(self._where(c.key), self.t("form.conflict_mine"), value(c.mine), self.t("form.conflict_theirs"),
                           value(c.theirs)) for c in conflicts]),
                [(self.t("form.keep_mine"), lambda: self._merge(path, "mine")),
                 (self.t("form.take_theirs"), lambda: self._merge(path, "theirs"))], self.t("form.cancel"))
            return None
        self._render()  # the fields show the merged values
        saved = self.save()
        if saved:
            self._say(lambda: self.fields.markup("form.merged", file=saved.name))
        return saved

    def reload(self) -> None:
        """Re-read the school's file; asks first if there are unsaved changes."""
        self._guard(lambda: self.open(self.session.school_id))

    def set_language(self, lang: Lang) -> None:
        self.lang = lang
        self._render()

    # ---- building the widgets ----

    def _render(self) -> None:
        """(Re)build the widgets from the session (on load and language switch); the open steps stay open and
        only they are built (a closed step is built when it is first opened)."""
        old = self.widget.children
        self.fields = Fields(self.lang, self._edited)
        self.folds: dict[str, Fold] = {}  # the steps by name, the risk step's module panels as `risks.<module>`
        self._status_lines: dict[str, w.HTML] = {}  # of the risk cards built so far
        self._cards: dict[str, w.Widget] = {}
        self._lines: dict[str, Markup] = {}  # each risk's status line as last rendered
        self._shown: list[tuple] | None = None  # the levels the matrix and summary show
        self.threshold_line: w.HTML | None = None
        self.decision: DecisionStep | None = None
        s = self.session
        problems = self._problem_list(self.t("form.file_invalid"), [p.text(self.lang) for p in s.problems]) if s.problems else ""
        header = html("header", Markup(STYLE), self.t("form.title"), self.t("form.district"), s.district.config.name,
                      self.t("form.intro"), problems)
        self.language_menu = language = w.ToggleButtons(
            options=[(label("form.language_name", x), x) for x in LANGUAGES], value=self.lang,
            description=self.t("form.language"), style={"button_width": "auto"})
        language.observe(lambda c: self.set_language(c["new"]), "value")
        options = self._school_options()
        self.school_menu = w.Dropdown(options=options, description=self.t("form.school"),
                                      value=(NEW if s.is_new else s.school_id) if self.started else options[0][1],
                                      layout=w.Layout(width="32em", max_width="100%"), style={"description_width": "initial"})
        self.school_menu.add_class("rk-school-menu")
        self.open_button = w.Button(description=self.t("form.open"))
        self.open_button.on_click(lambda _: self._open_chosen())
        if self.only:  # a school's link: its school is open, there is nothing else to choose
            show(self.school_menu, False)
            show(self.open_button, False)
        self.reload_button = w.Button(description=self.t("form.reload"), disabled=not self.started or s.is_new)
        self.reload_button.on_click(lambda _: self.reload())
        self.save_button = w.Button(description=self.t("form.save"), button_style="primary", disabled=not self.started)
        self.save_button.on_click(lambda _: self.save())
        self.dirty_marker = w.HTML()
        self.status = LiveRegion(html=self._message(), lang=self.lang, title=self.t("form.title"))
        self.question = Question()
        bar = row([self.school_menu, self.open_button, self.reload_button, self.save_button, self.dirty_marker],
                  align_items="center")
        self.dsfa_line = w.HTML()
        self.dsfa_line.add_class("rk-dsfa-status")
        children: list[w.Widget] = [header, *self._repairs(), language, bar, self.question, self.status]
        if self.started:
            children.insert(-2, self.dsfa_line)
            form = w.VBox([self._details(), *self._steps()], layout=w.Layout(flex="1 1 360px", min_width="0"))
            self.figure.draw(s.results(), s.district.matrix, self.lang)
            self.summary = w.HTML()
            self.summary.add_class("rk-summary")
            matrix = w.VBox([self.figure, w.HTML(legend_html(self.lang))])
            matrix.add_class("rk-sticky")  # stays in view beside the risk being edited
            side = w.VBox([matrix, self.summary], layout=w.Layout(width=f"{SIDEBAR_PX}px", flex="0 0 auto"))
            side.add_class("rk-sidebar")
            children.append(row([form, side], align_items="flex-start"))
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

    def _repairs(self) -> list[w.Widget]:
        """For the DPO: each school file that cannot be read, with its kept earlier versions to put back."""
        if self.only:
            return []
        folder, boxes = self.session.district.schools_dir, []
        broken = dict.fromkeys(Path(p.file) for p in self.session.problems if Path(p.file).parent == folder)
        for file in broken:
            kept = versions(folder, file.stem)
            if not kept:
                boxes.append(html("labelled", file.name, self.t("form.repair_by_hand", file=str(file))))
                continue
            menu = w.Dropdown(options=[(f"{date_text(at.date(), self.lang)}, {at:%H:%M} UTC", path) for at, path in kept],
                              description=self.t("form.repair_version", file=file.name),
                              style={"description_width": "initial"}, layout=w.Layout(width="auto"))
            button = w.Button(description=self.t("form.repair_restore"), layout=w.Layout(width="auto"))
            button.on_click(lambda _, file=file, menu=menu: self._guard(lambda: self._restore(file, menu.value)))
            boxes.append(row([menu, button], align_items="center"))
        return [w.VBox([html("heading", 3, self.t("form.repair_heading")), *boxes])] if boxes else []

    def _restore(self, file: Path, version: Path) -> None:
        """Put a kept version back as a broken school's file, then read the district again."""
        restore(file.parent, file.stem, version, file)
        district, problems = read_district(self.session.district.path)
        self.session = CaptureSession(district, problems, self.session.today)
        self.started = False
        self._message = lambda: self.fields.markup("form.repaired", file=file.name)
        self._render()

    def _school_options(self) -> list[tuple[str, str | None]]:
        schools = [(f"{a.school.name} ({sid})", sid) for sid, a in self.session.district.schools.items()]
        if self.only:
            return schools or [(self.t("form.new_school"), NEW)]
        return [(self.t("form.choose_school"), CHOOSE), *schools, (self.t("form.new_school"), NEW)]

    def _details(self) -> w.VBox:
        d, f = self.session.draft, self.fields
        kinds = [(self.t(f"kind.{k}"), k) for k in SCHOOL_KINDS]
        school_id = w.Text(d.school_id, placeholder=self.t("form.school_id_placeholder"),
                           disabled=not self.session.is_new or bool(self.only))
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

    def _steps(self) -> list[Fold]:
        """One fold per step, in the order a DSFA is read, each built when first opened."""
        s, f = self.session, self.fields
        cat, config, matrix = s.catalogue, s.district.config, s.district.matrix
        self.numbers = risk_numbers(cat.risks)

        def threshold() -> w.Widget:
            box, self.threshold_line = threshold_step(s.draft, cat, config, f, intro("threshold"))
            return box

        def decision() -> w.Widget:
            self.decision = DecisionStep(s.draft, self.numbers, cat, matrix, f, intro("decision"))
            return self.decision.widget

        def intro(name: str) -> w.HTML:
            note, has_intro = next((note, has) for step, note, has, _ in STEPS if step == name)
            return html("step_intro", self.t(f"form.step.{name}_intro") if has_intro else None,
                        self.t(note) if note else None)

        build = {
            "platform": lambda: PlatformStep(s.draft, cat, f, intro("platform")).widget,
            "threshold": threshold,
            "risks": lambda: w.VBox([html("paragraph", self.t("form.risks_heading")), *self._modules()]),
            "questions": lambda: questions_step(s.draft, cat, f, intro("questions")),
            "views": lambda: views_step(s.draft, config, f, intro("views")),
            "advice": lambda: advice_step(s.draft, self.numbers, cat, matrix, f, intro("advice")),
            "decision": decision,
        }
        return [self._fold(name, f"{i + 1}. {self.t(f'form.step.{name}')}", 3, lambda name=name: [build[name]()])
                for i, (name, *_) in enumerate(STEPS)]

    def _modules(self) -> list[Fold]:
        """The risk step: one fold per platform module, in the order of their first risk's number; a risk with
        several modules goes under its first."""
        cat = self.session.catalogue
        first = {}  # each module's first risk number: the panels follow R1, R2, ...
        for i, risk in enumerate(cat.risks):
            first.setdefault(risk.modules[0], i)
        self._module_ids = sorted(first, key=first.get)

        def cards(module: str) -> list[w.Widget]:
            built = [RiskCard(r, self.numbers[r.id], self.session, self.fields, self._refresh)
                     for r in cat.risks if r.modules[0] == module]
            self._status_lines.update({card.risk.id: card.status for card in built})
            self._cards.update({card.risk.id: card.widget for card in built})
            return [card.widget for card in built]

        return [self._fold(f"risks.{m}", cat.module(m).title[self.lang], 4, lambda m=m: cards(m))
                for m in self._module_ids]

    def _fold(self, name: str, title: str, level: int, build: Callable[[], list[w.Widget]]) -> Fold:
        """A fold that stays open over rebuilds (a language switch, a reload) and brings what it built up to date."""
        def opened() -> None:
            self.opened_folds.add(name)
            if self._shown is not None:  # the school's parts are on screen: bring the new ones up to date
                self._shown = None
                self._refresh()

        fold = self.folds[name] = Fold(title, build, level, on_open=opened, on_close=lambda: self.opened_folds.discard(name))
        if name in self.opened_folds:
            fold.opened = True
        return fold

    def unfold(self, key: str) -> None:
        """Open the step (and the risk's module panel) that holds the field `key`, building it if need be."""
        step = next((name for name, *_, prefix in STEPS if key.startswith(prefix)), None)
        if step:
            self.folds[step].opened = True
        if step == "risks":
            risk = self.session.catalogue.risks_by_id.get(key.split(".")[1])
            if risk:
                self.folds[f"risks.{risk.modules[0]}"].opened = True


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
        everything = self._shown is None  # after a (re)build or a newly opened part
        changed = {now[0] for i, now in enumerate(shown) if everything or self._shown[i] != now}
        self._shown = shown
        for r in results:  # a risk's line is rendered again only when it moved or was edited
            if r.risk.id in changed or r.risk.id == risk_id:
                self._lines[r.risk.id] = status_line(r, m, lang, self._raised(r))
            if r.risk.id in self._status_lines:  # its card is built
                self._set(self._status_lines[r.risk.id], self._lines[r.risk.id])
                if moved:
                    show(self._cards[r.risk.id], r.applicable)
        if moved:
            if self.decision:
                self.decision.update(results, self._lines)
            self.summary.value = summary_html(results, self.numbers, m, lang)
            for module in self._module_ids if "risks" in self.folds and self.folds["risks"].body.built else ():
                title = self._module_title(self.session.catalogue.module(module).title[lang],
                                           [r for r in results if r.risk.modules[0] == module])
                self.folds[f"risks.{module}"].title = title  # sent only when it changed
        if self.threshold_line and (risk_id is None or everything):  # a risk's own fields leave the threshold alone
            config = self.session.district.config
            self._set(self.threshold_line, threshold_text(threshold(self.session.catalogue, config, school).required,
                                                          self.fields))
        self._set(self.dsfa_line, fragment("dsfa_status", self.t("form.dsfa_status"), status.text(lang),
                                           self.t("form.dsfa_blockers"), [b.text(lang) for b in status.blockers]))
        dirty = self.status.dirty = self.session.dirty
        self._keep_unsaved()
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
        self.status.html = message()

    def _problem_list(self, head: str, items: list[str]) -> Markup:
        return fragment("problem_list", head, items)

    def _show_problems(self, problems: list[FieldProblem]) -> None:
        """Each problem at its field (its step opened), and all of them in the status line."""
        for p in problems:
            self.unfold(p.key)
            if p.key in self.errors:
                self.errors[p.key].value = fragment("field_problem", p.text(self.lang))
        self._say(lambda: self._problem_list(self.t(counted_key("form.not_saved_problems", len(problems)),
                                                    count=len(problems)),
                                             [f"{self._where(p.key)}: {p.text(self.lang)}" for p in problems]))

    def _where(self, key: str) -> str:
        """A field described in words: `R3 Profiling – Reason for your estimate`."""
        caption = self.fields.captions.get(key, key)
        parts = key.split(".")
        at = 1 if parts[0] == "risks" else 3 if key.startswith(("dsfa.decision.residual.", "dsfa.decision.accepted.")) else 0
        if at and len(parts) > at and parts[at] in self.session.catalogue.risks_by_id:
            risk = self.session.catalogue.risk(parts[at])
            return f"{self.numbers[risk.id]} {risk.title[self.lang]} – {caption}"
        return caption

    def _open_chosen(self) -> None:
        """Open the school chosen in the menu (the menu alone opens nothing: arrow keys run through it)."""
        chosen, current = self.school_menu.value, (NEW if self.session.is_new else self.session.school_id)

        def keep() -> None:
            self.school_menu.value = current if self.started else CHOOSE

        self._guard(lambda: self.open(chosen), keep)

    def _guard(self, action: Callable[[], None], on_cancel: Callable[[], None] = lambda: None) -> None:
        """Run `action` now, or after asking whether to discard unsaved changes."""
        if self.session.dirty:
            def discard() -> None:
                self._forget_unsaved()
                action()

            self.question.ask(self.t("form.discard_question"), self.t("form.discard"), self.t("form.cancel"), discard,
                              on_cancel)
        else:
            action()
