"""Plotly figures: the risk matrix (likelihood x severity) with every risk at its inherent and residual position.

Every text given to plotly (titles, names, ticks, cell and hover texts) goes through `markup.plotly_text`: plotly
reads its own tags (`<br>`, `<a href>`, ...) in them, and a catalogue or matrix file is user text."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import plotly.graph_objects as go

from ..model.assessment import RiskResult
from ..model.i18n import Lang, label
from ..model.method import LEVELS, Matrix
from .markup import plotly_lines, plotly_text, risk_numbers

# Colour-blind-safe fills that differ strongly in lightness; text colours keep >= 4.5:1 contrast on each fill.
LEVEL_FILL = {"low": "#deebf7", "medium": "#fdae61", "high": "#b2182b"}
LEVEL_TEXT = {"low": "#08306b", "medium": "#3b1f00", "high": "#ffffff"}
INK = "#1a1a1a"
RESIDUAL_FILL = "#08306b"
# plotly.js options for every exported or shown figure: no cloud, no links out.
PLOT_CONFIG = {
    "displaylogo": False,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "showLink": False,
    "responsive": True,
}
# The part of a cell (in axis units) where markers go, below the level name, and its size in pixels per unit.
_CELL_X, _CELL_Y, _TOP = 0.84, 0.72, 0.27
_PX_X, _PX_Y = 147, 112
_HEAD = 11  # arrow head size in pixels
# What risk_points' traces change with the results (plotly.js property paths); the rest is fixed per trace.
LIVE_PROPERTIES = ("x", "y", "text", "textfont.size", "marker.size", "hovertext")


def risk_matrix_figure(results: Sequence[RiskResult], matrix: Matrix, lang: Lang, title: str | None = None) -> go.Figure:
    """The 4x4 matrix coloured and labelled by risk level, each assessed risk placed and its move linked by an arrow."""
    fig = go.Figure(layout=matrix_layout(matrix, lang, title))
    fig.add_traces(risk_points(results, matrix, lang))
    return fig


def matrix_layout(matrix: Matrix, lang: Lang, title: str | None = None, cells: bool = True) -> go.Layout:
    """Axes, coloured cells and the level written in each cell (colour never carries the level alone); with
    `cells=False` the axes only, for a figure that draws its cells as traces."""
    shapes, notes = [], []
    for s in LEVELS if cells else ():
        for l in LEVELS:
            level = matrix.classify(l, s)
            shapes.append(dict(
                type="rect", xref="x", yref="y", x0=l - 0.5, x1=l + 0.5, y0=s - 0.5, y1=s + 0.5,
                fillcolor=LEVEL_FILL[level], line=dict(color="#ffffff", width=2), layer="below",
            ))
            notes.append(dict(
                x=l, y=s + 0.44, xref="x", yref="y", showarrow=False, yanchor="top",
                text=plotly_text(matrix.risk_level_name(level, lang)), font=dict(size=11, color=LEVEL_TEXT[level]),
            ))
    ticks = [plotly_text(f"{i} {matrix.level_name(i, lang)}") for i in LEVELS]
    axis = dict(tickmode="array", tickvals=list(LEVELS), ticktext=ticks, range=[0.5, 4.5],
                showgrid=False, zeroline=False, fixedrange=True, color=INK)
    return go.Layout(
        title=dict(text=plotly_text(title or label("plot.title", lang))),
        xaxis={**axis, "title": {"text": plotly_text(label("likelihood", lang))}},
        yaxis={**axis, "title": {"text": plotly_text(label("severity", lang))}},
        shapes=shapes,
        annotations=notes,
        width=720, height=620,
        margin=dict(l=110, r=20, t=60, b=110),
        plot_bgcolor="#ffffff", paper_bgcolor="#ffffff",
        font=dict(family="DejaVu Sans, Arial, sans-serif", color=INK),
        legend=dict(orientation="h", yanchor="top", y=-0.16, x=0),
        hovermode="closest",
    )


def cell_traces(matrix: Matrix, lang: Lang) -> list[dict]:
    """The coloured cells (one filled scatter trace per level) and the level written in each (a text trace), as
    plotly.js dicts for a live figure to draw under the risk traces. Traces, not layout shapes and annotations, which
    plotly.js redraws and re-checks on every marker move; scatter, not a heatmap, which plotly.js drops when markers
    move without a full redraw."""
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
                          name=matrix.risk_level_name(level, lang)))
    names = dict(
        type="scatter", x=[l for l, _ in grid], y=[s + 0.44 for _, s in grid], mode="text",
        textposition="bottom center", text=[matrix.risk_level_name(level, lang) for level in grid.values()],
        textfont=dict(size=11, color=[LEVEL_TEXT[level] for level in grid.values()]),
        hoverinfo="skip", showlegend=False, name="levels",
    )
    return [*cells, names]


def risk_points(results: Sequence[RiskResult], matrix: Matrix, lang: Lang) -> list[dict]:
    """Four scatter traces as plotly.js dicts, always in this order: the arrows from inherent to residual position,
    then the markers (inherent: white squares, residual: dark circles, unchanged: dark diamonds). Plain dicts, so a
    live figure can restyle with them without plotly.py's validation; arrows are a trace, not layout annotations, so
    a live figure redraws them as fast as the markers. `LIVE_PROPERTIES` are the parts that follow the results."""
    numbers = risk_numbers(r.risk for r in results)
    assessed = [r for r in results if r.assessed]
    points: dict[str, list[tuple[str, RiskResult, tuple[int, int]]]] = {"inherent": [], "residual": [], "unchanged": []}
    for r in assessed:
        start, end = (r.likelihood, r.severity), (r.residual_likelihood, r.residual_severity)
        if start == end:
            points["unchanged"].append(("unchanged", r, start))
        else:
            points["inherent"].append(("inherent", r, start))
            points["residual"].append(("residual", r, end))
    # Catalogue order inside every cell, so a risk sits at a similar spot in its inherent and residual cell and
    # the arrows run roughly parallel instead of crossing.
    order = {r.risk.id: i for i, r in enumerate(results)}
    positions = _spread(sorted((p for group in points.values() for p in group), key=lambda p: order[p[1].risk.id]))
    styles = {
        "inherent": dict(symbol="square", color="#ffffff", line=dict(color=INK, width=2), text=INK),
        "residual": dict(symbol="circle", color=RESIDUAL_FILL, line=dict(color="#ffffff", width=1.5), text="#ffffff"),
        "unchanged": dict(symbol="diamond", color=RESIDUAL_FILL, line=dict(color="#ffffff", width=1.5), text="#ffffff"),
    }
    links = [(positions[("inherent", r.risk.id)], positions[("residual", r.risk.id)]) for _, r, _ in points["residual"]]
    traces = [_arrows(links, plotly_text(label("plot.link", lang)))]
    for kind, group in points.items():
        style = styles[kind]
        traces.append(dict(
            type="scatter",
            name=plotly_text(label(f"plot.{kind}", lang)),
            x=[positions[(kind, r.risk.id)][0] for _, r, _ in group],
            y=[positions[(kind, r.risk.id)][1] for _, r, _ in group],
            mode="markers+text",
            text=[numbers[r.risk.id] for _, r, _ in group],
            textfont=dict(color=style["text"], size=[_font(positions[(kind, r.risk.id)][2]) for _, r, _ in group]),
            # opacity 1: plotly fades markers whose sizes are an array to 0.7, which lowers the text contrast
            marker=dict(symbol=style["symbol"], size=[positions[(kind, r.risk.id)][2] for _, r, _ in group],
                        color=style["color"], line=style["line"], opacity=1),
            hovertext=[_hover(r, kind, matrix, lang) for _, r, _ in group],
            hoverinfo="text",
            showlegend=True,
            visible=True if group else "legendonly",
        ))
    return traces


def _arrows(links: list[tuple[tuple[float, float, int], tuple[float, float, int]]], name: str) -> dict:
    """One line per link with an arrow head, both ends stopped short of the markers they join."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for (x0, y0, size0), (x1, y1, size1) in links:
        dx, dy = (x1 - x0) * _PX_X, (y1 - y0) * _PX_Y  # in pixels, where marker sizes are measured
        length = math.hypot(dx, dy) or 1.0
        start, end = size0 / 2 + 2, size1 / 2 + _HEAD / 2 + 1
        xs += [x0 + dx * start / length / _PX_X, x1 - dx * end / length / _PX_X, None]
        ys += [y0 + dy * start / length / _PX_Y, y1 - dy * end / length / _PX_Y, None]
    return dict(
        type="scatter", name=name, x=xs, y=ys, mode="lines+markers", hoverinfo="skip", showlegend=False,
        line=dict(color=INK, width=1.5),
        marker=dict(symbol="arrow", angleref="previous", color=INK, size=[0, _HEAD, 0] * len(links), opacity=1),
    )


