"""An nbconvert preprocessor that turns a notebook's plotly outputs into static, accessible inline SVG.

Run before the HTML export (riskkit's template lists it; `ReportRenderer` hands it the worker's warm browser). Each
figure becomes `<figure><svg role="img" ...>` with its accessible name and text alternative from the output's
metadata (`riskkit.reports.staticfig.PlotlyFigure`); the SVG is sized by CSS, and the page still runs no script.
"""

from __future__ import annotations

import re
from typing import Any

import nbformat
from jinja2 import Environment
from markupsafe import Markup
from nbconvert.preprocessors import Preprocessor
from traitlets import Any as AnyTrait, Float

from ..figures.markup import META_KEY
from .browser import DEFAULT_TIMEOUT, OfflineBrowser
from .staticfig import FIGURE_KEY, PLOTLY_MIME

_SVG_OPEN = re.compile(r"<svg\b([^>]*)>")
_SIZE = re.compile(r'\s(width|height|style)="[^"]*"')
_FIGURE = Environment(autoescape=True).from_string(
    '<figure class="{{ css_class }}"><svg{{ attributes }} role="img" '
    '{% if ident %}aria-labelledby="{{ ident }}-svg-title{% if description %} {{ ident }}-svg-desc{% endif %}"'
    '{% else %}aria-label="{{ label }}"{% endif %}>'
    '{% if ident %}<title id="{{ ident }}-svg-title">{{ label }}</title>'
    '{% if description %}<desc id="{{ ident }}-svg-desc">{{ description }}</desc>{% endif %}{% endif %}'
    "{{ rest }}"
    "{% if caption and description %}<figcaption>{{ description }}</figcaption>{% endif %}</figure>"
)


class StaticFigures(Preprocessor):
    """Every plotly output -> a text/html output with the figure as accessible inline SVG."""

    browser = AnyTrait(None, allow_none=True, help="An OfflineBrowser to draw with; None: one per notebook.")
    timeout = Float(DEFAULT_TIMEOUT, help="Seconds one drawing may take (for a browser started here).").tag(config=True)

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        own: OfflineBrowser | None = None
        try:
            for cell in nb.cells:
                for i, output in enumerate(cell.get("outputs", [])):
                    if PLOTLY_MIME in output.get("data", {}):
                        if self.browser is None and own is None:
                            own = OfflineBrowser(self.timeout)
                        cell.outputs[i] = static_output(output, self.browser or own)
        finally:
            if own is not None:
                own.close()
        return nb, resources


def static_output(output: Any, browser: OfflineBrowser) -> Any:
    """One plotly output drawn as an HTML output holding <figure><svg>, named and described from its metadata."""
    spec = output["data"][PLOTLY_MIME]
    layout = spec.get("layout", {})
    meta = dict(output.get("metadata", {}).get(META_KEY, {}).get(FIGURE_KEY, {}))
    title = layout.get("title", {})
    label = meta.get("label") or (title.get("text") if isinstance(title, dict) else None) or "Figure"
    width, height = meta.get("width") or layout.get("width") or 700, meta.get("height") or layout.get("height") or 500
    svg = browser.figure_svg({"data": spec.get("data", []), "layout": layout}, width, height)
    match = _SVG_OPEN.search(svg)
    if match is None:
        raise ValueError("the figure drawing is not an SVG image")
    html = _FIGURE.render(
        css_class=meta.get("class") or "figure", ident=meta.get("id"), label=label,
        description=meta.get("description") or "", caption=meta.get("caption", False),
        attributes=Markup(_SIZE.sub("", match.group(1))), rest=Markup(svg[match.end():]),
    )
    return nbformat.v4.new_output("display_data", data={"text/html": html})
