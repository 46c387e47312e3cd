"""The flat table: one row per school and catalogue risk. `riskkit export` writes it, `riskkit import` reads it.

Input columns carry everything a school file holds. The school's details, its platform and its DSFA (threshold
additions, answers, views, the DPO's advice, the head's decision) stand on each of the school's rows
(`SchoolField`s: one column each, keyed like the school file). Per risk: likelihood, reason, measures in place, the
school's severity raise, the head's residual values and acceptance, the DPO's proposed level; measures in place in
part take one group of two columns each (`partial_1_measure`, `partial_1_scope`, ...), planned measures one group of
four (`planned_1_measure`, `planned_1_owner`, `planned_1_due`, `planned_1_note`, ...). The derived columns of
`District.results()` (levels, Art. 36 flag, review dates) and the DSFA status are written for other tools and
ignored on import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from ..model.assessment import SchoolAssessment
from ..model.catalogue import Catalogue
from ..model.district import RESULT_COLUMNS, DistrictConfig
from ..model.dsfa import ANSWERS, OPINIONS, OUTCOMES, QUESTION_STATUSES
from ..model.platform import HOSTINGS, OPERATIONS

Kind = Literal["text", "ident", "school_id", "kind", "date", "count", "bool", "level", "risk_level", "choice", "list"]

SCHOOL_COLUMNS = ("school_id", "school_name", "school_kind", "assessed_on", "assessed_by", "catalogue_version")
RISK_COLUMNS = (
    "risk_id", "likelihood", "reason", "measures_in_place", "severity_raise_level", "severity_raise_reason",
    "override_likelihood", "override_severity", "override_reason", "accepted_reason", "advice_proposed",
)
RISK_KINDS: dict[str, Kind] = {
    "risk_id": "ident", "likelihood": "level", "reason": "text", "measures_in_place": "list",
    "severity_raise_level": "level", "severity_raise_reason": "text", "override_likelihood": "level",
    "override_severity": "level", "override_reason": "text", "accepted_reason": "text", "advice_proposed": "risk_level",
}
RISK_FIELDS = tuple(c for c in RISK_COLUMNS if c not in ("risk_id", "measures_in_place"))
OVERRIDE_FIELDS = ("likelihood", "severity", "reason")
PLANNED_FIELDS = ("measure", "owner", "due", "note")
PARTIAL_FIELDS = ("measure", "scope")
REQUIRED_COLUMNS = ("school_id", "school_name", "school_kind", "assessed_on", "assessed_by", "risk_id", "likelihood", "reason")
STATUS_COLUMNS = ("status", "blockers")
PLANNED_COLUMN = re.compile(r"planned_([1-9][0-9]?)_(measure|owner|due|note)")
PARTIAL_COLUMN = re.compile(r"partial_([1-9][0-9]?)_(measure|scope)")
CHOICES: dict[str, tuple[str, ...]] = {
    "hosting": HOSTINGS, "operation": OPERATIONS, "answer": ANSWERS, "status": QUESTION_STATUSES,
    "opinion": OPINIONS, "outcome": OUTCOMES,
}


@dataclass(frozen=True)
class SchoolField:
    """A school-level value: its column, where it goes in the school file, how it is read. `label` and `ref` name
    the column's header label (`sheet.flat.<label>`, formatted with `id=ref`); `choices` names a list in CHOICES,
    or (for legal bases) the allowed ids."""

    column: str
    path: tuple[str, ...]
    kind: Kind
    label: str = ""
    ref: str = ""
    choices: tuple[str, ...] = ()
    group: str = ""

    @property
    def block(self) -> str:
        """The part of the school file this field belongs to: school, platform, or the DSFA part."""
        return self.path[0] if self.path[0] != "dsfa" else self.path[1]


def school_fields(catalogue: Catalogue, config: DistrictConfig) -> list[SchoolField]:
    """Every school-level column, in the order export writes them."""
    kinds: dict[str, Kind] = {"school_id": "school_id", "school_kind": "kind", "assessed_on": "date"}
    paths = {"school_id": ("school", "id"), "school_name": ("school", "name"), "school_kind": ("school", "kind")}
    fields = [SchoolField(c, paths.get(c, (c,)), kinds.get(c, "text"), c) for c in SCHOOL_COLUMNS]
    fields[0] = SchoolField("school_id", ("school", "id"), "school_id", "school_id")
    platform: list[tuple[str, Kind, str]] = [
        ("hosting", "choice", "hosting"), ("operation", "choice", "operation"), ("running_since", "date", ""),
        ("pupils", "count", ""), ("staff", "count", ""), ("extra_data", "list", ""), ("modules", "list", ""),
    ]
    fields += [SchoolField(f"platform_{k}", ("platform", k), kind, f"platform_{k}", group=g) for k, kind, g in platform]
    for module in catalogue.modules:
        path = ("platform", "modules", module.id)
        fields.append(SchoolField(f"module_{module.id}_legal_basis", (*path, "legal_basis"), "choice",
                                  "module_legal_basis", module.id, tuple(module.processing.legal_bases), "legal_basis"))
        fields.append(SchoolField(f"module_{module.id}_groups", (*path, "groups"), "text", "module_groups", module.id))
    for criterion in catalogue.threshold_criteria:
        path = ("dsfa", "threshold", criterion.id)
        fields.append(SchoolField(f"threshold_{criterion.id}", (*path, "answer"), "choice", "threshold", criterion.id,
                                  group="answer"))
        fields.append(SchoolField(f"threshold_{criterion.id}_reason", (*path, "reason"), "text", "threshold_reason",
                                  criterion.id))
    for question in catalogue.questions:
        path = ("dsfa", "answers", question.id)
        fields.append(SchoolField(f"question_{question.id}_status", (*path, "status"), "choice", "question_status",
                                  question.id, group="status"))
        fields.append(SchoolField(f"question_{question.id}_text", (*path, "text"), "text", "question_text", question.id))
    for council in config.council_list():
        path = ("dsfa", "views", council.id)
        for key, kind in (("sought", "bool"), ("on", "date"), ("summary", "text"), ("reason", "text")):
            fields.append(SchoolField(f"view_{council.id}_{key}", (*path, key), kind, f"view_{key}", council.id))
    for key, kind, group in (("by", "text", ""), ("on", "date", ""), ("opinion", "choice", "opinion"), ("text", "text", "")):
        fields.append(SchoolField(f"advice_{key}", ("dsfa", "advice", key), kind, f"advice_{key}", group=group))
    for key, kind, group in (("by", "text", ""), ("on", "date", ""), ("outcome", "choice", "outcome"),
                             ("conditions", "text", "")):
        fields.append(SchoolField(f"decision_{key}", ("dsfa", "decision", key), kind, f"decision_{key}", group=group))
    return fields


def planned_column(number: int, part: str) -> str:
    return f"planned_{number}_{part}"


def partial_column(number: int, part: str) -> str:
    return f"partial_{number}_{part}"


def planned_slots(catalogue: Catalogue) -> int:
    """Column groups needed for planned (or partial) measures: a risk has at most as many as measures lower it."""
    return max((len(catalogue.measures_for(r.id)) for r in catalogue.risks), default=0)


def input_columns(slots: int, fields: list[SchoolField] | None = None) -> list[str]:
    """The columns import reads, in the order export writes them (without `fields`: the school's details only)."""
    school = [f.column for f in fields] if fields else list(SCHOOL_COLUMNS)
    partial = [partial_column(n, part) for n in range(1, slots + 1) for part in PARTIAL_FIELDS]
    planned = [planned_column(n, part) for n in range(1, slots + 1) for part in PLANNED_FIELDS]
    return [*school, *RISK_COLUMNS, *partial, *planned]


def derived_columns() -> tuple[str, ...]:
    inputs = {*SCHOOL_COLUMNS, *RISK_COLUMNS}
    return (*STATUS_COLUMNS, *(c for c in RESULT_COLUMNS if c not in inputs))


def _get(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def school_values(assessment: SchoolAssessment, fields: list[SchoolField]) -> dict[str, Any]:
    """The school-level values of one school, by column (ids, numbers, dates, lists of ids; None where empty)."""
    data = assessment.model_dump(mode="python")
    values = {}
    for f in fields:
        value = _get(data, f.path)
        if f.column == "platform_modules" and value is not None:
            value = list(value)
        if f.column == "platform_operation" and assessment.platform is None:
            value = None  # the default of a platform block the school has not written
        values[f.column] = value if value not in ([], {}) or f.column == "platform_modules" else None
    if assessment.platform is None:
        values["platform_modules"] = None
    return values


def school_rows(assessment: SchoolAssessment, catalogue: Catalogue, slots: int,
                fields: list[SchoolField]) -> list[dict[str, Any]]:
    """The input columns of one school, one dict per catalogue risk (empty values for risks not assessed)."""
    head = school_values(assessment, fields)
    columns = input_columns(slots, fields)
    decision, advice = assessment.dsfa.decision, assessment.dsfa.advice
    rows = []
    for risk in catalogue.risks:
        row: dict[str, Any] = dict.fromkeys(columns)
        row.update(head, risk_id=risk.id)
        if override := decision.residual.get(risk.id):
            row.update({f"override_{f}": getattr(override, f) for f in OVERRIDE_FIELDS})
        row["accepted_reason"] = decision.accepted.get(risk.id)
        row["advice_proposed"] = advice.proposed.get(risk.id) if advice else None
        if entry := assessment.risks.get(risk.id):
            row.update(likelihood=entry.likelihood, reason=entry.reason, measures_in_place=entry.measure_ids)
            if entry.severity:
                row.update(severity_raise_level=entry.severity.level, severity_raise_reason=entry.severity.reason)
            partial = [(m, scope) for m, scope in entry.in_place() if scope]
            for number, (measure, scope) in enumerate(partial, start=1):
                row.update({partial_column(number, "measure"): measure, partial_column(number, "scope"): scope})
            for number, planned in enumerate(entry.measures_planned, start=1):
                row.update({planned_column(number, f): getattr(planned, f) for f in PLANNED_FIELDS})
        rows.append(row)
    return rows
