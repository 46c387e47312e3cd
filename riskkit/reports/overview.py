"""The district overview: what a district's data-protection officer reads about all schools at once, at 12 schools or
at 5,000.

Tables are pandas frames computed from the district's data. `Overview` renders them, section by section, through the
autoescaping template `figures/templates/overview.html.j2` (captions, header cells, numbers and level names written
next to every colour) for `notebooks/district_overview.ipynb`. Up to `HEATMAP_MAX_SCHOOLS` schools a schools x risks
figure shows every level; beyond, the overview counts (per risk, per school kind, per DSFA step) and lists only what
needs action, ranked and complete. The full tables go beside it as CSV (`write_tables`), linked from the header.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from markupsafe import Markup

from ..model.assessment import assess_risk
from ..model.catalogue import Measure
from ..model.district import District, read_district
from ..model.errors import Problem
from ..model.i18n import Lang, date_text, label
from ..model.method import LEVELS, RISK_LEVELS
from ..model.status import STEPS
from ..model.yamlio import write_atomic
from ..figures.cells import neutralise
from ..figures.plots import INK, LEVEL_FILL, LEVEL_TEXT, RESIDUAL_FILL
from ..figures.markup import Block, macro, plotly_text, risk_numbers
from .schoolview import lang_and_day
from .staticfig import Parts, PlotlyFigure

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

Kind = Literal["residual", "inherent"]
TEMPLATE = "overview.html.j2"
NA = "na"  # a risk whose modules the school has switched off: not applicable, counted apart, never open
CELL_STATES = (*RISK_LEVELS, None, NA)  # every state of a school's risk: its level, open (None), not applicable
OPEN_FILL = "#f0f0f0"
NA_FILL = "#ffffff"
FIGURE_CSS = (
    "figure.overview{margin:0.5em 0 1em} figure.overview svg{display:block;width:100%;height:auto}"
    ".level-na{background:#fff;color:#1a1a1a;border-style:dotted} .id{color:#3d3d3d}"
    " td.num,th.num{text-align:right}"
)
_TILE = 26  # pixels per level tile in the schools x risks figure
_NAME_CHARS = 40  # a school name on the figure's axis is cut to this length (the table below gives it in full)
# A schools x risks figure stays legible up to this many schools: 60 rows of 30 px are ~1,950 px, two printed pages,
# and its text table 60 rows. Beyond it rows can no longer be compared by eye and each school adds ~7 KB of SVG per
# figure (26.6 MB at 4,000 schools), so the overview counts per risk, per kind and per step instead.
HEATMAP_MAX_SCHOOLS = 60
# An estimate this many levels or more away from the median of the district's schools is named as an outlier.
OUTLIER_DISTANCE = 2
TABLES = {"results": "overview-results.csv", "schools": "overview-schools.csv"}  # written beside overview.html


def level_table(district: District, kind: Kind = "residual") -> pd.DataFrame:
    """Schools (rows, by id) x risks (columns, by id): 'low', 'medium', 'high', None where not assessed (open), or
    'na' where the school does not use the risk's modules (not applicable)."""
    import pandas as pd

    rows = [[getattr(r, f"{kind}_level") if r.applicable else NA for r in district.evaluate(school_id)]
            for school_id in district.schools]
    columns = [risk.id for risk in district.catalogue.risks]
    frame = pd.DataFrame(rows, index=list(district.schools), columns=columns, dtype=object)
    frame.index.name = "school_id"
    return frame


def level_counts(district: District, kind: Kind = "residual") -> pd.DataFrame:
    """Per risk (rows, catalogue order): how many schools are at each level, open, and not applicable (apart)."""
    import pandas as pd

    columns = [*RISK_LEVELS, "open", NA]
    counts = {risk.id: dict.fromkeys(columns, 0) for risk in district.catalogue.risks}
    for school_id in district.schools:
        for r in district.evaluate(school_id):
            state = NA if not r.applicable else getattr(r, f"{kind}_level") or "open"
            counts[r.risk.id][state] += 1
    frame = pd.DataFrame.from_dict(counts, orient="index", columns=columns)
    frame.index.name = "risk_id"
    return frame


