"""A school's DSFA as display blocks for the report notebook: header, summary, heatmap, risks, action plan, sign-off.

Every block is rendered from data (labels, catalogue, matrix, the school's file) by the autoescaping template
`figures/templates/school.html.j2`, so a reason containing `<script>` shows as text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from ..model.assessment import PlannedMeasure, RiskResult, SchoolAssessment
from ..model.catalogue import Effect, Risk
from ..model.district import District, load_district
from ..model.errors import RiskkitError
from ..model.i18n import LANGUAGES, Lang, label
from ..figures.plots import risk_matrix_figure
from ..figures.markup import Block, effect_text, macro, risk_numbers, text_label

from .staticfig import Parts, PlotlyFigure

if TYPE_CHECKING:
    import plotly.graph_objects as go

LEVEL_ORDER = ("high", "medium", "low")
TEMPLATE = "school.html.j2"


def lang_and_day(district: District, lang: str | None, today: str | date | None) -> tuple[Lang, date]:
    """A document's language (default: the district's) and the day it judges dates by (YYYY-MM-DD; default: today)."""
    lang = lang or district.config.language
    if lang not in LANGUAGES:
        raise RiskkitError(f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    day = date.fromisoformat(today) if isinstance(today, str) else (today or date.today())
    return lang, day


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
    def numbers(self) -> dict[str, str]:
        return risk_numbers(r.risk for r in self.results)

    @cached_property
    def review(self) -> date:
        return self.district.next_review(self.school_id)

    # -- helpers (text for the templates; the templates escape it) ---------------------------------------------
    def t(self, key: str, **values: object) -> Markup:
        """A report label with its {placeholders} filled, escaped."""
        return text_label(f"report.{key}", self.lang, **values)

    def date(self, day: date) -> str:
        return day.strftime(label("report.date_format", self.lang))

    def level_name(self, level: str | None) -> str:
        return self.district.matrix.risk_level_name(level, self.lang) if level else label("report.open", self.lang)

    def labels(self, prefix: str, keys: list[str]) -> str:
        return ", ".join(label(f"{prefix}.{k}", self.lang) for k in keys)

    def module_titles(self, risk: Risk) -> str:
        return ", ".join(self.district.catalogue.module(m).title[self.lang] for m in risk.modules)

    def source_titles(self, risk: Risk) -> str:
        sources = {s.id: s.title[self.lang] for s in self.district.catalogue.risk_sources}
        return ", ".join(sources.get(s, s) for s in risk.risk_sources)

    def document_title(self, risk: Risk) -> str:
        return next((d.title[self.lang] for d in self.district.catalogue.documents if d.id == risk.source), risk.source)

    def cuts(self, effect: Effect) -> str:
        """`-1 likelihood, -1 severity`: what a measure lowers."""
        return effect_text(effect, self.lang)

    @cached_property
    def planned(self) -> list[tuple[PlannedMeasure, RiskResult]]:
        items = [(p, r) for r in self.results if r.entry for p in r.entry.measures_planned]
        return sorted(items, key=lambda item: (item[0].due, self.numbers[item[1].risk.id]))

    def _block(self, name: str, *args: Any) -> Block:
        return Block(macro(TEMPLATE, name, self, *args))

    # -- blocks --------------------------------------------------------------------------------------------------
    def header(self) -> Block:
        """Title and the facts about the assessment: who, when, which catalogue and method."""
        title = label("report.title", self.lang).format(school=self.assessment.school.name)
        return Block(macro(TEMPLATE, "header", self), {"title": title, "lang": self.lang})

    def summary(self) -> Block:
        """Counts per level before and after the measures, and the Art. 36 conclusion in plain words."""
        assessed = [r for r in self.results if r.assessed]
        open_risks = [r for r in self.results if not r.assessed]
        high = [r for r in assessed if r.prior_consultation]
        inherent = Counter(r.inherent_level for r in assessed)
        residual = Counter(r.residual_level for r in assessed)
        facts = SimpleNamespace(
            assessed=assessed, open=open_risks, high=high, levels=LEVEL_ORDER, inherent=inherent, residual=residual,
            inherent_words=self._count_words(inherent), residual_words=self._count_words(residual),
            open_names=self._names(open_risks), high_names=self._names(high),
            overdue=sum(1 for p, _ in self.planned if p.due < self.today),
        )
        return self._block("summary", facts)

    def _names(self, results: list[RiskResult]) -> str:
        return ", ".join(f"{self.numbers[r.risk.id]} {r.risk.title[self.lang]}" for r in results)

    def _count_words(self, counts: Counter) -> str:
        parts = [f"{counts[level]} × {self.district.matrix.risk_level_name(level, self.lang)}"
                 for level in LEVEL_ORDER if counts[level]]
        return ", ".join(parts) or "0"

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
        """One section per catalogue risk; a risk the school has not assessed is marked open, never scored."""
        return self._block("risks")

    def action_plan(self) -> Block:
        """The planned measures sorted by due date, with owner; overdue ones marked in words."""
        return self._block("action_plan")

    def sign_off(self) -> Block:
        """Signature lines for the school (controller) and the data-protection officer's advice."""
        from .. import __version__

        return self._block("sign_off", __version__)
