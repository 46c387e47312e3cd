"""Plain-text summaries for the terminal: a district's levels per school and risk, the catalogue listing."""

from __future__ import annotations

from datetime import date

from ..figures.markup import effect_text, risk_numbers
from ..model.catalogue import Catalogue
from ..model.district import District
from ..model.i18n import Lang, label


def district_summary(district: District, lang: Lang, today: date) -> str:
    """A grid of residual levels (schools x risks), the Art. 36 flag and review dates, then what needs action."""
    cat = district.catalogue
    codes = {level: label(f"code.{level}", lang) for level in ("low", "medium", "high", "open", "na")}
    head = (
        f"{district.config.name}: {len(district.schools)} {label('summary.schools', lang)}, "
        f"{label('summary.catalogue', lang)} {cat.ref}, {label('summary.matrix', lang)} {district.matrix.id}"
    )
    if not district.schools:
        return f"{head}\n{label('no_schools', lang)}"
    width = max(len(s) for s in district.schools) + 2
    numbers = list(risk_numbers(cat.risks).values())
    lines = [
        head,
        "",
        f"{label('summary.title', lang)}:",
        f"{label('school', lang):<{width}}" + " ".join(f"{n:<3}" for n in numbers)
        + f"  {label('summary.art36', lang):<7} {label('next_review', lang)}",
    ]
    summary = district.summary(today)
    for school_id in district.schools:
        cells = [codes[r.residual_level or ("open" if r.applicable else "na")] for r in district.evaluate(school_id)]
        row = summary.loc[school_id]
        flag = label("yes" if row["prior_consultation"] else "no", lang)
        review = f"{row['next_review']:%Y-%m-%d}" + (f" ({label('overdue', lang)})" if row["review_overdue"] else "")
        lines.append(f"{school_id:<{width}}" + " ".join(f"{c:<3}" for c in cells) + f"  {flag:<7} {review}")
    lines += ["", f"{label('summary.legend', lang)}: " + ", ".join(
        f"{codes[level]} = {district.matrix.risk_level_name(level, lang)}" for level in ("low", "medium", "high")
    ) + f", {codes['open']} = {label('open', lang)}, {codes['na']} = {label('not_applicable', lang)}"]
    lines += [f"  {n} {risk.id}: {risk.title[lang]}" for n, risk in zip(numbers, cat.risks)]
    needed = summary.index[summary["prior_consultation"]]
    overdue = summary.index[summary["review_overdue"]]
    incomplete = summary.index[summary["open"] > 0]
    lines += [
        "",
        f"{label('summary.needed', lang)}: {len(needed)}/{len(summary)} " + _names(needed, lang),
        f"{label('summary.overdue', lang)}: {len(overdue)} " + _names(overdue, lang),
        f"{label('summary.incomplete', lang)}: {len(incomplete)} " + _names(incomplete, lang),
        "",
        f"{label('summary.status', lang)}:",
    ]
    for school_id in district.schools:
        status = district.status(school_id)
        blockers = status.blockers_text(lang)
        lines.append(f"  {school_id:<{width}}{status.text(lang)}" + (f" – {blockers}" if blockers else ""))
    return "\n".join(lines)


def _names(ids, lang: Lang) -> str:
    return f"({', '.join(ids)})" if len(ids) else f"({label('summary.none', lang)})"


def catalogue_listing(cat: Catalogue, lang: Lang) -> str:
    """Risks with severity and measures with their effects, one line each."""
    lines = [f"{cat.title[lang]} ({cat.ref})", "", f"{label('catalogue.risks', lang)}:"]
    for risk in cat.risks:
        lines.append(f"  {risk.id:<24} {risk.severity}  {risk.title[lang]}")
    lines += ["", f"{label('catalogue.measures', lang)}:"]
    for measure in cat.measures:
        effects = ", ".join(f"{e.risk} {effect_text(e, lang)}" for e in measure.effects)
        lines.append(f"  {measure.id:<28} {measure.title[lang]}\n      {effects}")
    return "\n".join(lines)
