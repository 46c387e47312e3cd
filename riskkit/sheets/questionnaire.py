"""The XLSX questionnaire's shape, read by both its writer (template.py) and its reader (intake.py): the sheets, their
columns in order, and their names in German and English."""

from __future__ import annotations

from ..model.i18n import Lang, label

SHEETS = ("instructions", "school", "platform", "risks", "planned", "questions", "threshold", "views", "decision",
          "lists")
# The risk sheet: what the catalogue fills in (read-only), what the school answers (likelihood, reason, a raised
# severity), then one column per measure (yes / partly: scope), then the head's decision on the residual risk.
READ_ONLY_COLUMNS = ("nr", "risk_id", "risk_title", "modules", "severity", "severity_reason")
ANSWER_COLUMNS = ("likelihood", "reason", "severity_raise_level", "severity_raise_reason")
RISK_COLUMNS = (*READ_ONLY_COLUMNS, *ANSWER_COLUMNS)
OVERRIDE_COLUMNS = ("override_likelihood", "override_severity", "override_reason")
DECISION_RISK_COLUMNS = (*OVERRIDE_COLUMNS, "accepted_reason")
PLANNED_COLUMNS = ("risk", "planned_measure", "planned_owner", "planned_due", "planned_note")
PLANNED_REQUIRED = PLANNED_COLUMNS[:4]  # the note may be left out
# The platform sheet: field rows (label, value), one row per extra data category (label, yes/no), then a title row
# and one row per module (title, in use, legal basis, groups).
PLATFORM_HEADER = ("field", "value", "legal_basis", "groups")
PLATFORM_FIELDS = ("platform_hosting", "platform_operation", "platform_running_since", "platform_pupils",
                   "platform_staff")
MODULE_HEADER = ("module", "in_use", "legal_basis", "groups")
QUESTION_COLUMNS = ("question_id", "part", "question", "guidance", "vendor_default", "status", "text")
THRESHOLD_COLUMNS = ("criterion_id", "criterion", "guidance", "district_answer", "answer", "answer_reason")
VIEW_COLUMNS = ("council_id", "council", "sought", "on", "summary", "why_not")
VIEW_KEYS = {"sought": "sought", "on": "on", "summary": "summary", "why_not": "reason"}
DECISION_FIELDS = ("decision_by", "decision_on", "decision_outcome", "decision_conditions")


def sheet_name(key: str, lang: Lang) -> str:
    return label(f"sheet.name.{key}", lang)


def column_label(key: str, lang: Lang) -> str:
    return label(f"sheet.col.{key}", lang)
