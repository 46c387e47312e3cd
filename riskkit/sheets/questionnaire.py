"""The XLSX questionnaire's shape, read by both its writer (template.py) and its reader (intake.py): the sheets, their
columns in order, and their names in German and English."""

from __future__ import annotations

from ..model.i18n import Lang, label

SHEETS = ("instructions", "school", "risks", "planned", "lists")
# The risk sheet: what the catalogue fills in (read-only), what the school answers, then one yes-column per measure
# and the optional override at the end.
READ_ONLY_COLUMNS = ("nr", "risk_id", "risk_title", "severity", "severity_reason")
ANSWER_COLUMNS = ("likelihood", "reason")
RISK_COLUMNS = (*READ_ONLY_COLUMNS, *ANSWER_COLUMNS)
OVERRIDE_COLUMNS = ("override_likelihood", "override_severity", "override_reason")
PLANNED_COLUMNS = ("risk", "planned_measure", "planned_owner", "planned_due", "planned_note")
PLANNED_REQUIRED = PLANNED_COLUMNS[:4]  # the note may be left out


def sheet_name(key: str, lang: Lang) -> str:
    return label(f"sheet.name.{key}", lang)


def column_label(key: str, lang: Lang) -> str:
    return label(f"sheet.col.{key}", lang)