def _spread(points: list[tuple[str, RiskResult, tuple[int, int]]]) -> dict[tuple[str, str], tuple[float, float, int]]:
    """Place the markers sharing a cell on a small grid inside it (x, y, marker size), so 10+ per cell stay legible."""
    by_cell = defaultdict(list)
    for kind, r, cell in points:
        by_cell[cell].append((kind, r.risk.id))
    positions = {}
    for (l, s), members in by_cell.items():
        columns = math.ceil(math.sqrt(len(members) * 1.5))
        rows = math.ceil(len(members) / columns)
        step_x, step_y = _CELL_X / columns, _CELL_Y / rows
        size = int(max(14, min(26, step_x * _PX_X - 4, step_y * _PX_Y - 3)))
        for i, key in enumerate(members):
            row, col = divmod(i, columns)
            positions[key] = (l - _CELL_X / 2 + step_x * (col + 0.5), s + _TOP - step_y * (row + 0.5), size)
    return positions


def _font(marker_size: int) -> int:
    return 10 if marker_size >= 22 else 9 if marker_size >= 18 else 8


def _hover(r: RiskResult, kind: str, matrix: Matrix, lang: Lang) -> str:
    level = r.inherent_level if kind == "inherent" else r.residual_level
    l, s = (r.likelihood, r.severity) if kind == "inherent" else (r.residual_likelihood, r.residual_severity)
    return plotly_lines(
        r.risk.title[lang], f"{label(f'plot.{kind}', lang)}: {matrix.risk_level_name(level, lang)}",
        f"{label('likelihood', lang)} {l}, {label('severity', lang)} {s}",
    )
