"""Figures in report notebooks: a plain plotly output that carries its text alternative, and a cell's several outputs.

The kernel draws nothing: a `PlotlyFigure` is plotly's own mimetype (JupyterLab draws it live) plus, in the output's
metadata, what the export needs to make it an accessible static SVG (`riskkit.reports.svgexport`). Light imports
only: this runs in every report kernel.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..figures.markup import META_KEY

if TYPE_CHECKING:
    import plotly.graph_objects as go

PLOTLY_MIME = "application/vnd.plotly.v1+json"
FIGURE_KEY = "figure"
# plotly.js in JupyterLab must not offer to send the figure to a cloud host
PLOTLY_CONFIG = {"showSendToCloud": False, "showEditInChartStudio": False, "displaylogo": False, "showLink": False}


class PlotlyFigure:
    """A plotly figure as a notebook output with its accessible name (`label`) and text alternative (`description`).

    `ident` names the SVG's title/desc elements (aria-labelledby); without it the SVG gets aria-label=label.
    `caption`: also show the description under the figure. `css_class`: the <figure>'s class.
    """

    def __init__(self, fig: go.Figure, label: str, description: str = "", *, css_class: str = "figure",
                 ident: str | None = None, caption: bool = False):
        self.fig, self.label, self.description = fig, label, description
        self.css_class, self.ident, self.caption = css_class, ident, caption

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        spec = json.loads(self.fig.to_json())  # plain JSON types, as plotly.js expects them
        spec["config"] = PLOTLY_CONFIG
        meta = {
            "label": self.label, "description": self.description, "class": self.css_class, "id": self.ident,
            "caption": self.caption, "width": self.fig.layout.width or 700, "height": self.fig.layout.height or 500,
        }
        text = f"{self.label}. {self.description}" if self.description else self.label
        return {PLOTLY_MIME: spec, "text/plain": text}, {META_KEY: {FIGURE_KEY: meta}}


class Parts:
    """Several outputs of one cell, shown in order (HTML blocks and figures)."""

    def __init__(self, *parts: Any):
        self.parts = parts

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(*self.parts)
