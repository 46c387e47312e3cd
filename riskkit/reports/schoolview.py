"""A school's DSFA as display blocks for the report notebook, in the order and under the headings of the EDPB DPIA
template: first page (header, status, summary), threshold analysis, systematic description, lawfulness, principles and
rights, necessity, risk assessment, action plan and residual risk, the DPO's advice, the views of those affected, the
school's decision and sign-off.

Every block is rendered from data (labels, catalogue, matrix, the school's file) by the autoescaping template
`figures/templates/school.html.j2`, so a reason containing `<script>` shows as text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from ..model.assessment import Migrated, PlannedMeasure, RiskResult, SchoolAssessment
from ..model.catalogue import (
    Catalogue, DataCategory, Document, Effect, LegalBasis, Module, Question, Reductions, Risk,
)
from ..model.district import District, load_district
from ..model.dsfa import Dsfa, QuestionAnswer
from ..model.errors import RiskkitError
from ..model.i18n import LANGUAGES, Lang, counted_key, date_text, label
from ..model.platform import Platform
from ..model.status import DsfaStatus, Threshold
from ..figures.plots import risk_matrix_figure
from ..figures.markup import Block, effect_text, macro, risk_numbers, text_label

from .staticfig import Parts, PlotlyFigure

if TYPE_CHECKING:
    import plotly.graph_objects as go

LEVEL_ORDER = ("high", "medium", "low")
TEMPLATE = "school.html.j2"
REPORT_CSS = ("templates", "riskkit_report", "static", "report.css")


@cache
def lab_styles() -> Markup:
    """The report's stylesheet for the notebook itself (JupyterLab shows outputs with styles of its own: tables
    right-aligned, no level colours): nested under the `rk-report` boxes of the outputs, so it reaches nothing else,
    and above JupyterLab's rules for rendered HTML. The exported HTML has the same rules from its template."""
    css = resources.files(__package__).joinpath(*REPORT_CSS).read_text(encoding="utf-8")
    return Markup(f"<style>.jp-RenderedHTMLCommon .rk-report {{\n{css}\n}}</style>")


