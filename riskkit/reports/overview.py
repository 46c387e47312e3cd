"""The district overview: levels per school and risk, Art. 36 cases, spread of estimates, gaps, what-if per measure.

Tables are pandas frames computed from the district's data; `Overview` turns them into escaped, accessible HTML
(captions, header cells, level names written next to every colour) for `notebooks/district_overview.ipynb`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..model.assessment import assess_risk
from ..model.catalogue import Measure
from ..model.district import District, read_district
from ..model.errors import Problem
from ..model.i18n import Lang, label
from ..model.method import LEVELS, RISK_LEVELS
from ..figures.plots import INK, LEVEL_FILL, LEVEL_TEXT, RESIDUAL_FILL
from .schoolview import lang_and_day
from ..figures.markup import Block, esc, level_chip, risk_numbers

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

Kind = Literal["residual", "inherent"]
OPEN_FILL = "#f0f0f0"
FIGURE_CSS = "figure.overview{margin:0.5em 0 1em} figure.overview svg{display:block;width:100%;height:auto}"
_TILE = 26  # pixels per level tile in the schools x risks figure
# An estimate this many levels or more away from the median of the district's schools is named as an outlier.
OUTLIER_DISTANCE = 2


def level_table(district: District, kind: Kind = "residual") -> pd.DataFrame:
    """Schools (rows, by id) x risks (columns, by id): 'low', 'medium', 'high', or None where not assessed."""
    import pandas as pd

    rows = {
        school_id: {r.risk.id: getattr(r, f"{kind}_level") for r in district.evaluate(school_id)}
        for school_id in district.schools
    }
    columns = [risk.id for risk in district.catalogue.risks]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=columns).astype(object)
    frame = frame.where(frame.notna(), None)
    frame.index.name = "school_id"
    return frame


def prior_consultation(district: District) -> pd.DataFrame:
    """Schools with a high residual risk (Art. 36(1)) and those risks, by catalogue order."""
    import pandas as pd

    rows = []
    for school_id, assessment in district.schools.items():
        risks = [r.risk.id for r in district.evaluate(school_id) if r.prior_consultation]
        if risks:
            rows.append({"school_id": school_id, "school_name": assessment.school.name, "risks": risks})
    return pd.DataFrame(rows, columns=["school_id", "school_name", "risks"])


def likelihood_spread(district: District) -> pd.DataFrame:
    """Per risk: how many schools estimated each likelihood, the median, and the schools far from it (outliers)."""
    import pandas as pd

    rows = []
    for risk in district.catalogue.risks:
        estimates = {
            school_id: assessment.risks[risk.id].likelihood
            for school_id, assessment in district.schools.items()
            if risk.id in assessment.risks
        }
        values = pd.Series(list(estimates.values()), dtype="float64")
        median = float(values.median()) if len(values) else None
        outliers = (
            {s: v for s, v in estimates.items() if abs(v - median) >= OUTLIER_DISTANCE} if median is not None else {}
        )
        rows.append({
            "risk_id": risk.id,
            "assessed": len(estimates),
            **{f"likelihood_{level}": sum(v == level for v in estimates.values()) for level in LEVELS},
            "median": median,
            "outliers": outliers,
        })
    return pd.DataFrame(rows).set_index("risk_id")


def assessment_gaps(district: District, problems: Sequence[Problem], today: date, lang: Lang = "en") -> pd.DataFrame:
    """Assessments that cannot be used (invalid files, each problem in `lang`), are incomplete (open risks) or overdue
    for review."""
    import pandas as pd

    rows = [
        {"school": Path(p.file).stem, "gap": "invalid", "detail": replace(p, file=_relative(p.file, district.path)).text(lang)}
        for p in problems
    ]
    for school_id in district.schools:
        open_risks = [r.risk.id for r in district.evaluate(school_id) if not r.assessed]
        if open_risks:
            rows.append({"school": school_id, "gap": "incomplete", "detail": open_risks})
        due = district.next_review(school_id)
        if due < today:
            rows.append({"school": school_id, "gap": "overdue", "detail": due})
    return pd.DataFrame(rows, columns=["school", "gap", "detail"])


def what_if(district: District) -> pd.DataFrame:
    """Per catalogue measure: schools that would still have a high residual risk if every school put it in place.

    Only the risks the measure lowers change; residual values the controller set stay as the school set them.
    """
    import pandas as pd

    cat, matrix = district.catalogue, district.matrix
    # Each assessed risk is taken once from the district's results; a measure re-assesses only what it would change.
    assessed = [
        [(r, district.school(school_id)) for r in district.evaluate(school_id) if r.assessed]
        for school_id in district.schools
    ]

    def schools_high(measure: Measure | None) -> int:
        count = 0
        for entries in assessed:
            for r, school in entries:
                high, entry = r.prior_consultation, r.entry
                if measure and measure.id not in entry.measure_ids and measure.effect_on(r.risk.id):
                    entry = entry.model_copy(update={"measures_in_place": [*entry.measures_in_place, measure.id]})
                    high = assess_risk(r.risk, entry, cat, matrix, school).prior_consultation
                if high:
                    count += 1
                    break
        return count

    now = schools_high(None)
    rows = []
    for measure in cat.measures:
        after = schools_high(measure)
        rows.append({
            "measure_id": measure.id,
            "risks": [e.risk for e in measure.effects],
            "high_now": now,
            "high_after": after,
            "fewer": now - after,
        })
    frame = pd.DataFrame(rows).set_index("measure_id")
    return frame.sort_values("fewer", ascending=False, kind="stable")


def level_heatmap(district: District, lang: Lang, kind: Kind = "residual") -> go.Figure:
    """Schools x risks as tiles filled by level, each carrying the level's code (colour never stands alone).

    Tiles are square markers, so the SVG stays vector (plotly draws heatmap traces as an embedded bitmap).
    """
    import plotly.graph_objects as go

    table = level_table(district, kind)
    codes = risk_numbers(district.catalogue.risks)
    names = {school_id: district.schools[school_id].school.name for school_id in table.index}
    fig = go.Figure()
    for level in (*RISK_LEVELS, None):
        cells = [
            (codes[risk_id], names[school_id])
            for school_id, row in zip(table.index, table.values.tolist())
            for risk_id, value in zip(table.columns, row)
            if value == level
        ]
        fill, ink = (LEVEL_FILL[level], LEVEL_TEXT[level]) if level else (OPEN_FILL, INK)
        name = _level_name(level, district, lang)
        fig.add_trace(go.Scatter(
            x=[x for x, _ in cells], y=[y for _, y in cells], mode="markers+text",
            text=[_level_code(level, lang)] * len(cells), textfont=dict(color=ink, size=12),
            marker=dict(symbol="square", size=_TILE, color=fill, line=dict(color=INK, width=0.5)),
            name=f"{_level_code(level, lang)} = {name}", hoverinfo="skip", cliponaxis=False,
        ))
    fig.update_layout(
        title=dict(text=label(f"overview.heatmap_{kind}", lang)),
        width=900, height=130 + (_TILE + 4) * len(names),
        margin=dict(l=20, r=20, t=70, b=50),
        xaxis=dict(side="top", type="category", categoryorder="array", categoryarray=list(codes.values()),
                   showgrid=False, zeroline=False, fixedrange=True, color=INK),
        yaxis=dict(type="category", categoryorder="array", categoryarray=list(names.values())[::-1],
                   automargin=True, showgrid=False, zeroline=False, fixedrange=True, color=INK),
        plot_bgcolor="#ffffff", paper_bgcolor="#ffffff",
        font=dict(family="DejaVu Sans, Arial, sans-serif", color=INK),
        legend=dict(orientation="h", yanchor="top", y=-0.02, x=0),
    )
    return fig


def spread_figure(district: District, lang: Lang) -> go.Figure:
    """Per risk, a dot per likelihood level sized by how many schools chose it, the count written beside it."""
    import plotly.graph_objects as go

    spread = likelihood_spread(district)
    codes = risk_numbers(district.catalogue.risks)
    xs, ys, counts = [], [], []
    for risk_id, row in spread.iterrows():
        for level in LEVELS:
            if row[f"likelihood_{level}"]:
                xs.append(level)
                ys.append(codes[risk_id])
                counts.append(int(row[f"likelihood_{level}"]))
    largest = max(counts, default=1)
    medians = spread["median"].dropna()
    fig = go.Figure([
        go.Scatter(
            x=medians.values, y=[codes[r] for r in medians.index], mode="markers",
            marker=dict(symbol="line-ns-open", size=26, line=dict(width=3, color=LEVEL_FILL["high"])),
            name=label("overview.median", lang), hoverinfo="skip",
        ),
        go.Scatter(
            x=xs, y=ys, mode="markers+text", text=[str(c) for c in counts], textposition="middle right",
            marker=dict(size=[8 + 16 * c / largest for c in counts], color=RESIDUAL_FILL),
            name=label("overview.schools_per_level", lang), hoverinfo="skip",
        ),
    ])
    ticks = [f"{i} {district.matrix.level_name(i, lang)}" for i in LEVELS]
    fig.update_layout(
        title=dict(text=label("overview.spread_title", lang)),
        width=900, height=160 + 30 * len(spread),
        margin=dict(l=20, r=20, t=60, b=60),
        xaxis=dict(title=dict(text=label("likelihood", lang)), tickmode="array", tickvals=list(LEVELS), ticktext=ticks,
                   range=[0.5, 4.7], fixedrange=True, color=INK, gridcolor="#d9d9d9"),
        yaxis=dict(autorange="reversed", automargin=True, fixedrange=True, color=INK, gridcolor="#d9d9d9"),
        plot_bgcolor="#ffffff", paper_bgcolor="#ffffff",
        font=dict(family="DejaVu Sans, Arial, sans-serif", color=INK),
        legend=dict(orientation="h", yanchor="top", y=-0.08, x=0),
    )
    return fig


def _level_code(level: str | None, lang: Lang) -> str:
    return label(f"code.{level or 'open'}", lang)


def _level_name(level: str | None, district: District, lang: Lang) -> str:
    return district.matrix.risk_level_name(level, lang) if level else label("open", lang)


@dataclass
class Overview:
    """What the overview notebook shows, section by section, as escaped HTML from the district's data."""

    district: District
    problems: list[Problem]
    lang: Lang
    today: date
    report_formats: Sequence[str] = ("html", "pdf")
    schools_folder: str = "schools"
    _names: dict[str, str] = field(init=False, repr=False)
    _codes: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._names = {school_id: a.school.name for school_id, a in self.district.schools.items()}
        self._codes = risk_numbers(self.district.catalogue.risks)

    def header(self) -> Block:
        """Title, district facts and the conclusion in one sentence."""
        d, lang = self.district, self.lang
        title = f"{label('overview.title', lang)}: {d.config.name}"
        facts = [
            (label("overview.district", lang), d.config.name),
            (label("overview.dpo", lang), d.config.dpo.name + (f" ({d.config.dpo.email})" if d.config.dpo.email else "")),
            (label("overview.catalogue", lang), f"{d.catalogue.title[lang]} ({d.catalogue.ref})"),
            (label("overview.method", lang), d.matrix.title[lang]),
            (label("overview.as_of", lang), self.today.isoformat()),
            (label("overview.school_count", lang), str(len(d.schools) + len(self._invalid_files()))),
        ]
        rows = "".join(f'<tr><th scope="row">{esc(k)}</th><td>{esc(v)}</td></tr>' for k, v in facts)
        conclusion = label("overview.conclusion", lang).format(
            needed=len(prior_consultation(d)), schools=len(d.schools), invalid=len(self._invalid_files())
        )
        return Block(
            f"<style>{FIGURE_CSS}</style><h1>{esc(title)}</h1>"
            f'<table class="facts"><tbody>{rows}</tbody></table><p class="conclusion">{esc(conclusion)}</p>',
            {"title": title, "lang": lang},
        )

    def heatmap(self, kind: Kind) -> Block:
        """Heading, explanation with the legend, the figure and the level table that is its text alternative."""
        lang = self.lang
        table = level_table(self.district, kind)
        head = [label("overview.school_id", lang), *self._codes.values()]
        rows = [
            [esc(school_id), *(_level_cell(level, self.district, lang) for level in levels)]
            for school_id, levels in zip(table.index, table.values.tolist())
        ]
        legend = "; ".join(
            f"{_level_code(level, lang)} = {_level_name(level, self.district, lang)}" for level in (*RISK_LEVELS, None)
        )
        return Block(
            f"<h2>{esc(label(f'overview.heatmap_{kind}', lang))}</h2>"
            f"<p>{esc(label(f'overview.heatmap_{kind}_text', lang))} {esc(label('summary.legend', lang))}: {esc(legend)}</p>"
            + _figure(level_heatmap(self.district, lang, kind), f"heatmap-{kind}-svg", label(f"overview.heatmap_{kind}_table", lang))
            + _table(label(f"overview.heatmap_{kind}_table", lang), head, rows, raw=True)
        )

    def risk_legend(self) -> Block:
        """R1..Rn with each risk's title and severity."""
        lang = self.lang
        rows = [
            [code, risk.title[lang], f"{risk.severity} {self.district.matrix.level_name(risk.severity, lang)}"]
            for risk, code in zip(self.district.catalogue.risks, self._codes.values())
        ]
        head = [label("overview.code", lang), label("overview.risk", lang), label("severity", lang)]
        return Block(_table(label("overview.risk_legend", lang), head, rows))

    def prior_consultation_section(self) -> Block:
        """The schools that must consult the supervisory authority, and for which risks."""
        lang = self.lang
        frame = prior_consultation(self.district)
        text = f"<h2>{esc(label('prior_consultation', lang))}</h2><p>{esc(label('overview.prior_consultation_text', lang))}</p>"
        if frame.empty:
            return Block(text + f"<p>{esc(label('overview.none_needed', lang))}</p>")
        rows = [
            [self._school_cell(row.school_id), "<br>".join(esc(self._risk_name(r)) for r in row.risks)]
            for row in frame.itertuples()
        ]
        head = [label("school", lang), label("overview.high_risks", lang)]
        return Block(text + _table(label("overview.prior_consultation_table", lang), head, rows, raw=True))

    def spread(self) -> Block:
        """Per risk, the schools' likelihood estimates counted per level, the median and the outliers by name."""
        lang = self.lang
        spread = likelihood_spread(self.district)
        head = [label("overview.code", lang), label("overview.assessed", lang),
                *(f"{i} {self.district.matrix.level_name(i, lang)}" for i in LEVELS),
                label("overview.median", lang), label("overview.outliers", lang)]
        rows = []
        for risk_id, row in spread.iterrows():
            outliers = "<br>".join(
                f"{esc(self._names[s])} ({v})" for s, v in sorted(row["outliers"].items(), key=lambda kv: (kv[1], kv[0]))
            )
            rows.append([
                esc(self._codes[risk_id]), str(row["assessed"]), *(str(row[f"likelihood_{i}"]) for i in LEVELS),
                esc(_number(row["median"])), outliers or "&ndash;",
            ])
        text = label("overview.spread_text", lang).format(distance=OUTLIER_DISTANCE)
        return Block(
            f"<h2>{esc(label('overview.spread_title', lang))}</h2><p>{esc(text)}</p>"
            + _figure(spread_figure(self.district, lang), "spread-svg", label("overview.spread_table", lang))
            + _table(label("overview.spread_table", lang), head, rows, raw=True)
        )

    def gaps(self) -> Block:
        """Invalid files, risks not assessed, overdue reviews."""
        lang = self.lang
        frame = assessment_gaps(self.district, self.problems, self.today, lang)
        text = f"<h2>{esc(label('overview.gaps_title', lang))}</h2><p>{esc(label('overview.gaps_text', lang))}</p>"
        if frame.empty:
            return Block(text + f"<p>{esc(label('overview.no_gaps', lang))}</p>")
        rows = []
        for row in frame.itertuples():
            if row.gap == "incomplete":
                detail = "<br>".join(esc(self._risk_name(r)) for r in row.detail)
            elif row.gap == "overdue":
                detail = esc(f"{label('next_review', lang)}: {row.detail.isoformat()}")
            else:
                detail = esc(row.detail)
            name = self._school_cell(row.school) if row.school in self._names else esc(row.school)
            rows.append([name, esc(label(f"overview.gap_{row.gap}", lang)), detail])
        head = [label("school", lang), label("overview.gap", lang), label("overview.detail", lang)]
        return Block(text + _table(label("overview.gaps_table", lang), head, rows, raw=True))

    def what_if_section(self) -> Block:
        """Per catalogue measure: schools left with a high residual risk if every school put it in place."""
        lang, cat = self.lang, self.district.catalogue
        frame = what_if(self.district)
        now = int(frame["high_now"].iloc[0]) if len(frame) else 0
        rows = [
            [cat.measure(measure_id).title[lang], ", ".join(self._codes[r] for r in risks), str(after), str(fewer)]
            for measure_id, risks, after, fewer in zip(frame.index, frame["risks"], frame["high_after"], frame["fewer"])
        ]
        text = label("overview.what_if_text", lang).format(now=now, schools=len(self.district.schools))
        head = [label("overview.measure", lang), label("overview.lowers", lang), label("overview.high_after", lang),
                label("overview.fewer", lang)]
        return Block(
            f"<h2>{esc(label('overview.what_if_title', lang))}</h2><p>{esc(text)}</p>"
            + _table(label("overview.what_if_table", lang), head, rows)
        )

    def links(self) -> Block:
        """Every school with its Art. 36 flag and relative links to its reports (no report for invalid files)."""
        lang = self.lang
        summary = self.district.summary(self.today)
        rows = []
        for school_id, name in self._names.items():
            links = " ".join(
                f'<a href="{esc(self._report_href(school_id, fmt))}">{esc(fmt.upper())}</a>' for fmt in self.report_formats
            )
            flag = label("yes" if summary.loc[school_id, "prior_consultation"] else "no", lang)
            rows.append([esc(name), esc(school_id), esc(flag), links])
        for school_id in self._invalid_files():
            rows.append([esc(school_id), esc(school_id), "&ndash;", esc(label("overview.no_report", lang))])
        head = [label("school", lang), label("overview.school_id", lang), label("summary.art36", lang),
                label("overview.reports", lang)]
        return Block(f"<h2>{esc(label('overview.links_title', lang))}</h2>"
                    + _table(label("overview.links_table", lang), head, rows, raw=True))

    def _invalid_files(self) -> list[str]:
        return sorted({Path(p.file).stem for p in self.problems})

    def _report_href(self, school_id: str, fmt: str) -> str:
        return f"{self.schools_folder}/{school_id}.{fmt}"

    def _school_cell(self, school_id: str) -> str:
        return f'{esc(self._names[school_id])} <span class="id">({esc(school_id)})</span>'

    def _risk_name(self, risk_id: str) -> str:
        return f"{self._codes[risk_id]} {self.district.catalogue.risk(risk_id).title[self.lang]}"


