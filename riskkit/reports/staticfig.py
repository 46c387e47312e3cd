"""Static SVG of plotly figures for exported reports, drawn by this process's offline browser."""

from __future__ import annotations

import atexit
import json
import re
from functools import cache
from typing import TYPE_CHECKING

from ..figures.markup import esc
from ..model.errors import RiskkitError
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


_SVG_OPEN = re.compile(r"<svg\b[^>]*>")


def accessible_svg(fig: go.Figure, ident: str, title: str, desc: str | None = None) -> str:
    """The figure as inline SVG for a report: an image named by its <title> and described by its <desc> (the text
    alternative; plain text, escaped here), sized by the stylesheet (no width, height or style of its own).
    `ident` makes the ids unique in the document."""
    svg = figure_svg(fig)
    match = _SVG_OPEN.search(svg)
    if match is None:
        raise RiskkitError("the figure drawing is not an SVG image")
    parts = [("title", title), *([("desc", desc)] if desc else [])]
    ids = " ".join(f"{ident}-{part}" for part, _ in parts)
    tag = re.sub(r'\s(width|height|style)="[^"]*"', "", match.group(0))
    tag = tag.replace("<svg", f'<svg role="img" aria-labelledby="{esc(ids)}"', 1)
    inner = "".join(f'<{part} id="{esc(ident)}-{part}">{esc(text)}</{part}>' for part, text in parts)
    return svg[: match.start()] + tag + inner + svg[match.end():]
