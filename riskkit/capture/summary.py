"""What the capture form writes beside the fields: each risk's level line, the matrix legend and the level summary,
rendered by the autoescaping template `figures/templates/summary.html.j2`."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from ..model.assessment import RiskResult
from ..model.i18n import Lang, counted_label, label
from ..model.method import RISK_LEVELS, Matrix
from ..figures.plots import INK, LEVEL_FILL, LEVEL_TEXT, RESIDUAL_FILL
from ..figures.markup import macro

TEMPLATE = "summary.html.j2"


def status_line(r: RiskResult, matrix: Matrix, lang: Lang, raised: str | None = None) -> Markup:
    """`Inherent risk: high risk (likelihood 4, severity 3) → Residual risk: ...` for one risk; `raised`: why its
    severity is above the catalogue's (the school's reason, or the data category that raises it)."""
    if not r.assessed:
        return macro(TEMPLATE, "status_line", r, "", "", "", lang)
    at = label("form.level_at", lang)
    inherent = at.format(level=matrix.risk_level_name(r.inherent_level, lang), likelihood=r.likelihood,
                         severity=r.severity)
    residual = at.format(level=matrix.risk_level_name(r.residual_level, lang), likelihood=r.residual_likelihood,
                         severity=r.residual_severity)
    why = label("form.severity_raised", lang).format(level=r.severity, reason=raised) if raised else ""
    return macro(TEMPLATE, "status_line", r, inherent, residual, why, lang)


# The live matrix's marker symbols (riskkit.figures.plots.risk_points), keyed by their label; the template draws
# each as a 16 px SVG in the figure's colours.
SYMBOLS = ("plot.inherent", "plot.residual", "plot.unchanged", "plot.link")


def legend_html(lang: Lang) -> Markup:
    """What the live matrix's symbols mean (the form's figure has no plotly legend: it is cheaper to redraw)."""
    return macro(TEMPLATE, "legend", SYMBOLS, INK, RESIDUAL_FILL, lang)


def summary_html(results: Sequence[RiskResult], numbers: dict[str, str], matrix: Matrix, lang: Lang) -> Markup:
    """Risks counted per level (inherent and residual), the Art. 36 conclusion, and every risk's two levels."""

    cells: dict[tuple[str | None, bool], Markup] = {}  # five kinds of cell: render each once

    def cell(level: str | None, applicable: bool = True) -> Markup:
        if (level, applicable) not in cells:
            name = matrix.risk_level_name(level, lang) if level else ""
            cells[level, applicable] = macro(TEMPLATE, "level_cell", level, name, LEVEL_FILL.get(level),
                                             LEVEL_TEXT.get(level), applicable, lang)
        return cells[level, applicable]

    counts = [(cell(level), sum(r.inherent_level == level for r in results),
               sum(r.residual_level == level for r in results)) for level in reversed(RISK_LEVELS)]
    open_count = sum(r.open for r in results)
    not_applicable = sum(not r.applicable for r in results)
    if any(r.prior_consultation for r in results):
        verdict = label("form.art36_yes", lang)
    elif open_count:
        verdict = counted_label("form.art36_open", open_count, lang)
    else:
        verdict = label("form.art36_no", lang)
    rows = [(numbers[r.risk.id], r.risk.title[lang], cell(r.inherent_level, r.applicable),
             cell(r.residual_level, r.applicable)) for r in results]
    return macro(TEMPLATE, "summary", counts, open_count, not_applicable, verdict, rows, lang)
