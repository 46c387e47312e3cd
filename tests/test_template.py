"""`riskkit template`: the XLSX questionnaire — layout, read-only cells, drop-downs, and that a filled one imports."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

import riskkit
from riskkit.cli import main
from riskkit.sheets.intake import read_files

from conftest import SAMPLE, files_of, run_cli

LEVELS_DE = ["geringfügig", "überschaubar", "substanziell", "groß"]


@pytest.fixture(scope="module")
def blank(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "fragebogen.xlsx"
    result = run_cli("template", SAMPLE, "-o", path)
    assert result.exit_code == 0, result.output
    assert result.output == f"geschrieben: {path}\n"
    return path


def test_template_has_german_sheets_and_headers(blank):
    book = load_workbook(blank)
    assert book.sheetnames == ["Anleitung", "Schule", "Risiken", "Geplante Maßnahmen", "Listen"]
    assert book["Listen"].sheet_state == "hidden"
    risks = book["Risiken"]
    header = [c.value for c in risks[1]]
    assert header[:7] == ["Nr.", "Risiko-ID", "Risiko", "Schwere", "Begründung der Schwere",
                          "Eintrittswahrscheinlichkeit", "Begründung der Eintrittswahrscheinlichkeit"]
    assert header[7] == "Nutzerordnung mit Konsequenzen"
    assert header[-3:] == ["Restrisiko abweichend: Eintrittswahrscheinlichkeit", "Restrisiko abweichend: Schwere",
                           "Restrisiko abweichend: Begründung"]
    assert len(header) == 7 + 24 + 3
    assert [c.value for c in risks[6]][:4] == ["R5", "vc-recording", "Aufzeichnung oder Weitergabe von Videokonferenzen", "4 groß"]
    assert risks.max_row == 14
    assert [c.value for c in book["Schule"]["A"]] == ["Angabe", "Schul-ID", "Name der Schule", "Schulform", "Bewertet am",
                                                      "Bewertet von", "Katalogversion"]
    assert book["Schule"]["B7"].value == "1.0.0"
    assert [c.value for c in book["Geplante Maßnahmen"][1]] == ["Risiko", "Maßnahme", "Verantwortlich", "Umsetzen bis", "Anmerkung"]


def test_template_in_english(tmp_path):
    path = tmp_path / "questionnaire.xlsx"
    assert run_cli("template", SAMPLE, "-o", path, "--lang", "en").output == f"written: {path}\n"
    book = load_workbook(path)
    assert book.sheetnames == ["Instructions", "School", "Risks", "Planned measures", "Lists"]
    assert [c.value for c in book["Risks"][1]][5:7] == ["Likelihood", "Reason for the likelihood"]
    assert [book["Lists"].cell(r, 1).value for r in range(1, 5)] == ["negligible", "limited", "significant", "major"]


def test_severity_and_its_reason_are_read_only_and_inputs_are_open(blank):
    sheet = load_workbook(blank)["Risiken"]
    assert sheet.protection.sheet is True
    for column in "ABCDE":
        assert sheet[f"{column}2"].protection.locked is True
    for column in ("F", "G", "AF", "AG", "AH"):
        assert sheet[f"{column}2"].protection.locked is False
    cat = riskkit.load_catalogue()
    relevant = {m.id for m in cat.measures_for("discrimination-exposure")}
    for offset, measure in enumerate(cat.measures):
        cell = sheet.cell(2, 8 + offset)
        assert cell.protection.locked is (measure.id not in relevant), measure.id
    assert load_workbook(blank)["Schule"]["B7"].protection.locked is True  # catalogue version


def test_likelihood_kind_and_measures_are_drop_downs(blank):
    book = load_workbook(blank)
    rules = {str(v.formula1): v for v in book["Risiken"].data_validations.dataValidation}
    levels = rules["'Listen'!$A$1:$A$4"]
    assert levels.type == "list"
    cells = set(str(levels.sqref).split())
    assert {f"F{r}" for r in range(2, 15)} | {f"AF{r}" for r in range(2, 15)} | {f"AG{r}" for r in range(2, 15)} == cells
    assert [book["Listen"].cell(r, 1).value for r in range(1, 5)] == LEVELS_DE
    cat = riskkit.load_catalogue()
    yes_cells = str(rules["'Listen'!$C$1:$C$1"].sqref).split()
    assert len(yes_cells) == sum(len(cat.measures_for(r.id)) for r in cat.risks) == 50
    assert book["Listen"]["C1"].value == "ja"
    school_rules = {str(v.formula1): str(v.sqref) for v in book["Schule"].data_validations.dataValidation}
    assert school_rules["'Listen'!$B$1:$B$7"] == "B4"
    assert school_rules["DATE(2000,1,1)"] == "B5"
    planned = {str(v.formula1): str(v.sqref) for v in book["Geplante Maßnahmen"].data_validations.dataValidation}
    assert planned == {"'Listen'!$D$1:$D$13": "A2:A51", "'Listen'!$E$1:$E$24": "B2:B51", "DATE(2000,1,1)": "D2:D51"}


def test_instructions_explain_the_levels(blank):
    text = [row[0] for row in load_workbook(blank)["Anleitung"].iter_rows(values_only=True)]
    assert text[0] == "Datenschutz-Folgenabschätzung: Fragebogen für die Schule"
    assert "Stufen der Eintrittswahrscheinlichkeit" in text
    assert "1 geringfügig" in text and "4 groß" in text


def test_a_filled_template_imports_as_a_new_school(blank, district_dir, tmp_path):
    book = load_workbook(blank)
    school = book["Schule"]
    school["B2"], school["B3"], school["B4"] = "gs-neustadt", "Grundschule Neustadt", "Grundschule"
    school["B5"], school["B6"] = date(2026, 10, 1), "Jana Koch (Schulleitung)"
    risks = book["Risiken"]
    risks["F3"], risks["G3"] = "überschaubar", "Zwei-Faktor-Anmeldung für Lehrkräfte."  # identity-theft
    risks["H3"], risks["L3"] = "ja", "ja"  # usage-rules, two-factor-auth
    risks["F6"], risks["G6"] = 3, "Klassen 3 und 4 nutzen Videokonferenzen."  # vc-recording, a number works too
    risks["AF6"], risks["AG6"], risks["AH6"] = "geringfügig", "substanziell", "Kameras aus; mit der DSB abgestimmt."
    planned = book["Geplante Maßnahmen"]
    planned.append(["Identitätsdiebstahl", "Schriftliche Verpflichtung der Administratoren", "IT-Team", date(2027, 1, 31), "mit dem Träger"])
    filled = tmp_path / "gs-neustadt.xlsx"
    book.save(filled)
    result = run_cli("import", filled, district_dir)
    assert result.exit_code == 0, result.output
    assert result.output == f"neu: gs-neustadt ({filled})\n"
    assert (district_dir / "schools" / "gs-neustadt.yaml").read_text(encoding="utf-8") == """\