def prior_consultation(district: District) -> pd.DataFrame:
    """Schools with a high residual risk (Art. 36(1)) and those risks, ranked: running processing first (consult
    now), then by the number of high risks, then by id. `operation` is running, planned or None (not described)."""
    import pandas as pd

    rows = []
    for school_id, assessment in district.schools.items():
        risks = [r.risk.id for r in district.evaluate(school_id) if r.prior_consultation]
        if risks:
            platform = assessment.platform
            rows.append({
                "school_id": school_id, "school_name": assessment.school.name, "risks": risks,
                "operation": platform.operation if platform else None,
                "running_since": platform.running_since if platform else None,
            })
    frame = pd.DataFrame(rows, columns=["school_id", "school_name", "risks", "operation", "running_since"])
    if frame.empty:
        return frame
    order = sorted(range(len(frame)), key=lambda i: (
        frame["operation"].iloc[i] != "running", -len(frame["risks"].iloc[i]), frame["school_id"].iloc[i]))
    return frame.iloc[order].reset_index(drop=True)


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


def outlier_list(spread: pd.DataFrame) -> pd.DataFrame:
    """Every outlier estimate of `likelihood_spread`, ranked: farthest from the median first, then risk, then school."""
    import pandas as pd

    position = {risk_id: i for i, risk_id in enumerate(spread.index)}
    rows = [
        {"school_id": school_id, "risk_id": risk_id, "likelihood": value, "median": row["median"],
         "distance": abs(value - row["median"])}
        for risk_id, row in spread.iterrows() for school_id, value in row["outliers"].items()
    ]
    rows.sort(key=lambda r: (-r["distance"], position[r["risk_id"]], r["school_id"]))
    return pd.DataFrame(rows, columns=["school_id", "risk_id", "likelihood", "median", "distance"])


def assessment_gaps(district: District, problems: Sequence[Problem], today: date, lang: Lang = "de") -> pd.DataFrame:
    """Assessments that cannot be used (invalid files), are incomplete (open risks) or overdue for review.

    Not-applicable risks are not gaps."""
    import pandas as pd

    rows = [
        {"school": Path(p.file).stem, "gap": "invalid", "detail": replace(p, file=_relative(p.file, district.path)).text(lang)}
        for p in problems
    ]
    for school_id in district.schools:
        open_risks = [r.risk.id for r in district.evaluate(school_id) if r.open]
        if open_risks:
            rows.append({"school": school_id, "gap": "incomplete", "detail": open_risks})
        due = district.next_review(school_id)
        if due < today:
            rows.append({"school": school_id, "gap": "overdue", "detail": due})
    return pd.DataFrame(rows, columns=["school", "gap", "detail"])


def ranked_gaps(gaps: pd.DataFrame) -> pd.DataFrame:
    """The gaps in the order to work on them: invalid files, then overdue reviews (longest overdue first), then
    incomplete assessments (most risks open first); ties by school id."""
    def key(i: int) -> tuple:
        gap, detail, school = gaps["gap"].iloc[i], gaps["detail"].iloc[i], gaps["school"].iloc[i]
        if gap == "invalid":
            return (0, "", school)
        if gap == "overdue":
            return (1, detail.isoformat(), school)
        return (2, -len(detail), school)

    return gaps.iloc[sorted(range(len(gaps)), key=key)].reset_index(drop=True)


def status_counts(summary: pd.DataFrame) -> dict[str, int]:
    """How many schools have reached each DSFA step (draft, complete, advised, decided)."""
    counts = summary["status"].value_counts()
    return {step: int(counts.get(step, 0)) for step in STEPS}


