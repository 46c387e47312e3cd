"""The flat table: one row per school and catalogue risk. `riskkit export` writes it, `riskkit import` reads it.

Input columns carry everything a school file holds; planned measures take one group of four columns each
(`planned_1_measure`, `planned_1_owner`, `planned_1_due`, `planned_1_note`, `planned_2_...`). The derived
columns of `District.results()` (levels, Art. 36 flag, review dates) are written for other tools and ignored on
import.
"""

from __future__ import annotations

import re
from typing import Any

from ..model.assessment import SchoolAssessment
from ..model.catalogue import Catalogue
from ..model.district import RESULT_COLUMNS

SCHOOL_COLUMNS = ("school_id", "school_name", "school_kind", "assessed_on", "assessed_by", "catalogue_version")
RISK_COLUMNS = (
    "risk_id", "likelihood", "reason", "measures_in_place", "override_likelihood", "override_severity", "override_reason",
)
OVERRIDE_FIELDS = ("likelihood", "severity", "reason")
PLANNED_FIELDS = ("measure", "owner", "due", "note")
REQUIRED_COLUMNS = ("school_id", "school_name", "school_kind", "assessed_on", "assessed_by", "risk_id", "likelihood", "reason")
DERIVED_COLUMNS = tuple(c for c in RESULT_COLUMNS if c not in SCHOOL_COLUMNS + RISK_COLUMNS)
PLANNED_COLUMN = re.compile(r"planned_([1-9][0-9]?)_(measure|owner|due|note)")


def planned_column(number: int, part: str) -> str:
    return f"planned_{number}_{part}"


def planned_slots(catalogue: Catalogue) -> int:
    """Column groups needed for planned measures: a risk can have at most as many as measures lower it."""
    return max((len(catalogue.measures_for(r.id)) for r in catalogue.risks), default=0)


def input_columns(slots: int) -> list[str]:
    """The columns import reads, in the order export writes them."""
    planned = [planned_column(n, part) for n in range(1, slots + 1) for part in PLANNED_FIELDS]
    return [*SCHOOL_COLUMNS, *RISK_COLUMNS, *planned]


def school_rows(assessment: SchoolAssessment, catalogue: Catalogue, slots: int) -> list[dict[str, Any]]:
    """The input columns of one school, one dict per catalogue risk (empty values for risks not assessed)."""
    school = assessment.school
    head = {
        "school_id": school.id, "school_name": school.name, "school_kind": school.kind,
        "assessed_on": assessment.assessed_on, "assessed_by": assessment.assessed_by,
        "catalogue_version": assessment.catalogue_version,
    }
    rows = []
    for risk in catalogue.risks:
        entry = assessment.risks.get(risk.id)
        row: dict[str, Any] = {**head, "risk_id": risk.id}
        row.update(dict.fromkeys(input_columns(slots)[len(head) + 1 :]))
        if entry:
            row.update(likelihood=entry.likelihood, reason=entry.reason, measures_in_place=entry.measure_ids)
            if override := assessment.dsfa.decision.residual.get(risk.id):
                row.update({f"override_{f}": getattr(override, f) for f in OVERRIDE_FIELDS})
            for number, planned in enumerate(entry.measures_planned, start=1):
                row.update({planned_column(number, f): getattr(planned, f) for f in PLANNED_FIELDS})
        rows.append(row)
    return rows
