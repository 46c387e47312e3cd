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
    assert book.sheetnames == ["Anleitung", "Schule", "Ihre Plattform", "Risiken", "Geplante Maßnahmen", "Fragen",
                               "Schwellwertanalyse", "Stellungnahmen", "Entscheidung", "Listen"]
    assert book["Listen"].sheet_state == "hidden"
    risks = book["Risiken"]
    header = [c.value for c in risks[1]]
    assert header[:10] == ["Nr.", "Risiko-ID", "Risiko", "Module", "Schwere", "Begründung der Schwere",
                           "Eintrittswahrscheinlichkeit", "Begründung der Eintrittswahrscheinlichkeit",
                           "Schwere erhöht auf (nur wenn nötig)", "Grund für die höhere Schwere"]
    assert header[10] == "Nutzerordnung mit Konsequenzen"
    assert header[-4:] == ["Restrisiko abweichend: Eintrittswahrscheinlichkeit", "Restrisiko abweichend: Schwere",
                           "Restrisiko abweichend: Begründung", "Restrisiko akzeptiert: Begründung der Schulleitung"]
    assert len(header) == 10 + 37 + 4  # catalogue 1.1.0: 37 measures
    assert [c.value for c in risks[6]][:5] == ["R5", "vc-recording", "Aufzeichnung oder Weitergabe von Videokonferenzen",
                                               "Videokonferenz", "4 groß"]
    assert risks.max_row == 1 + 22  # a blank questionnaire asks every risk
    assert [c.value for c in book["Schule"]["A"]] == ["Angabe", "Schul-ID", "Name der Schule", "Schulform", "Bewertet am",
                                                      "Bewertet von", "Katalogversion"]
    assert book["Schule"]["B7"].value == "1.1.0"
    assert [c.value for c in book["Geplante Maßnahmen"][1]] == ["Risiko", "Maßnahme", "Verantwortlich", "Umsetzen bis", "Anmerkung"]


def test_template_in_english(tmp_path):
    path = tmp_path / "questionnaire.xlsx"
    assert run_cli("template", SAMPLE, "-o", path, "--lang", "en").output == f"written: {path}\n"
    book = load_workbook(path)
    assert book.sheetnames == ["Instructions", "School", "Your platform", "Risks", "Planned measures", "Questions",
                               "Threshold analysis", "Views", "Decision", "Lists"]
    assert [c.value for c in book["Risks"][1]][6:8] == ["Likelihood", "Reason for the likelihood"]
    assert [book["Lists"].cell(r, 1).value for r in range(1, 5)] == ["negligible", "limited", "significant", "major"]


def test_severity_and_its_reason_are_read_only_and_inputs_are_open(blank):
    sheet = load_workbook(blank)["Risiken"]
    assert sheet.protection.sheet is True
    for column in "ABCDEF":
        assert sheet[f"{column}2"].protection.locked is True
    for column in ("G", "H", "I", "J", "AV", "AW", "AX", "AY"):  # answers, raised severity, the head's decision
        assert sheet[f"{column}2"].protection.locked is False
    cat = riskkit.load_catalogue()
    relevant = {m.id for m in cat.measures_for("discrimination-exposure")}
    for offset, measure in enumerate(cat.measures):
        cell = sheet.cell(2, 11 + offset)
        assert cell.protection.locked is (measure.id not in relevant), measure.id
    assert load_workbook(blank)["Schule"]["B7"].protection.locked is True  # catalogue version


def test_likelihood_kind_and_measures_are_drop_downs(blank):
    book = load_workbook(blank)
    rules = {str(v.formula1): v for v in book["Risiken"].data_validations.dataValidation}
    levels = rules["'Listen'!$A$1:$A$4"]
    assert levels.type == "list"
    cells = set(str(levels.sqref).split())
    # likelihood, raised severity, and the head's residual likelihood and severity
    assert {f"{col}{r}" for col in ("G", "I", "AV", "AW") for r in range(2, 24)} == cells
    assert [book["Listen"].cell(r, 1).value for r in range(1, 5)] == LEVELS_DE
    cat = riskkit.load_catalogue()
    in_place = rules["'Listen'!$F$1:$F$2"]  # "ja" or "teilweise: …" (other text allowed after a note: the scope)
    assert len(str(in_place.sqref).split()) == sum(len(cat.measures_for(r.id)) for r in cat.risks) == 63
    assert (book["Listen"]["F1"].value, book["Listen"]["F2"].value) == ("ja", "teilweise: …")
    assert in_place.errorStyle == "information" and "teilweise: nur Lehrkräfte" in in_place.prompt
    school_rules = {str(v.formula1): str(v.sqref) for v in book["Schule"].data_validations.dataValidation}
    assert school_rules["'Listen'!$B$1:$B$7"] == "B4"
    assert school_rules["DATE(2000,1,1)"] == "B5"
    planned = {str(v.formula1): str(v.sqref) for v in book["Geplante Maßnahmen"].data_validations.dataValidation}
    assert planned == {"'Listen'!$D$1:$D$22": "A2:A64", "'Listen'!$E$1:$E$37": "B2:B64", "DATE(2000,1,1)": "D2:D64"}


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
    col = {c.value: c.column_letter for c in risks[1]}
    risks["G3"], risks["H3"] = "überschaubar", "Zwei-Faktor-Anmeldung für Lehrkräfte."  # identity-theft
    risks["I3"], risks["J3"] = "groß", "Im Klassenordner liegen Förderpläne."  # the school raises the severity
    risks[col["Nutzerordnung mit Konsequenzen"] + "3"] = "ja"
    risks[col["Zwei-Faktor-Authentifizierung"] + "3"] = "teilweise: nur Lehrkräfte"  # in place only in part, with its scope
    risks["G6"], risks["H6"] = 3, "Klassen 3 und 4 nutzen Videokonferenzen."  # vc-recording, a number works too
    risks["AV6"], risks["AW6"], risks["AX6"] = "geringfügig", "substanziell", "Kameras aus; mit der DSB abgestimmt."
    risks["AY6"] = "Distanzunterricht braucht Video; Mitschnitt ist verboten."  # the head accepts the residual risk
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
catalogue_version: 1.1.0
risks:
  identity-theft:
    likelihood: 2
    reason: Zwei-Faktor-Anmeldung für Lehrkräfte.
    measures_in_place:
    - usage-rules
    - measure: two-factor-auth
      partial: nur Lehrkräfte
    measures_planned:
    - measure: admin-obligation
      owner: IT-Team
      due: '2027-01-31'
      note: mit dem Träger
    severity:
      level: 4
      reason: Im Klassenordner liegen Förderpläne.
  vc-recording:
    likelihood: 3
    reason: Klassen 3 und 4 nutzen Videokonferenzen.
dsfa:
  decision:
    residual:
      vc-recording:
        likelihood: 1
        severity: 3
        reason: Kameras aus; mit der DSB abgestimmt.
    accepted:
      vc-recording: Distanzunterricht braucht Video; Mitschnitt ist verboten.
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
        as_sets = lambda a: {k: {**e.model_dump(), "measures_in_place": set(e.in_place())} for k, e in a.risks.items()}
        assert as_sets(item.assessment) == as_sets(original)  # measures in place come back in catalogue order
        # everything else but the DPO's advice, which is not the school's to fill in (the import keeps it)
        assert item.assessment.dsfa.advice is None
        exclude = {"risks": True, "dsfa": {"advice"}}
        assert item.assessment.model_dump(exclude=exclude) == original.model_dump(exclude=exclude)
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