def kind_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per school kind: schools, those needing prior consultation, with an overdue review, with open risks, the risks
    open and not applicable (counted apart), and the schools at each DSFA step."""
    import pandas as pd

    columns = ["schools", "prior_consultation", "review_overdue", "with_open_risks", "risks_open",
               "risks_not_applicable", *STEPS]
    if summary.empty:
        return pd.DataFrame(columns=columns, dtype=int).rename_axis("school_kind")
    grouped = summary.groupby("school_kind", sort=True, observed=True)
    frame = pd.DataFrame({
        "schools": grouped.size(),
        "prior_consultation": grouped["prior_consultation"].sum(),
        "review_overdue": grouped["review_overdue"].sum(),
        "with_open_risks": grouped["open"].apply(lambda s: int((s > 0).sum())),
        "risks_open": grouped["open"].sum(),
        "risks_not_applicable": grouped["not_applicable"].sum(),
        **{step: grouped["status"].apply(lambda s, step=step: int((s == step).sum())) for step in STEPS},
    }).astype(int)
    frame.index.name = "school_kind"
    return frame


def what_if(district: District) -> pd.DataFrame:
    """Per catalogue measure: schools that would still have a high residual risk if every school put it in place.

    Only the risks the measure lowers change; residual values the controller set stay as the school set them.
    """
    import pandas as pd

    cat, matrix = district.catalogue, district.matrix
    # A measure only lowers risks, so only the risks high today can change the count: per school, its high risks.
    high = {school_id: [r for r in district.evaluate(school_id) if r.prior_consultation] for school_id in district.schools}
    high = {school_id: risks for school_id, risks in high.items() if risks}

    def still_high(r: object, school_id: str, measure: Measure) -> bool:
        entry = r.entry
        if measure.id in entry.measure_ids or not measure.effect_on(r.risk.id):
            return True
        entry = entry.model_copy(update={"measures_in_place": [*entry.measures_in_place, measure.id]})
        return assess_risk(r.risk, entry, cat, matrix, district.school(school_id)).prior_consultation

    def schools_high(measure: Measure | None) -> int:
        if measure is None:
            return len(high)
        return sum(any(still_high(r, school_id, measure) for r in risks) for school_id, risks in high.items())

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


def write_tables(district: District, folder: str | Path, today: date | None = None,
                 summary: pd.DataFrame | None = None, results: pd.DataFrame | None = None) -> dict[str, Path]:
    """The overview's full tables as CSV beside it (UTF-8 with BOM, comma, formula-like text neutralised), written
    atomically and only when changed: one row per school and risk (`District.results()`), one row per school
    (`District.summary()`)."""
    results = district.results(today) if results is None else results
    summary = district.summary(today) if summary is None else summary
    written = {}
    for name, frame in (("results", results), ("schools", summary.reset_index())):
        path, text = Path(folder) / TABLES[name], _csv_text(frame)
        if not (path.is_file() and path.read_bytes() == text.encode("utf-8")):  # an unchanged table keeps its date
            write_atomic(path, text)
        written[name] = path
    return written


def _csv_text(frame: pd.DataFrame) -> str:
    """A frame as spreadsheet-safe CSV: lists joined with ', ', booleans true/false, text neutralised."""
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == bool:
            out[column] = out[column].map({True: "true", False: "false"})
        elif not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = pd.Series([_cell(v) for v in out[column]], index=out.index, dtype=object)
    return "\ufeff" + out.to_csv(index=False, lineterminator="\r\n")


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        value = ", ".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return neutralise(value) if isinstance(value, str) else value


# --- figures -----------------------------------------------------------------------------------------------------


def level_heatmap(district: District, lang: Lang, kind: Kind = "residual") -> go.Figure:
    """Schools x risks as tiles filled by level, each carrying the level's code (colour never stands alone).

    Rows are school ids (equal display names stay separate rows); tick labels are names cut short and escaped for
    plotly, with the id. Tiles are square markers, so the SVG stays vector (plotly draws heatmaps as bitmaps).
    """
    import plotly.graph_objects as go

    table = level_table(district, kind)
    codes = risk_numbers(district.catalogue.risks)
    ids = list(table.index)
    fig = go.Figure()
    for state in CELL_STATES:
        cells = [
            (codes[risk_id], school_id)
            for school_id, row in zip(ids, table.values.tolist())
            for risk_id, value in zip(table.columns, row)
            if value == state
        ]
        fill, ink = _fill(state)
        fig.add_trace(go.Scatter(
            x=[x for x, _ in cells], y=[y for _, y in cells], mode="markers+text",
            text=[plotly_text(_level_code(state, lang))] * len(cells), textfont=dict(color=ink, size=12),
            marker=dict(symbol="square", size=_TILE, color=fill, line=dict(color=INK, width=0.5)),
            name=plotly_text(f"{_level_code(state, lang)} = {_level_name(state, district, lang)}"),
            hoverinfo="skip", cliponaxis=False, showlegend=bool(cells) or state in RISK_LEVELS,
        ))
    ticks = [plotly_text(f"{_short(district.schools[i].school.name)} ({i})") for i in ids]
    fig.update_layout(
        title=dict(text=plotly_text(label(f"overview.heatmap_{kind}", lang))),
        width=900, height=130 + (_TILE + 4) * len(ids),
        margin=dict(l=20, r=20, t=70, b=50),
        xaxis=dict(side="top", type="category", categoryorder="array", categoryarray=list(codes.values()),
                   showgrid=False, zeroline=False, fixedrange=True, color=INK),
        yaxis=dict(type="category", categoryorder="array", categoryarray=ids[::-1], tickmode="array",
                   tickvals=ids, ticktext=ticks, automargin=True, showgrid=False, zeroline=False, fixedrange=True,
                   color=INK),
        **_LAYOUT,
        legend=dict(orientation="h", yanchor="top", y=-0.02, x=0),
    )
    return fig


def level_bars(district: District, lang: Lang, kind: Kind = "residual") -> go.Figure:
    """Per risk one bar of all schools, split by level, open and not applicable; each part's count written in it and
    each level also told apart by a pattern (colour never stands alone)."""
    import plotly.graph_objects as go

    counts = level_counts(district, kind)
    codes = risk_numbers(district.catalogue.risks)
    y = [codes[r] for r in counts.index]
    patterns = {"high": "x", "medium": "/", "low": "", None: ".", NA: ""}
    fig = go.Figure()
    for state, column in zip(CELL_STATES, [*RISK_LEVELS, "open", NA]):
        values = counts[column].tolist()
        fill, ink = _fill(state)
        fig.add_trace(go.Bar(
            x=values, y=y, orientation="h", text=[str(v) if v else "" for v in values], textposition="inside",
            insidetextanchor="middle", textfont=dict(color=ink, size=11), constraintext="none",
            marker=dict(color=fill, line=dict(color=INK, width=0.5),
                        pattern=dict(shape=patterns[state], fgcolor=ink, fgopacity=0.25, size=6)),
            name=plotly_text(f"{_level_code(state, lang)} = {_level_name(state, district, lang)}"), hoverinfo="skip",
        ))
    fig.update_layout(
        title=dict(text=plotly_text(label(f"overview.bars_{kind}", lang))), barmode="stack",
        width=900, height=170 + 34 * len(y), margin=dict(l=20, r=20, t=60, b=60),
        xaxis=dict(title=dict(text=plotly_text(label("overview.schools_count", lang))), fixedrange=True, color=INK,
                   gridcolor="#d9d9d9", range=[0, max(len(district.schools), 1)]),
        yaxis=dict(type="category", categoryorder="array", categoryarray=y[::-1], automargin=True, fixedrange=True,
                   color=INK),
        **_LAYOUT,
        legend=dict(orientation="h", yanchor="top", y=-0.1, x=0),
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
            name=plotly_text(label("overview.median", lang)), hoverinfo="skip",
        ),
        go.Scatter(
            x=xs, y=ys, mode="markers+text", text=[str(c) for c in counts], textposition="middle right",
            marker=dict(size=[8 + 16 * c / largest for c in counts], color=RESIDUAL_FILL),
            name=plotly_text(label("overview.schools_per_level", lang)), hoverinfo="skip",
        ),
    ])
    ticks = [plotly_text(f"{i} {district.matrix.level_name(i, lang)}") for i in LEVELS]
    fig.update_layout(
        title=dict(text=plotly_text(label("overview.spread_title", lang))),
        width=900, height=160 + 30 * len(spread),
        margin=dict(l=20, r=20, t=60, b=60),
        xaxis=dict(title=dict(text=plotly_text(label("likelihood", lang))), tickmode="array", tickvals=list(LEVELS),
                   ticktext=ticks, range=[0.5, 4.7], fixedrange=True, color=INK, gridcolor="#d9d9d9"),
        yaxis=dict(autorange="reversed", automargin=True, fixedrange=True, color=INK, gridcolor="#d9d9d9"),
        **_LAYOUT,
        legend=dict(orientation="h", yanchor="top", y=-0.08, x=0),
    )
    return fig


_LAYOUT = dict(plot_bgcolor="#ffffff", paper_bgcolor="#ffffff", font=dict(family="DejaVu Sans, Arial, sans-serif", color=INK))


def _fill(state: str | None) -> tuple[str, str]:
    if state in LEVEL_FILL:
        return LEVEL_FILL[state], LEVEL_TEXT[state]
    return (NA_FILL if state == NA else OPEN_FILL), INK


def _short(name: str) -> str:
    return name if len(name) <= _NAME_CHARS else name[: _NAME_CHARS - 1] + "…"


def _level_code(state: str | None, lang: Lang) -> str:
    return label(f"code.{state or 'open'}", lang)


def _level_name(state: str | None, district: District, lang: Lang) -> str:
    if state == NA:
        return label("not_applicable", lang)
    return district.matrix.risk_level_name(state, lang) if state else label("open", lang)


# --- the overview's sections -------------------------------------------------------------------------------------


@dataclass
class Overview:
    """What the overview notebook shows, section by section, as escaped HTML from the district's data."""

    district: District
    problems: list[Problem]
    lang: Lang
    today: date
    report_formats: Sequence[str] = ("html", "pdf")
    schools_folder: str = "schools"

    @cached_property
    def names(self) -> dict[str, str]:
        return {school_id: a.school.name for school_id, a in self.district.schools.items()}

    @cached_property
    def codes(self) -> dict[str, str]:
        return risk_numbers(self.district.catalogue.risks)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """`District.summary()` as of the overview's day (status and blockers per school)."""
        return self.district.summary(self.today)

    @cached_property
    def large(self) -> bool:
        """Too many schools for a schools x risks figure: counts and ranked lists instead."""
        return len(self.district.schools) > HEATMAP_MAX_SCHOOLS

    @cached_property
    def invalid_files(self) -> list[str]:
        return sorted({Path(p.file).stem for p in self.problems})

    @cached_property
    def prior(self) -> pd.DataFrame:
        return prior_consultation(self.district)

    # -- helpers for the template (text; the template escapes it) --------------------------------------------
    def t(self, key: str, **values: object) -> str:
        text = label(f"overview.{key}", self.lang)
        return text.format(**values) if values else text

    heatmap_max = HEATMAP_MAX_SCHOOLS
    tables = TABLES

    def risk_name(self, risk_id: str) -> str:
        return f"{self.codes[risk_id]} {self.district.catalogue.risk(risk_id).title[self.lang]}"

    def risk_names(self, risk_ids: Sequence[str]) -> list[str]:
        return [self.risk_name(r) for r in risk_ids]

    def risk_refs(self, risk_ids: Sequence[str]) -> list[str]:
        """Risks as code and title; beyond HEATMAP_MAX_SCHOOLS as codes only (the legend names them), on one line."""
        return [", ".join(self.codes[r] for r in risk_ids)] if self.large else self.risk_names(risk_ids)

    def blockers(self, school_id: str) -> str:
        """What blocks the school's next step, in the overview's language."""
        if self.lang == self.district.config.language:
            return self.summary.loc[school_id, "blockers"]
        return self.district.status(school_id).blockers_text(self.lang)

    def blocker_groups(self) -> list[tuple[str, str, list[str]]]:
        """(step, what blocks the next one, the schools' ids) for every school: by step, then the most schools first."""
        groups: dict[tuple[str, str], list[str]] = {}
        for school_id, step in self.summary["status"].items():
            groups.setdefault((step, self.blockers(school_id)), []).append(school_id)
        order = {step: i for i, step in enumerate(STEPS)}
        return [(step, text, ids) for (step, text), ids in
                sorted(groups.items(), key=lambda kv: (order[kv[0][0]], -len(kv[1]), kv[0][1]))]

    def outlier_groups(self, outliers: pd.DataFrame) -> list[tuple[str, int, float, float, list[str]]]:
        """The ranked outliers with the same risk and estimate in one row: (risk, estimate, median, distance, ids)."""
        groups: dict[tuple, list[str]] = {}
        for row in outliers.itertuples():
            groups.setdefault((row.risk_id, row.likelihood, row.median, row.distance), []).append(row.school_id)
        return [(*key, ids) for key, ids in groups.items()]

    def outlier_names(self, outliers: dict[str, int]) -> list[str]:
        """`name (estimate)` of each outlier, lowest estimate first."""
        return [f"{self.names[s]} ({v})" for s, v in sorted(outliers.items(), key=lambda kv: (kv[1], kv[0]))]

    def step_names(self, steps: Sequence[str]) -> list[str]:
        return [label(f"status.{step}", self.lang) for step in steps]

    def state_names(self) -> list[str]:
        """Column heads of the counts per risk: each level, open, not applicable."""
        return [f"{self.state_code(s)} = {self.state_name(s)}" for s in CELL_STATES]

    def state_code(self, state: str | None) -> str:
        return _level_code(state, self.lang)

    def state_name(self, state: str | None) -> str:
        return _level_name(state, self.district, self.lang)

    def kind_name(self, kind: str) -> str:
        return self.district.config.kind_name(kind, self.lang)

    def number(self, value: float | None) -> str:
        return number(value)

    def report_href(self, school_id: str, fmt: str) -> str:
        return f"{self.schools_folder}/{school_id}.{fmt}"

    def _block(self, name: str, *args: Any, meta: dict[str, str] | None = None) -> Block:
        return Block(macro(TEMPLATE, name, self, *args), meta)

    # -- blocks ----------------------------------------------------------------------------------------------
    def header(self) -> Block:
        """Title, district facts, the conclusion in one sentence and the links to the full tables beside it."""
        d, lang = self.district, self.lang
        title = f"{label('overview.title', lang)}: {d.config.name}"
        facts = [
            (label("overview.district", lang), d.config.name),
            (label("overview.dpo", lang), d.config.dpo.name + (f" ({d.config.dpo.email})" if d.config.dpo.email else "")),
            (label("overview.catalogue", lang), f"{d.catalogue.title[lang]} ({d.catalogue.ref})"),
            (label("overview.method", lang), d.matrix.title[lang]),
            (label("overview.as_of", lang), date_text(self.today, lang)),
            (label("overview.school_count", lang), str(len(d.schools) + len(self.invalid_files))),
        ]
        conclusion = self.t("conclusion", needed=len(self.prior), schools=len(d.schools),
                            invalid=len(self.invalid_files))
        return self._block("header", Markup(f"<style>{FIGURE_CSS}</style>"), title, facts, conclusion, TABLES,
                           meta={"title": title, "lang": lang})

    def status(self) -> Block:
        """How many schools are at each DSFA step, and the same per school kind with the risks open and not
        applicable counted apart."""
        return self._block("status", status_counts(self.summary), kind_table(self.summary), STEPS)

    def heatmap(self, kind: Kind) -> Block | Parts:
        """Up to HEATMAP_MAX_SCHOOLS schools: the schools x risks figure and its level table; beyond: per risk, the
        schools at each level (a stacked bar for the residual risk) and the table of counts."""
        if self.large:
            counts = level_counts(self.district, kind)
            figure = _figure(level_bars(self.district, self.lang, kind), f"bars-{kind}",
                             label(f"overview.counts_{kind}_table", self.lang)) if kind == "residual" else None
            return _with_figure(self._block("counts", kind, counts, figure and FIGURE_HERE), figure)
        table = level_table(self.district, kind)
        figure = _figure(level_heatmap(self.district, self.lang, kind), f"heatmap-{kind}",
                         label(f"overview.heatmap_{kind}_table", self.lang))
        rows = list(zip(table.index, table.values.tolist()))
        return _with_figure(self._block("heatmap", kind, rows, CELL_STATES, FIGURE_HERE), figure)

    def risk_legend(self) -> Block:
        """R1..Rn with each risk's title and severity."""
        matrix = self.district.matrix
        rows = [(code, risk.title[self.lang], f"{risk.severity} {matrix.level_name(risk.severity, self.lang)}")
                for risk, code in zip(self.district.catalogue.risks, self.codes.values())]
        return self._block("risk_legend", rows)

    def prior_consultation_section(self) -> Block:
        """The schools that must consult the supervisory authority and for which risks; running processing first."""
        return self._block("prior_consultation", self.prior)

    def spread(self) -> Block | Parts:
        """Per risk, the schools' likelihood estimates counted per level and the median; the outliers by name (up to
        HEATMAP_MAX_SCHOOLS schools in the table, beyond in a ranked list of their own)."""
        spread = likelihood_spread(self.district)
        figure = _figure(spread_figure(self.district, self.lang), "spread", label("overview.spread_table", self.lang))
        levels = [(i, f"{i} {self.district.matrix.level_name(i, self.lang)}") for i in LEVELS]
        outliers = outlier_list(spread)
        return _with_figure(self._block("spread", spread, levels, FIGURE_HERE, outliers, OUTLIER_DISTANCE), figure)

    def gaps(self) -> Block:
        """Invalid files, risks not assessed, overdue reviews, ranked."""
        return self._block("gaps", ranked_gaps(assessment_gaps(self.district, self.problems, self.today, self.lang)))

    def what_if_section(self) -> Block:
        """Per catalogue measure: schools left with a high residual risk if every school put it in place."""
        frame = what_if(self.district)
        now = int(frame["high_now"].iloc[0]) if len(frame) else 0
        cat = self.district.catalogue
        rows = [(cat.measure(m).title[self.lang], ", ".join(self.codes[r] for r in risks), after, fewer)
                for m, risks, after, fewer in zip(frame.index, frame["risks"], frame["high_after"], frame["fewer"])]
        return self._block("what_if", rows, self.t("what_if_text", now=now, schools=len(self.district.schools)))

    def links(self) -> Block:
        """Every school: its DSFA step and what blocks the next one, its Art. 36 flag, relative links to its reports
        (no report for invalid files)."""
        return self._block("links", self.summary, self.invalid_files)


