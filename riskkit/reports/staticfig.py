"""Static SVG of plotly figures for exported reports, drawn by this process's offline browser."""

from __future__ import annotations

import atexit
import json
from functools import cache
from typing import TYPE_CHECKING

from .browser import OfflineBrowser

if TYPE_CHECKING:
    import plotly.graph_objects as go


@cache
def _browser() -> OfflineBrowser:
    """Started on first use and kept for the life of the process (a warm kernel draws one figure per report)."""
    browser = OfflineBrowser()
    atexit.register(browser.close)
    return browser


def figure_svg(fig: go.Figure) -> str:
    """The figure as SVG text (its layout width/height, scale 1)."""
    spec = json.loads(fig.to_json())  # plain JSON types, as plotly.js expects them
    return _browser().figure_svg(spec, fig.layout.width or 700, fig.layout.height or 500)