school:
  id: gs-neustadt
  name: Grundschule Neustadt
  kind: primary
assessed_on: '2026-10-01'
assessed_by: Jana Koch (Schulleitung)
catalogue_version: 1.0.0
risks:
  identity-theft:
    likelihood: 2
    reason: Zwei-Faktor-Anmeldung für Lehrkräfte.
    measures_in_place:
    - usage-rules
    - two-factor-auth
    measures_planned:
    - measure: admin-obligation
      owner: IT-Team
      due: '2027-01-31'
      note: mit dem Träger
  vc-recording:
    likelihood: 3
    reason: Klassen 3 und 4 nutzen Videokonferenzen.
    override:
      likelihood: 1
      severity: 3
      reason: Kameras aus; mit der DSB abgestimmt.
"""
    assert riskkit.load_district(district_dir).school("gs-neustadt").school.name == "Grundschule Neustadt"


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_sample_school_round_trips_through_its_prefilled_template(district_dir, tmp_path, lang):
    district = riskkit.load_district(district_dir)
    paths = []
    for school_id in district.schools:
        path = tmp_path / f"{school_id}.xlsx"
        assert run_cli("template", district_dir, "-o", path, "--lang", lang, "--school", school_id).exit_code == 0
        paths.append(path)
    intake = read_files(paths, district)
    assert intake.problems == [] and intake.rejected == []
    for item in intake.imported:
        original = district.school(item.assessment.school.id)
        as_sets = lambda a: {k: {**e.model_dump(), "measures_in_place": set(e.measures_in_place)} for k, e in a.risks.items()}
        assert as_sets(item.assessment) == as_sets(original)  # measures in place come back in catalogue order
        assert item.assessment.model_dump(exclude={"risks"}) == original.model_dump(exclude={"risks"})
    before = files_of(district_dir)
    result = run_cli("import", *paths, district_dir)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"unverändert: {p.stem} ({p})" for p in paths]
    assert files_of(district_dir) == before


def test_template_for_an_unknown_school_names_the_known_ones(tmp_path):
    result = CliRunner().invoke(main, ["template", str(SAMPLE), "-o", str(tmp_path / "x.xlsx"), "--school", "gs-x", "--lang", "en"])
    assert result.exit_code == 2
    assert "error: unknown school 'gs-x'; known: bbs-gesundheit-soziales, bbs-musterau," in result.output
    assert not (tmp_path / "x.xlsx").exists()