def load_overview(
    district_dir: str | Path, lang: Lang | None = None, *, today: str | date | None = None,
    report_formats: Sequence[str] = ("html", "pdf"),
) -> Overview:
    """Read the district (invalid school files become gaps, not errors) and prepare its overview.

    `lang` defaults to the district's, `today` (a date or YYYY-MM-DD) to today.
    """
    district, problems = read_district(district_dir)
    return Overview(district, problems, *lang_and_day(district, lang, today), tuple(report_formats))


def number(value: float | None) -> str:
    """A median or distance as written in the tables: `2`, `2.5`, or a dash when nobody assessed the risk."""
    if value is None or value != value:  # NaN: nobody assessed the risk
        return "–"
    return f"{value:g}"


def _relative(file: str, folder: Path) -> str:
    """A problem's file named relative to the district folder, wherever the folder was read from."""
    try:
        return Path(file).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return file


FIGURE_HERE = Markup("<!--riskkit-figure-->")


def _figure(fig: go.Figure, ident: str, name: str) -> PlotlyFigure:
    """The figure as a plotly output (drawn as static SVG on export), an image named like the table that is its text
    alternative; `_with_figure` puts it where a template wrote `FIGURE_HERE`."""
    return PlotlyFigure(fig, name, css_class="overview", ident=ident)


def _with_figure(block: Block, figure: PlotlyFigure | None) -> Block | Parts:
    """A rendered section with its figure as an output of its own at the template's `FIGURE_HERE` mark."""
    html = str(block.html)
    if figure is None or FIGURE_HERE not in html:
        return Block(Markup(html.replace(FIGURE_HERE, "")), block.meta)
    before, after = html.split(FIGURE_HERE, 1)
    return Parts(Block(Markup(before), block.meta), figure, Block(Markup(after)))