def lang_and_day(district: District, lang: str | None, today: str | date | None) -> tuple[Lang, date]:
    """A document's language (default: the district's) and the day it judges dates by (YYYY-MM-DD; default: today)."""
    lang = lang or district.config.language
    if lang not in LANGUAGES:
        raise RiskkitError(f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    day = date.fromisoformat(today) if isinstance(today, str) else (today or date.today())
    return lang, day


@dataclass(frozen=True)
class Citations:
    """The documents a section cites, numbered in order of first use ([1], [2], ...), listed at the section's end."""

    catalogue: Catalogue
    order: dict[str, int] = field(default_factory=dict)

    def ref(self, document_id: str) -> str:
        """`[n]` for a document, numbering it on first use."""
        return f"[{self.order.setdefault(document_id, len(self.order) + 1)}]"

    def documents(self) -> list[tuple[int, Document]]:
        return [(n, self.catalogue.document(d)) for d, n in self.order.items()]


@dataclass(frozen=True)
class QuestionRow:
    """One question of Art. 35(7)(b) with the school's answer (None: open) and whether it is the vendor's default."""

    question: Question
    answer: QuestionAnswer | None
    is_default: bool


@dataclass
class SchoolView:
    """One school of a loaded district, presented in one language as of one day."""

    district: District
    school_id: str
    lang: Lang
    today: date

    @classmethod
    def load(cls, district_dir: str | Path, school_id: str, lang: str | None = None,
             today: str | date | None = None) -> SchoolView:
        """Load and validate the district; `lang` defaults to the district's, `today` (YYYY-MM-DD) to today."""
        district = load_district(district_dir, only=[school_id])
        return cls(district, school_id, *lang_and_day(district, lang, today))

    @cached_property
    def assessment(self) -> SchoolAssessment:
        return self.district.school(self.school_id)

    @cached_property
    def results(self) -> list[RiskResult]:
        return self.district.evaluate(self.school_id)

    @cached_property
    def applicable(self) -> list[RiskResult]:
        return [r for r in self.results if r.applicable]

    @cached_property
    def not_applicable(self) -> list[RiskResult]:
        return [r for r in self.results if not r.applicable]

    @cached_property
    def numbers(self) -> dict[str, str]:
        return risk_numbers(r.risk for r in self.results)

    @cached_property
    def review(self) -> date:
        return self.district.next_review(self.school_id)

    @cached_property
    def status(self) -> DsfaStatus:
        return self.district.status(self.school_id)

    @cached_property
    def analysis(self) -> Threshold:
        return self.district.threshold(self.school_id)

    @cached_property
    def migrated(self) -> Migrated | None:
        return self.district.migrations.get(self.school_id)

    @property
    def platform(self) -> Platform | None:
        return self.assessment.platform

    @property
    def dsfa(self) -> Dsfa:
        return self.assessment.dsfa

    @cached_property
    def modules_in_use(self) -> list[Module]:
        used = self.assessment.modules_in_use(self.district.catalogue)
        return [m for m in self.district.catalogue.modules if m.id in used]

    @cached_property
    def modules_off(self) -> list[Module]:
        used = {m.id for m in self.modules_in_use}
        return [m for m in self.district.catalogue.modules if m.id not in used]

    # -- helpers (text for the templates; the templates escape it) ---------------------------------------------
    def t(self, key: str, **values: object) -> Markup:
        """A report label with its {placeholders} filled, escaped."""
        return text_label(f"report.{key}", self.lang, **values)

    def tn(self, key: str, count: int, **values: object) -> Markup:
        """A counted label: `report.<key>.one` for one where the label has that form, else `report.<key>`."""
        return text_label(counted_key(f"report.{key}", count), self.lang, count=count, **values)

    def date(self, day: date) -> str:
        return date_text(day, self.lang)

    def level_name(self, level: str | None) -> str:
        return self.district.matrix.risk_level_name(level, self.lang) if level else label("report.open", self.lang)

    def labels(self, prefix: str, keys: list[str]) -> str:
        return ", ".join(label(f"{prefix}.{k}", self.lang) for k in keys)

    def kind_name(self) -> str:
        """The school's kind as the district's state names it."""
        return self.district.config.kind_name(self.assessment.school.kind, self.lang)

    def module_titles(self, risk: Risk) -> str:
        return ", ".join(self.district.catalogue.module(m).title[self.lang] for m in risk.modules)

    def source_titles(self, risk: Risk) -> str:
        sources = {s.id: s.title[self.lang] for s in self.district.catalogue.risk_sources}
        return ", ".join(sources.get(s, s) for s in risk.risk_sources)

    def document_title(self, risk: Risk) -> str:
        return next((d.title[self.lang] for d in self.district.catalogue.documents if d.id == risk.source), risk.source)

    def cuts(self, effect: Effect | Reductions | None) -> str:
        """`-1 likelihood, -1 severity`: what a measure lowers (`nothing` when it lowers nothing)."""
        return (effect_text(effect, self.lang) if effect else "") or label("report.counts_nothing", self.lang)

    def subjects(self, ids: list[str]) -> str:
        titles = {s.id: s.title[self.lang] for s in self.district.catalogue.data_subjects}
        return ", ".join(titles.get(i, i) for i in ids)

    def legal_basis(self, basis_id: str) -> LegalBasis:
        return next(b for b in self.district.catalogue.legal_bases if b.id == basis_id)

    def chosen_basis(self, module: Module) -> LegalBasis | None:
        """The legal basis the school chose for a module in use (None: not chosen or platform not described)."""
        use = self.platform.modules.get(module.id) if self.platform else None
        return self.legal_basis(use.legal_basis) if use and use.legal_basis else None

    def groups(self, module: Module) -> str | None:
        use = self.platform.modules.get(module.id) if self.platform else None
        return use.groups if use else None

    def extra_data(self) -> list[DataCategory]:
        declared = self.platform.extra_data if self.platform else []
        return [c for c in self.district.catalogue.extra_data_categories if c.id in declared]

    def category_title(self, category_id: str) -> str:
        return next((c.title[self.lang] for c in self.district.catalogue.extra_data_categories
                     if c.id == category_id), category_id)

    def names(self, results: list[RiskResult]) -> str:
        """`R1 title, R4 title`: risks named as everywhere in the report."""
        return ", ".join(f"{self.numbers[r.risk.id]} {r.risk.title[self.lang]}" for r in results)

    def off_reason(self, r: RiskResult) -> str:
        """Why a risk does not apply: the modules it concerns are not in use at this school."""
        return self.t("na_reason", modules=self.module_titles(r.risk))

    def questions(self, part: str) -> list[QuestionRow]:
        """The catalogue's questions of one part with the school's answers; an answer whose text is the vendor's
        standard text (either language) is marked as the default."""
        rows = []
        for q in self.district.catalogue.questions:
            if q.part != part:
                continue
            answer = self.dsfa.answers.get(q.id)
            defaults = {_plain(q.default.text[lang]) for lang in LANGUAGES} if q.default else set()
            rows.append(QuestionRow(q, answer, bool(answer and _plain(answer.text) in defaults)))
        return rows

    @cached_property
    def planned(self) -> list[tuple[PlannedMeasure, RiskResult]]:
        items = [(p, r) for r in self.results if r.assessed for p in r.entry.measures_planned]
        return sorted(items, key=lambda item: (item[0].due, self.numbers[item[1].risk.id]))

    @cached_property
    def unaccepted(self) -> list[RiskResult]:
        """Medium or high residual risks the controller has not accepted with a reason."""
        return [r for r in self.results
                if r.residual_level in ("medium", "high") and r.risk.id not in self.dsfa.decision.accepted]

    @cached_property
    def high(self) -> list[RiskResult]:
        return [r for r in self.results if r.prior_consultation]

    def high_modules(self) -> str:
        """The modules in use that the high residual risks concern."""
        used = {m.id for m in self.modules_in_use}
        ids = {m for r in self.high for m in r.risk.modules if m in used}
        return ", ".join(m.title[self.lang] for m in self.modules_in_use if m.id in ids)

    def _block(self, name: str, *args: Any, meta: dict[str, str] | None = None, before: Markup = Markup()) -> Block:
        """A block of the report, in a `rk-report` box that the report's styles are scoped to in JupyterLab."""
        return Block(Markup('<div class="rk-report">') + before + macro(TEMPLATE, name, self, *args) + Markup("</div>"),
                     meta)

    # -- blocks, in the order of the EDPB DPIA template ---------------------------------------------------------
    def header(self) -> Block:
        """Title and the facts about the assessment: who, when, which catalogue and method, and the DSFA's status."""
        title = label("report.title", self.lang).format(school=self.assessment.school.name)
        return self._block("header", meta={"title": title, "lang": self.lang}, before=lab_styles())

    def summary(self) -> Block:
        """Counts per level before and after the measures, and the Art. 36 conclusion in plain words and tense."""
        assessed = [r for r in self.results if r.assessed]
        open_risks = [r for r in self.results if r.open]
        inherent = Counter(r.inherent_level for r in assessed)
        residual = Counter(r.residual_level for r in assessed)
        facts = SimpleNamespace(
            assessed=assessed, open=open_risks, high=self.high, levels=LEVEL_ORDER, inherent=inherent,
            residual=residual, inherent_words=self._count_words(inherent), residual_words=self._count_words(residual),
            open_names=self.names(open_risks), high_names=self.names(self.high),
            overdue=sum(1 for p, _ in self.planned if p.due < self.today),
        )
        return self._block("summary", facts)

    def _count_words(self, counts: Counter) -> str:
        parts = [f"{counts[level]} × {self.district.matrix.risk_level_name(level, self.lang)}"
                 for level in LEVEL_ORDER if counts[level]]
        return ", ".join(parts) or "0"

    def threshold(self) -> Block:
        """1. The threshold analysis: each criterion, who answered it and why, and the conclusion."""
        return self._block("threshold")

    def description(self) -> Block:
        """2. The systematic description of the processing (Art. 35(7)(a)), each fact citing its source."""
        return self._block("description", Citations(self.district.catalogue))

    def lawfulness(self) -> Block:
        """3. The legal basis per module with the state's school law, consent and Art. 9, and the part's questions."""
        return self._block("lawfulness")

    def principles(self) -> Block:
        """4. Principles, data subjects' rights and data protection by design: the questions of those parts."""
        return self._block("principles")

    def necessity(self) -> Block:
        """5. Necessity and proportionality: the questions of that part."""
        return self._block("necessity")

    def matrix_figure(self) -> tuple[go.Figure, str]:
        """The risk matrix figure and its text alternative (plain text: counts per level before and after)."""
        fig = risk_matrix_figure(self.results, self.district.matrix, self.lang)
        fig.update_layout(title_text="", margin_t=20, height=580)
        assessed = [r for r in self.results if r.assessed]
        alt = label("report.matrix_alt", self.lang).format(
            count=len(assessed), inherent=self._count_words(Counter(r.inherent_level for r in assessed)),
            residual=self._count_words(Counter(r.residual_level for r in assessed)),
        )
        return fig, alt

    def heatmap(self) -> Parts:
        """Heading, the risk matrix as a plotly output with its text alternative (drawn as static SVG on export)
        and a table of positions."""
        fig, alt = self.matrix_figure()
        figure = PlotlyFigure(fig, label("report.matrix_title", self.lang), alt, css_class="heatmap", ident="matrix",
                              caption=True)
        return Parts(self._block("heatmap_head"), figure, self._block("positions"))

    def risks(self) -> Block:
        """One section per applicable risk (an unassessed one marked open, never scored); the risks of modules not
        in use listed apart with the reason, never open, never scored."""
        return self._block("risks")

    def action_plan(self) -> Block:
        """7. The planned measures by due date, the residual risk per risk, the controller's own residual values and
        the acceptance of each remaining medium or high risk."""
        return self._block("action_plan")

    def advice(self) -> Block:
        """8. The DPO's advice (Art. 35(2)), the proposed residual levels apart from the school's own."""
        return self._block("advice")

    def views(self) -> Block:
        """9. The views of those affected or their representatives (Art. 35(9)), per council of the district."""
        return self._block("views")

    def decision(self) -> Block:
        """10. The school's decision and the sign-off: the recorded decision, else lines to sign."""
        from .. import __version__

        return self._block("decision", __version__)


def _plain(text: str) -> str:
    return " ".join(text.split()).casefold()
