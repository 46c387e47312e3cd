"""`riskkit import`: what a set of spreadsheets changes in a district, shown and (unless a dry run) written.

A school is created, updated (its changed fields listed, the previous file kept in `schools/.history/`) or left
unchanged. Schools with problems are not written; the problems are raised together at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from ..model.assessment import SchoolAssessment, read_school
from ..model.catalogue import Catalogue
from ..model.district import District
from ..model.errors import Problem
from ..model.locks import FileConflict
from ..model.i18n import Lang, label
from .intake import read_files
from ..model.history import keep_previous, stamp
from ..model.yamlio import key_path

Action = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class Outcome:
    """What importing one school does; `previous` is the history copy of the replaced file, once written."""

    assessment: SchoolAssessment
    file: str
    action: Action
    changes: tuple[str, ...] = ()
    previous: Path | None = None

    @property
    def school_id(self) -> str:
        return self.assessment.school.id


def canonical(assessment: SchoolAssessment, catalogue: Catalogue) -> dict[str, Any]:
    """The school file's content with `measures_in_place` in catalogue order (it is a set; order carries nothing)."""
    data = assessment.model_dump(mode="json", exclude_defaults=True)
    order = {m.id: i for i, m in enumerate(catalogue.measures)}
    for entry in data.get("risks", {}).values():
        if "measures_in_place" in entry:
            entry["measures_in_place"] = sorted(
                entry["measures_in_place"],
                key=lambda m: order.get(m["measure"] if isinstance(m, dict) else m, len(order)),
            )
    return data


def _leaves(data: Any, path: list[str | int]) -> dict[str, Any]:
    """`{'risks.x.likelihood': 2, ...}`: dicts and lists of dicts opened up, lists of ids kept whole."""
    if isinstance(data, dict):
        return {k: v for key, value in data.items() for k, v in _leaves(value, [*path, key]).items()}
    if isinstance(data, list) and any(isinstance(item, dict) for item in data):
        return {k: v for i, item in enumerate(data) for k, v in _leaves(item, [*path, i]).items()}
    return {key_path(path): data}


def changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, ...]:
    """One line per changed field: `risks.x.likelihood: 2 -> 3`, `... : (none) -> ...` for added ones."""
    before, after = _leaves(old, []), _leaves(new, [])
    keys = [*before, *(k for k in after if k not in before)]
    return tuple(
        f"{k}: {_show(before.get(k))} -> {_show(after.get(k))}" for k in keys if before.get(k) != after.get(k)
    )


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    text = repr(text) if isinstance(value, str) else f"[{text}]" if isinstance(value, list) else text
    return text if len(text) <= 80 else text[:77] + "..."


def keep_unsheeted(old: SchoolAssessment, new: SchoolAssessment, carries: frozenset[str]) -> SchoolAssessment:
    """An update from a file keeps what the file has no sheet or columns for (`carries`: see intake.RawSchool), e.g. the
    DPO's advice when a school returns its questionnaire, or the platform block from an older table."""
    dsfa = {part: getattr(new.dsfa if part in carries else old.dsfa, part) for part in ("threshold", "answers", "views")}
    advice = new.dsfa.advice if "advice" in carries else old.dsfa.advice
    if "proposed" in carries and "advice" not in carries and advice is not None:
        advice = advice.model_copy(update={"proposed": new.dsfa.advice.proposed if new.dsfa.advice else {}})
    source = new.dsfa.decision if "decision" in carries else old.dsfa.decision
    decision = source.model_copy(update={
        part: getattr(new.dsfa.decision if part in carries else old.dsfa.decision, part) for part in ("residual", "accepted")})
    return new.model_copy(update={
        "platform": new.platform if "platform" in carries else old.platform,
        "dsfa": new.dsfa.model_copy(update={**dsfa, "advice": advice, "decision": decision}),
    })


def plan_import(district: District, paths: list[Path]) -> tuple[list[Outcome], list[str], list[Problem]]:
    """Read the files and decide, per school, created / updated / unchanged; nothing is written."""
    intake = read_files(paths, district)
    outcomes = []
    for item in intake.imported:
        new = item.assessment
        old = district.schools.get(new.school.id)
        if old is None:
            outcomes.append(Outcome(new, item.file, "created"))
            continue
        new = keep_unsheeted(old, new, item.carries)
        diff = changes(canonical(old, district.catalogue), canonical(new, district.catalogue))
        outcomes.append(Outcome(new, item.file, "updated" if diff else "unchanged", diff))
    return outcomes, intake.rejected, intake.problems


def apply_import(district: District, outcomes: list[Outcome], now: datetime | None = None) -> list[Outcome]:
    """Write created and updated schools, each under its lock; an updated school's previous file goes to
    `schools/.history/` first. A school whose file changed since the import read it (or that appeared meanwhile)
    is refused with FileConflict, its file untouched."""
    when = stamp(now)
    done = []
    for outcome in outcomes:
        if outcome.action not in ("updated", "created"):
            done.append(outcome)
            continue
        expected = district.schools.get(outcome.school_id)
        kept: list[Path] = []

        def check_and_keep(current: Path, expected: SchoolAssessment | None = expected, kept: list[Path] = kept) -> None:
            """Under the school's lock: the file is still what the plan read; keep a copy of it in the history."""
            found = read_school(current, district.catalogue)[0] if current.is_file() else None
            same = (found is None and expected is None and not current.exists()) or (
                found is not None and expected is not None
                and canonical(found, district.catalogue) == canonical(expected, district.catalogue))
            if not same:
                raise FileConflict(current, "changed since the import read it; nothing was written, import again")
            if expected is not None:
                kept.append(keep_previous(current, when))

        district.save_school(outcome.assessment, check_and_keep)
        done.append(replace(outcome, previous=kept[0]) if kept else outcome)
    return done


def import_report(outcomes: list[Outcome], rejected: list[str], lang: Lang, district: District, dry_run: bool) -> str:
    """The lines `riskkit import` prints: one per school, the changes of updated ones indented below."""
    lines = []
    for outcome in outcomes:
        line = f"{label(f'sheet.import.{outcome.action}', lang)}: {outcome.school_id} ({outcome.file})"
        if outcome.previous:
            line += f"; {label('sheet.import.previous', lang)}: {outcome.previous.relative_to(district.path)}"
        lines += [line, *(f"    {c}" for c in outcome.changes)]
    lines += [f"{label('sheet.import.rejected', lang)}: {r}" for r in rejected]
    if dry_run:
        lines.append(label("sheet.import.dry_run", lang))
    return "\n".join(lines)


def import_files(district: District, paths: list[Path], dry_run: bool = False) -> tuple[str, list[Problem]]:
    """Plan, write (unless `dry_run`) and report; returns the report and every problem found."""
    outcomes, rejected, problems = plan_import(district, paths)
    if not dry_run:
        outcomes = apply_import(district, outcomes)
    return import_report(outcomes, rejected, district.config.language, district, dry_run), problems
