"""Saves that cannot race: one lock per school file held across the stamp check and the write (capture form, import,
save_school), new school ids taken atomically, and school files keeping their extension."""

from __future__ import annotations

import csv
import io
import multiprocessing
import threading
import time
from pathlib import Path

import pytest
import yaml

import riskkit.model.assessment as assessment_module
from riskkit.capture.state import CaptureSession, SaveConflict
from riskkit.model.district import load_district
from riskkit.model.locks import FileConflict
from riskkit.sheets.export import export_bytes
from riskkit.sheets.importer import apply_import, plan_import

from conftest import TODAY, run_cli

SCHOOL = "gs-kleeblatt"
RISK = "identity-theft"


def slow_writes(monkeypatch_or_none=None, seconds: float = 0.3) -> None:
    """Make every school write wait before writing, so two saves surely overlap in time."""
    original = assessment_module.write_atomic

    def slow(*args, **kwargs):
        time.sleep(seconds)
        return original(*args, **kwargs)

    if monkeypatch_or_none is None:
        assessment_module.write_atomic = slow
    else:
        monkeypatch_or_none.setattr(assessment_module, "write_atomic", slow)


def edit_and_save(district_dir: Path, likelihood: int, start: float, new_id: str | None = None) -> str:
    """Load (or start a new school), set a likelihood, wait until `start` (wall clock), save; 'saved' or 'conflict'."""
    session = CaptureSession(load_district(district_dir), today=TODAY)
    if new_id:
        session.new_school()
        d = session.draft
        d.school_id, d.school_name, d.school_kind, d.assessed_by = new_id, f"Schule {likelihood}", "primary", "Anna"
    else:
        session.load(SCHOOL)
    entry = session.draft.risks[RISK]
    entry.likelihood, entry.reason = likelihood, entry.reason or "Grund"
    time.sleep(max(0.0, start - time.time()))
    try:
        session.save()
    except SaveConflict:
        return "conflict"
    return "saved"


def _in_process(args: tuple) -> str:
    slow_writes()
    return edit_and_save(*args)


def likelihood_on_disk(path: Path) -> int:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["risks"][RISK]["likelihood"]


def run_threads(district_dir: Path, new_id: str | None = None) -> list[str]:
    start = time.time() + 1.0
    outcomes: dict[int, str] = {}
    threads = [threading.Thread(target=lambda n=n: outcomes.__setitem__(n, edit_and_save(district_dir, n, start, new_id)))
               for n in (3, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [outcomes[3], outcomes[4]]


def test_two_threads_saving_one_school_lose_no_update(district_dir, monkeypatch):
    slow_writes(monkeypatch)
    outcomes = run_threads(district_dir)
    assert sorted(outcomes) == ["conflict", "saved"]
    winner = 3 if outcomes[0] == "saved" else 4
    assert likelihood_on_disk(district_dir / "schools" / f"{SCHOOL}.yaml") == winner


def test_two_processes_saving_one_school_lose_no_update(district_dir):
    start = time.time() + 3.0  # spawned interpreters need a moment to import riskkit
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        outcomes = pool.map(_in_process, [(district_dir, 3, start), (district_dir, 4, start)])
    assert sorted(outcomes) == ["conflict", "saved"]
    winner = 3 if outcomes[0] == "saved" else 4
    assert likelihood_on_disk(district_dir / "schools" / f"{SCHOOL}.yaml") == winner


def test_two_new_schools_with_one_id_one_gets_a_conflict(district_dir, monkeypatch):
    slow_writes(monkeypatch)
    outcomes = run_threads(district_dir, new_id="gs-neu")
    assert sorted(outcomes) == ["conflict", "saved"]
    winner = 3 if outcomes[0] == "saved" else 4
    assert likelihood_on_disk(district_dir / "schools" / "gs-neu.yaml") == winner


def test_a_new_school_file_that_appears_before_the_write_is_not_overwritten(district_dir, monkeypatch):
    """Someone (not riskkit) creates the file between the check and the write: the create-only write refuses."""
    session = CaptureSession(load_district(district_dir), today=TODAY)
    session.new_school()
    d = session.draft
    d.school_id, d.school_name, d.school_kind, d.assessed_by = "gs-neu", "Neu", "primary", "Anna"
    target = district_dir / "schools" / "gs-neu.yaml"
    original = assessment_module.write_atomic

    def sneaky(path, data, **kwargs):
        target.write_text("theirs", encoding="utf-8")
        return original(path, data, **kwargs)

    monkeypatch.setattr(assessment_module, "write_atomic", sneaky)
    with pytest.raises(SaveConflict):
        session.save()
    assert target.read_text(encoding="utf-8") == "theirs"


def changed_export(district, folder: Path) -> Path:
    """The district's export with one likelihood of SCHOOL changed: importing it updates that school."""
    rows = list(csv.DictReader(io.StringIO(export_bytes(district, "csv", TODAY, lang="en").decode("utf-8-sig"))))
    row = next(r for r in rows if (r["school_id"], r["risk_id"]) == (SCHOOL, RISK))
    row["likelihood"] = "4" if row["likelihood"] != "4" else "3"
    path = folder / "changed.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_an_import_refuses_a_school_changed_after_it_was_read(district_dir, tmp_path):
    district = load_district(district_dir)
    path = changed_export(district, tmp_path)
    outcomes, _, problems = plan_import(district, [path])
    assert not problems and [o.action for o in outcomes if o.school_id == SCHOOL] == ["updated"]
    school = district_dir / "schools" / f"{SCHOOL}.yaml"
    theirs = school.read_text(encoding="utf-8").replace("assessed_by: ", "assessed_by: Jemand anderes, ", 1)
    school.write_text(theirs, encoding="utf-8")  # the form saved meanwhile
    with pytest.raises(FileConflict, match="changed since the import read it"):
        apply_import(district, [o for o in outcomes if o.school_id == SCHOOL])
    assert school.read_text(encoding="utf-8") == theirs
    assert not (district_dir / "schools" / ".history").exists()


def test_a_yml_school_file_stays_yml_through_form_and_import(district_dir, tmp_path):
    yaml_file = district_dir / "schools" / f"{SCHOOL}.yaml"
    yml_file = yaml_file.with_suffix(".yml")
    yaml_file.rename(yml_file)
    session = CaptureSession(load_district(district_dir), today=TODAY)
    session.load(SCHOOL)
    session.draft.risks[RISK].likelihood = 4
    assert session.save() == yml_file
    assert not yaml_file.exists() and likelihood_on_disk(yml_file) == 4
    result = run_cli("validate", district_dir, "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert any(line.startswith(f"{SCHOOL} ") for line in result.output.splitlines())
    result = run_cli("import", changed_export(load_district(district_dir), tmp_path), district_dir)
    assert result.exit_code == 0 and f"{SCHOOL}" in result.output, result.output
    assert likelihood_on_disk(yml_file) == 3
    assert sorted(p.name for p in (district_dir / "schools").glob(f"{SCHOOL}.y*ml")) == [yml_file.name]
