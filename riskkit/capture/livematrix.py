"""The capture form's live risk matrix: an anywidget that draws the figure riskkit.figures.plots builds, with the
plotly.js shipped inside the plotly package (sent with the widget, nothing loaded from the network), and moves the
markers itself when the results change (livematrix.js: a zero-length `Plotly.animate` without redraw, not a re-plot)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anywidget
import plotly.graph_objects as go
import traitlets
from plotly.offline import get_plotlyjs

from ..figures.markup import plotly_lines
from ..figures.plots import LIVE_PROPERTIES, PLOT_CONFIG, cell_traces, matrix_layout, risk_points
from ..model.assessment import RiskResult
from ..model.i18n import Lang, label
from ..model.method import LEVELS, Matrix
from .aria import package_text

# No mode bar (its buttons would only zoom a fixed matrix or save it), no cloud or link buttons, a fixed size.
CONFIG = dict(PLOT_CONFIG, responsive=False, displayModeBar=False)


def _plotly_module() -> str:
    """plotly.js as an ES module of its own: its UMD wrapper exports through a local `module`."""
    return "const module = { exports: {} };\n" + get_plotlyjs() + "\nexport default module.exports;\n"


class LiveMatrix(anywidget.AnyWidget):
    """The risk matrix of one district's results. `draw` sends the whole figure (a school opened, the language
    switched); `move` only the risk traces' changing parts (an edit)."""

    # The widget's own module stays small: anywidget gives a module 2 s to load, which a busy machine needs just to
    # compile plotly.js. plotly.js travels as a trait and is imported by the first view that draws (livematrix.js).
    _esm = package_text("livematrix.js")
    _css = package_text("livematrix.css")
    plotly = traitlets.Unicode(_plotly_module()).tag(sync=True)
    spec = traitlets.Dict().tag(sync=True)  # data, layout, config, and `first`: the index of the first risk trace
    points = traitlets.List().tag(sync=True)  # the risk traces' LIVE_PROPERTIES, in plotly.js's nested form
    label = traitlets.Unicode().tag(sync=True)  # the figure's accessible name

    def __init__(self, width: int, height: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.width, self.height = width, height

    def draw(self, results: Sequence[RiskResult], matrix: Matrix, lang: Lang) -> None:
        """The report's axes, with the cells and level names as traces under the risk traces (cell_traces), no
        plotly template and no legend (the form writes it as HTML), which make it cheap to redraw."""
        layout = matrix_layout(matrix, lang, cells=False)
        ticks = [plotly_lines(i, matrix.level_name(i, lang)) for i in LEVELS]
        layout.update(width=self.width, height=self.height, margin=dict(l=100, r=10, t=40, b=70), showlegend=False,
                      template="none", xaxis=dict(ticktext=ticks, tickangle=0))
        cells, points = cell_traces(matrix, lang), risk_points(results, matrix, lang)
        for trace in points:
            trace["visible"] = True  # no legend to keep an empty trace in, and markers move without a redraw
        with self.hold_sync():
            self.label = label("plot.live_label", lang)
            self.spec = dict(data=[*cells, *points], layout=layout.to_plotly_json(), config=CONFIG, first=len(cells))
            self.points = [_live(trace) for trace in points]

    def move(self, results: Sequence[RiskResult], matrix: Matrix, lang: Lang) -> None:
        """Send the risk traces' new positions, numbers, sizes and hover texts."""
        self.points = [_live(trace) for trace in risk_points(results, matrix, lang)]

    def to_figure(self) -> go.Figure:
        """The figure as the browser shows it now: the drawn traces with the markers' latest values."""
        first = self.spec["first"]
        data = self.spec["data"][:first] + [_merged(t, p) for t, p in zip(self.spec["data"][first:], self.points)]
        return go.Figure(data=data, layout=self.spec["layout"])


def _live(trace: dict) -> dict:
    """The parts of a trace that follow the results (`marker.size` -> {"marker": {"size": ...}}); absent ones left out."""
    out: dict = {}
    for path in LIVE_PROPERTIES:
        *parents, key = path.split(".")
        source = trace
        for part in parents:
            source = source.get(part, {})
        if key in source:
            target = out
            for part in parents:
                target = target.setdefault(part, {})
            target[key] = source[key]
    return out


def _merged(base: dict, update: dict) -> dict:
    """`base` with `update` written over it, nested dicts merged."""
    merged = dict(base)
    for key, value in update.items():
        merged[key] = _merged(base.get(key, {}), value) if isinstance(value, dict) else value
    return merged
