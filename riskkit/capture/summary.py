"""What the capture form writes beside the fields: each risk's level line, the matrix legend and the level summary,
as escaped HTML."""

from __future__ import annotations

from collections.abc import Sequence

from ..model.assessment import RiskResult
from ..model.i18n import Lang, label
from ..model.method import RISK_LEVELS, Matrix
from ..figures.plots import INK, LEVEL_FILL, LEVEL_TEXT, RESIDUAL_FILL
from ..figures.markup import esc


def status_line(r: RiskResult, matrix: Matrix, lang: Lang) -> str:
    """`Inherent risk: high risk (likelihood 4, severity 3) → Residual risk: ...` for one risk."""
    if not r.assessed:
        return f"<i>{esc(label('form.not_assessed', lang))}</i>"
    at = label("form.level_at", lang)
    inherent = at.format(level=matrix.risk_level_name(r.inherent_level, lang), likelihood=r.likelihood,
                         severity=r.severity)
    residual = at.format(level=matrix.risk_level_name(r.residual_level, lang), likelihood=r.residual_likelihood,
                         severity=r.residual_severity)
    note = f" ({esc(label('form.overridden', lang))})" if r.overridden else ""
    return (f"<b>{esc(label('inherent_risk', lang))}:</b> {esc(inherent)} → "
            f"<b>{esc(label('residual_risk', lang))}:</b> {esc(residual)}{note}")


# The live matrix's marker symbols (riskkit.figures.plots.risk_points) drawn as 16 px SVG, keyed by their label.
_SYMBOLS = {
    "plot.inherent": f"<rect x='2' y='2' width='12' height='12' fill='#ffffff' stroke='{INK}' stroke-width='2'/>",
    "plot.residual": f"<circle cx='8' cy='8' r='7' fill='{RESIDUAL_FILL}'/>",
    "plot.unchanged": f"<path d='M8 0 L16 8 L8 16 L0 8 Z' fill='{RESIDUAL_FILL}'/>",
    "plot.link": f"<path d='M1 8 H11' stroke='{INK}' stroke-width='1.5'/><path d='M10 3 L16 8 L10 13 Z' fill='{INK}'/>",
}


def legend_html(lang: Lang) -> str:
    """What the live matrix's symbols mean (the form's figure has no plotly legend: it is cheaper to redraw)."""
    items = "".join(
        f"<li><svg width='16' height='16' viewBox='0 0 16 16' aria-hidden='true'>{svg}</svg> {esc(label(key, lang))}</li>"
        for key, svg in _SYMBOLS.items()
    )
    return f"<ul class='rk-legend' aria-label='{esc(label('summary.legend', lang))}'>{items}</ul>"


def summary_html(results: Sequence[RiskResult], numbers: dict[str, str], matrix: Matrix, lang: Lang) -> str:
    """Risks counted per level (inherent and residual), the Art. 36 conclusion, and every risk's two levels."""
    t = lambda key: esc(label(key, lang))  # noqa: E731 - a local shorthand

    def cell(level: str | None) -> str:
        if level is None:
            return f"<td>{t('open')}</td>"
        return (f"<td style='background:{LEVEL_FILL[level]};color:{LEVEL_TEXT[level]}'>"
                f"{esc(matrix.risk_level_name(level, lang))}</td>")

    counts = "".join(
        f"<tr>{cell(level)}<td>{sum(r.inherent_level == level for r in results)}</td>"
        f"<td>{sum(r.residual_level == level for r in results)}</td></tr>"
        for level in reversed(RISK_LEVELS)
    )
    open_count = sum(not r.assessed for r in results)
    if open_count:
        counts += f"<tr><td>{t('form.not_assessed')}</td><td>{open_count}</td><td>{open_count}</td></tr>"
    if any(r.prior_consultation for r in results):
        verdict = label("form.art36_yes", lang)
    elif open_count:
        verdict = label("form.art36_open", lang).format(count=open_count)
    else:
        verdict = label("form.art36_no", lang)
    rows = "".join(
        f"<tr><th scope='row'>{esc(numbers[r.risk.id])}</th><td>{esc(r.risk.title[lang])}</td>"
        f"{cell(r.inherent_level)}{cell(r.residual_level)}</tr>"
        for r in results
    )
    both = f"<th scope='col'>{t('inherent_risk')}</th><th scope='col'>{t('residual_risk')}</th>"
    return (
        f"<h3>{t('form.summary')}</h3>"
        f"<table><caption>{t('form.summary_count')}</caption><thead><tr>"
        f"<th scope='col'>{t('form.summary_level')}</th>{both}</tr></thead><tbody>{counts}</tbody></table>"
        f"<p><b>{t('prior_consultation')}:</b> {esc(verdict)}</p>"
        f"<table><caption>{t('form.summary_risks')}</caption><thead><tr>"
        f"<th scope='col'>{t('form.col_number')}</th><th scope='col'>{t('form.col_risk')}</th>{both}</tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
