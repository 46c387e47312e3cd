"""A school's DSFA as display blocks for the report notebook: header, summary, heatmap, risks, action plan, sign-off.

Every block is HTML built from data (labels, catalogue, matrix, the school's file); every text is escaped with
`html.escape`, so a reason containing `<script>` shows as text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from ..model.assessment import PlannedMeasure, RiskResult, SchoolAssessment
from ..model.district import District, load_district
from ..model.errors import RiskkitError
from ..model.i18n import LANGUAGES, Lang, label
from ..figures.plots import risk_matrix_figure, risk_numbers
from ..figures.markup import Block, esc

from .staticfig import Parts, PlotlyFigure

if TYPE_CHECKING:
    import plotly.graph_objects as go

LEVEL_ORDER = ("high", "medium", "low")


def _t(key: str, lang: Lang, **values: object) -> str:
    """A report label with its {placeholders} filled by escaped values (the label itself is escaped too)."""
    return esc(label(f"report.{key}", lang)).format(**{k: esc(v) for k, v in values.items()})


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
        return risk_numbers(self.results)

    @cached_property
    def review(self) -> date:
        return self.district.next_review(self.school_id)

    # -- helpers -------------------------------------------------------------------------------------------------
    def t(self, key: str, **values: object) -> str:
        return _t(key, self.lang, **values)

    def date(self, day: date) -> str:
        return day.strftime(label("report.date_format", self.lang))

    def level(self, level: str | None) -> str:
        """A level chip: colour plus the level's name written out."""
        name = self.district.matrix.risk_level_name(level, self.lang) if level else self.t("open")
        return f'<span class="level level-{level or "open"}">{esc(name)}</span>'

    def risk_ref(self, r: RiskResult) -> str:
        return f"{self.numbers[r.risk.id]} {esc(r.risk.title[self.lang])}"

    def _position(self, likelihood: int, severity: int, level: str) -> str:
        return f'{self.level(level)} <span class="pos">{self.t("position", l=likelihood, s=severity)}</span>'

    @cached_property
    def _planned(self) -> list[tuple[PlannedMeasure, RiskResult]]:
        items = [(p, r) for r in self.results if r.entry for p in r.entry.measures_planned]
        return sorted(items, key=lambda item: (item[0].due, self.numbers[item[1].risk.id]))

    # -- blocks --------------------------------------------------------------------------------------------------
    def header(self) -> Block:
        """Title and the facts about the assessment: who, when, which catalogue and method."""
        a, cfg, cat = self.assessment, self.district.config, self.district.catalogue
        dpo = esc(cfg.dpo.name) + (f" &lt;{esc(cfg.dpo.email)}&gt;" if cfg.dpo.email else "")
        version = a.catalogue_version
        catalogue = f"{esc(cat.title[self.lang])} ({esc(cat.ref)})"
        if version and version != cat.version:
            catalogue += f"<br>{self.t('version_differs', version=version)}"
        rows = [
            ("school", f"{esc(a.school.name)} ({esc(label(f'kind.{a.school.kind}', self.lang))})"),
            ("district", esc(cfg.name)),
            ("controller", self.t("controller_value", school=a.school.name)),
            ("dpo", dpo),
            ("assessed_on", self.date(a.assessed_on)),
            ("assessed_by", esc(a.assessed_by)),
            ("next_review", self.date(self.review) + self._overdue(self.review)),
            ("catalogue", catalogue),
            ("method", esc(self.district.matrix.title[self.lang])),
            ("report_date", self.date(self.today)),
        ]
        body = "".join(f'<tr><th scope="row">{self.t(k)}</th><td>{v}</td></tr>' for k, v in rows)
        title = label("report.title", self.lang).format(school=a.school.name)
        html = (
            f'<header><p class="kicker">{self.t("kicker")}</p><h1>{esc(a.school.name)}</h1>'
            f'<p class="doc-ref">{self.t("doc_ref", district=cfg.name, catalogue=cat.ref, date=self.date(self.today))}</p>'
            f'<table class="facts"><caption>{self.t("facts_caption")}</caption><tbody>{body}</tbody></table></header>'
        )
        return Block(html, {"title": title, "lang": self.lang})

    def summary(self) -> Block:
        """Counts per level before and after the measures, and the Art. 36 conclusion in plain words."""
        assessed = [r for r in self.results if r.assessed]
        open_risks = [r for r in self.results if not r.assessed]
        inherent = Counter(r.inherent_level for r in assessed)
        residual = Counter(r.residual_level for r in assessed)
        rows = "".join(
            f'<tr><th scope="row">{self.level(level)}</th><td class="num">{inherent[level]}</td>'
            f'<td class="num">{residual[level]}</td></tr>'
            for level in LEVEL_ORDER
        )
        rows += (f'<tr><th scope="row">{self.level(None)}</th><td class="num">{len(open_risks)}</td>'
                 f'<td class="num">{len(open_risks)}</td></tr>')
        table = (
            f'<table class="counts"><caption>{self.t("counts_caption")}</caption><thead><tr>'
            f'<th scope="col">{self.t("col_level")}</th><th scope="col" class="num">{self.t("col_inherent")}</th>'
            f'<th scope="col" class="num">{self.t("col_residual")}</th></tr></thead><tbody>{rows}</tbody></table>'
        )
        words = [self.t("summary_counts", total=len(self.results), assessed=len(assessed))]
        if open_risks:
            words.append(self.t("summary_open", count=len(open_risks),
                                risks=", ".join(f"{self.numbers[r.risk.id]} {r.risk.title[self.lang]}" for r in open_risks)))
        words.append(self.t("summary_levels", inherent=self._count_words(inherent), residual=self._count_words(residual)))
        high = [r for r in assessed if r.prior_consultation]
        if high:
            names = ", ".join(f"{self.numbers[r.risk.id]} {r.risk.title[self.lang]}" for r in high)
            conclusion = self.t("art36_needed", count=len(high), risks=names)
        else:
            conclusion = self.t("art36_not_needed")
        if open_risks:
            conclusion += " " + self.t("art36_provisional")
        words.append(self.t("review_overdue" if self.review < self.today else "review_due", date=self.date(self.review)))
        overdue = sum(1 for p, _ in self._planned if p.due < self.today)
        if self._planned:
            words.append(self.t("planned_note", count=len(self._planned), overdue=overdue))
        html = (
            f'<section aria-labelledby="summary"><h2 id="summary">{self.t("summary_title")}</h2>'
            f'<div class="conclusion{" needed" if high else ""}"><p><strong>{self.t("art36_heading")}:</strong> '
            f'{esc(label("yes" if high else "no", self.lang))}. {conclusion}</p></div>'
            f'<p>{" ".join(words)}</p>{table}</section>'
        )
        return Block(html)

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
        rows = []
        for r in self.results:
            if r.assessed:
                inherent = self._position(r.likelihood, r.severity, r.inherent_level)
                residual = self._position(r.residual_likelihood, r.residual_severity, r.residual_level)
            else:
                inherent = residual = self.level(None)
            rows.append(f'<tr><td class="num">{self.numbers[r.risk.id]}</td><th scope="row">'
                        f'{esc(r.risk.title[self.lang])}</th><td>{inherent}</td><td>{residual}</td></tr>')
        table = (
            f'<table class="positions"><caption>{self.t("positions_caption")}</caption><thead><tr>'
            f'<th scope="col" class="num">{self.t("col_number")}</th><th scope="col">{self.t("col_risk")}</th>'
            f'<th scope="col">{self.t("col_inherent")}</th><th scope="col">{self.t("col_residual")}</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>'
        )
        head = (f'<h2 id="matrix">{self.t("matrix_title")}</h2>'
                f'<p>{self.t("matrix_intro", method=self.district.matrix.title[self.lang])}</p>')
        return Parts(Block(head), figure, Block(table))

    def risks(self) -> Block:
        """One section per catalogue risk; a risk the school has not assessed is marked open, never scored."""
        sections = [self._risk_section(r) for r in self.results]
        html = (f'<section aria-labelledby="risks"><h2 id="risks">{self.t("risks_title")}</h2>'
                f'{"".join(sections)}</section>')
        return Block(html)

    def _risk_section(self, r: RiskResult) -> str:
        lang, cat, matrix = self.lang, self.district.catalogue, self.district.matrix
        risk = r.risk
        document = next((d.title[lang] for d in cat.documents if d.id == risk.source), risk.source)
        sources = {s.id: s.title[lang] for s in cat.risk_sources}
        facts = [
            ("affected_data", esc(risk.affected_data[lang])),
            ("damage_kinds", esc(", ".join(label(f"damage.{d}", lang) for d in risk.damage_kinds))),
            ("protection_goals", esc(", ".join(label(f"goal.{g}", lang) for g in risk.protection_goals))),
            ("modules", esc(", ".join(cat.module(m).title[lang] for m in risk.modules))),
            ("risk_sources", esc(", ".join(sources.get(s, s) for s in risk.risk_sources))),
            ("severity", f"{risk.severity} {esc(matrix.level_name(risk.severity, lang))}. {esc(risk.severity_reason[lang])}"),
        ]
        if r.entry is None:
            status = f'<p>{self.level(None)} {self.t("open_risk")}</p>'
        else:
            entry = r.entry
            status = (f'<p>{self.t("col_inherent")}: {self._position(r.likelihood, r.severity, r.inherent_level)}'
                      f' → {self.t("col_residual")}: '
                      f'{self._position(r.residual_likelihood, r.residual_severity, r.residual_level)}</p>')
            facts.append(("likelihood", f"{entry.likelihood} {esc(matrix.level_name(entry.likelihood, lang))}. "
                                        f"{esc(entry.reason)}"))
            facts.append(("measures_in_place", self._measure_list(entry.measures_in_place, risk.id)))
            planned = [self.t("planned_item", measure=cat.measure(p.measure).title[lang], owner=p.owner,
                              due=self.date(p.due)) + self._overdue(p.due) for p in entry.measures_planned]
            facts.append(("measures_planned", _list(planned) or self.t("none")))
            if entry.override:
                o = entry.override
                facts.append(("override", self.t("override_value", l=o.likelihood, s=o.severity, reason=o.reason)))
        facts.append(("source", esc(document)))
        items = "".join(f"<dt>{self.t(k)}</dt><dd>{v}</dd>" for k, v in facts)
        anchor = f"risk-{esc(risk.id)}"
        return (
            f'<section class="risk" aria-labelledby="{anchor}"><h3 id="{anchor}">{self.risk_ref(r)}</h3>{status}'
            f'<p>{esc(risk.description[lang])}</p><dl>{items}</dl></section>'
        )

    def _measure_list(self, measure_ids: list[str], risk_id: str) -> str:
        items = []
        for measure_id in measure_ids:
            measure = self.district.catalogue.measure(measure_id)
            effect = measure.effect_on(risk_id)
            cuts = [f"−{n} {label(f'effect.{dim}', self.lang)}"
                    for dim, n in (("likelihood", effect.likelihood), ("severity", effect.severity)) if n]
            items.append(f"{esc(measure.title[self.lang])} ({esc(', '.join(cuts))})")
        return _list(items) or self.t("none")

    def _overdue(self, day: date) -> str:
        """' (overdue)' after a date that has passed, in words (colour never stands alone)."""
        return f' <span class="overdue">({esc(label("overdue", self.lang))})</span>' if day < self.today else ""

    def action_plan(self) -> Block:
        """The planned measures sorted by due date, with owner; overdue ones marked in words."""
        cat = self.district.catalogue
        if not self._planned:
            body = f'<p>{self.t("plan_empty")}</p>'
        else:
            rows = []
            for p, r in self._planned:
                status = (f'<span class="overdue">{esc(label("overdue", self.lang))}</span>' if p.due < self.today
                          else self.t("status_planned"))
                rows.append(
                    f'<tr><td class="num">{self.date(p.due)}</td><th scope="row">{esc(cat.measure(p.measure).title[self.lang])}'
                    f'</th><td>{self.risk_ref(r)}</td><td>{esc(p.owner)}</td><td>{status}</td><td>{esc(p.note or "")}</td></tr>'
                )
            heads = "".join(f'<th scope="col">{self.t(k)}</th>'
                            for k in ("col_due", "col_measure", "col_risk", "col_owner", "col_status", "col_note"))
            body = (f'<p>{self.t("plan_intro")}</p><table class="plan"><caption>{self.t("plan_caption")}</caption>'
                    f'<thead><tr>{heads}</tr></thead><tbody>{"".join(rows)}</tbody></table>')
        return Block(f'<section aria-labelledby="plan"><h2 id="plan">{self.t("plan_title")}</h2>{body}</section>')

    def sign_off(self) -> Block:
        """Signature lines for the school (controller) and the data-protection officer's advice."""
        from .. import __version__

        cfg = self.district.config
        rows = [
            self.t("sign_place_date"),
            self.t("sign_head", school=self.assessment.school.name),
            self.t("sign_dpo", name=cfg.dpo.name),
        ]
        table = "".join(f'<tr><th scope="row">{row}</th><td class="line"></td></tr>' for row in rows)
        colophon = self.t("colophon", version=__version__, date=self.date(self.today),
                          catalogue=self.district.catalogue.ref, method=self.district.matrix.id)
        html = (
            f'<section class="signoff" aria-labelledby="signoff"><h2 id="signoff">{self.t("signoff_title")}</h2>'
            f'<p>{self.t("signoff_text")}</p><table class="signoff"><tbody>{table}</tbody></table></section>'
            f'<footer class="colophon"><p>{colophon}</p></footer>'
        )
        return Block(html)


def _list(items: list[str]) -> str:
    return f'<ul class="plain">{"".join(f"<li>{i}</li>" for i in items)}</ul>' if items else ""