def load_overview(
    district_dir: str | Path, lang: Lang | None = None, *, today: str | date | None = None,
    report_formats: Sequence[str] = ("html", "pdf"),
) -> Overview:
    """Read the district (invalid school files become gaps, not errors) and prepare its overview.

    `lang` defaults to the district's, `today` (a date or YYYY-MM-DD) to today.
    """
    district, problems = read_district(district_dir)
    return Overview(district, problems, *lang_and_day(district, lang, today), tuple(report_formats))


def _number(value: float | None) -> str:
    if value is None or value != value:  # NaN: nobody assessed the risk
        return "–"
    return f"{value:g}"


def _relative(file: str, folder: Path) -> str:
    """A problem's file named relative to the district folder, wherever the folder was read from."""
    try:
        return Path(file).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return file


def _level_cell(level: str | None, district: District, lang: Lang) -> str:
    """The level's code, coloured by the report stylesheet's level classes, its name as a tooltip."""
    return level_chip(level, _level_code(level, lang), title=_level_name(level, district, lang))


def _figure(fig: go.Figure, ident: str, name: str) -> str:
    """The figure as inline SVG (drawn by the offline browser), an image named like the table below it, which
    is its text alternative."""
    from .staticfig import accessible_svg

    return f'<figure class="overview">{accessible_svg(fig, ident, name)}</figure>'


def _table(caption: str, head: Iterable[str], rows: Iterable[Sequence[str]], *, raw: bool = False) -> str:
    """An HTML table with a caption and column headers; cells are escaped unless `raw` (then already escaped)."""
    cell = (lambda v: v) if raw else esc
    header = "".join(f'<th scope="col">{esc(h)}</th>' for h in head)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><caption>{esc(caption)}</caption><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"
