"""Reading school files assessed against an older catalogue version: ids renamed, split or removed by the
catalogue's migration table, measures that no longer lower a risk dropped, residual values moved to the decision.

Works on the raw file data before validation, so an old file loads against the current catalogue; every change is
listed (`riskkit migrate` writes them, the report names the version a school was assessed against).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .catalogue import Catalogue


@dataclass(frozen=True)
class Change:
    """One change migration made; `key` is a label (`migrate.<key>`), `values` fill it."""

    key: str
    values: dict[str, str]


def version_key(version: str | None) -> tuple[int, ...]:
    """Sortable form of `1.1.0` (an extension suffix `+ext.1` is ignored; no version sorts first)."""
    if not version:
        return ()
    return tuple(int(p) if p.isdigit() else 0 for p in str(version).split("+")[0].split("."))


def needs_migration(data: Any, catalogue: Catalogue) -> bool:
    """A file naming an older catalogue version (a file naming none is read as assessed against the current one)."""
    if not isinstance(data, dict) or not data.get("catalogue_version"):
        return False
    return version_key(data.get("catalogue_version")) < version_key(catalogue.version)


def migrate(data: dict, catalogue: Catalogue) -> tuple[dict, list[Change]]:
    """The file's data as if assessed against `catalogue` (a copy), and the changes that took."""
    if not needs_migration(data, catalogue):
        return data, []
    data, changes = copy.deepcopy(data), []
    old = data.get("catalogue_version")
    risks = data.get("risks") if isinstance(data.get("risks"), dict) else {}
    for step in catalogue.migrations:
        if version_key(step.from_version) < version_key(old):
            continue
        risks = _rename_risks(risks, step.risks, changes)
        for risk_id, entry in risks.items():
            if isinstance(entry, dict):
                _rename_measures(risk_id, entry, step.measures, changes)
    for risk_id, entry in risks.items():
        if isinstance(entry, dict) and risk_id in catalogue.risks_by_id:
            _drop_ineffective(risk_id, entry, catalogue, changes)
            if "override" in entry:
                decision = data.setdefault("dsfa", {}).setdefault("decision", {})
                decision.setdefault("residual", {})[risk_id] = entry.pop("override")
                changes.append(Change("override_moved", {"risk": risk_id}))
    data["risks"] = risks
    data["catalogue_version"] = catalogue.version.split("+")[0]
    changes.append(Change("version", {"old": str(old or "?"), "new": data["catalogue_version"]}))
    return data, changes


def _rename_risks(risks: dict, table: dict, changes: list[Change]) -> dict:
    renamed: dict = {}
    for risk_id, entry in risks.items():
        if risk_id not in table:
            renamed.setdefault(risk_id, entry)
            continue
        target = table[risk_id]
        if target is None:
            changes.append(Change("risk_removed", {"risk": risk_id}))
        elif isinstance(target, list):
            for new_id in target:
                renamed[new_id] = copy.deepcopy(entry)
            changes.append(Change("risk_split", {"risk": risk_id, "new": ", ".join(target)}))
        else:
            renamed[target] = entry
            changes.append(Change("risk_renamed", {"risk": risk_id, "new": target}))
    return renamed


def _measure_id(item: Any) -> Any:
    return item.get("measure") if isinstance(item, dict) else item


def _rename_measures(risk_id: str, entry: dict, table: dict, changes: list[Change]) -> None:
    for field in ("measures_in_place", "measures_planned"):
        items = entry.get(field)
        if not isinstance(items, list):
            continue
        kept = []
        for item in items:
            measure = _measure_id(item)
            if not isinstance(measure, str) or measure not in table:
                kept.append(item)
            elif table[measure] is None:
                changes.append(Change("measure_removed", {"risk": risk_id, "measure": measure}))
            else:
                if isinstance(item, dict):
                    item = {**item, "measure": table[measure]}
                else:
                    item = table[measure]
                kept.append(item)
                changes.append(Change("measure_renamed", {"risk": risk_id, "measure": measure,
                                                          "new": table[measure]}))
        entry[field] = kept


def _drop_ineffective(risk_id: str, entry: dict, catalogue: Catalogue, changes: list[Change]) -> None:
    """Measures listed for a risk they no longer lower in this catalogue version are dropped, each listed."""
    allowed = {m.id for m in catalogue.measures_for(risk_id)}
    for field in ("measures_in_place", "measures_planned"):
        items = entry.get(field)
        if not isinstance(items, list):
            continue
        kept = [i for i in items if not (isinstance(_measure_id(i), str) and _measure_id(i) in catalogue.measures_by_id
                                         and _measure_id(i) not in allowed)]
        for item in items:
            if item not in kept:
                changes.append(Change("measure_dropped", {"risk": risk_id, "measure": _measure_id(item)}))
        entry[field] = kept
