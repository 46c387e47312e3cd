"""Spreadsheets and the complete DSFA: Excel that opens (a German Excel simulation), not-applicable risks refused with
their cell, partial measures and the vendor's suggestions in the questionnaire, the platform sheet."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

import riskkit
from riskkit.sheets.intake import read_files

from conftest import TODAY, files_of, run_cli

NA_SCHOOL, NA_RISK = "gs-am-lindenweg", "third-party-addons"  # the school has not switched the add-ons on
TRICKY = "Grund; mit Semikolon\nund zweiter Zeile – Förderpläne „vertraulich“"


def excel_opens_csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    """Read a CSV as German Excel does on double-click: UTF-8 only with a BOM (else Windows-1252), ';' as the
    separator, quoted fields may hold ';' and line breaks."""
    text = data[3:].decode("utf-8") if data.startswith(b"\xef\xbb\xbf") else data.decode("cp1252")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    return rows[0], rows[1:]


@pytest.fixture
def tricky_district(district_dir: Path) -> Path:
    district = riskkit.load_district(district_dir)
    school = district.school("gs-kleeblatt")
    entry = school.risks["identity-theft"].model_copy(update={"reason": TRICKY})
    district.save_school(school.model_copy(update={"risks": {**school.risks, "identity-theft": entry}}))
    return district_dir


def test_german_excel_opens_the_csv_export_in_columns(tricky_district, tmp_path):
    out = tmp_path / "ergebnisse.csv"
    result = run_cli("export", tricky_district, "--format", "csv", "-o", out, "--today", TODAY.isoformat())
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM makes Excel read UTF-8
    header, rows = excel_opens_csv(data)
    assert header[:4] == ["Schul-ID", "Schule", "Schulform", "Risiko-ID"]
    assert "Eintrittswahrscheinlichkeit" in header and "Stand der DSFA" in header
    assert len(rows) == 12 * 22 and {len(r) for r in rows} == {len(header)}  # every row in its columns
    first_line = data[3:].decode("utf-8").split("\r\n", 1)[0]
    assert all(field.startswith('"') and field.endswith('"') for field in first_line.split(";"))  # text quoted
    row = dict(zip(header, next(r for r in rows if r[0] == "gs-kleeblatt" and r[3] == "identity-theft")))
    assert row["Begründung der Eintrittswahrscheinlichkeit"] == TRICKY  # ';', line break, umlauts and quotes intact
    assert (row["Eintrittswahrscheinlichkeit"], row["bewertet"], row["anwendbar"]) == ("überschaubar", "ja", "ja")
    assert row["Schulform"] == "Grundschule"
    na = dict(zip(header, next(r for r in rows if r[0] == NA_SCHOOL and r[3] == NA_RISK)))
    assert (na["anwendbar"], na["bewertet"], na["Eintrittswahrscheinlichkeit"]) == ("nein", "nein", "")
    # and the file reads back as it was written
    intake = read_files([out], riskkit.load_district(tricky_district))
    assert intake.problems == [] and len(intake.imported) == 12


def test_the_english_csv_keeps_ids_numbers_and_commas(district_dir, tmp_path):
    out = tmp_path / "results.csv"
    assert run_cli("export", district_dir, "--format", "csv", "-o", out, "--lang", "en").output == f"written: {out}\n"
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    row = next(r for r in rows if (r["school_id"], r["risk_id"]) == ("gs-kleeblatt", "identity-theft"))
    assert (row["likelihood"], row["assessed"], row["school_kind"]) == ("2", "true", "primary")


def test_the_xlsx_export_has_german_headers_a_frozen_row_a_filter_and_widths(district_dir, tmp_path):
    out = tmp_path / "ergebnisse.xlsx"
    assert run_cli("export", district_dir, "--format", "xlsx", "-o", out).exit_code == 0
    sheet = load_workbook(out)["Ergebnisse"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Schul-ID", "Schule", "Schulform", "Risiko-ID"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(header)).column_letter}{1 + 12 * 22}"
    assert all(sheet.cell(1, c).font.b for c in range(1, len(header) + 1))
    widths = [sheet.column_dimensions[sheet.cell(1, c).column_letter].width for c in range(1, len(header) + 1)]
    assert all(10 <= w <= 60 for w in widths) and max(widths) > min(widths)
    row = [c.value for c in sheet[2]]
    assert row[header.index("Eintrittswahrscheinlichkeit")] in ("geringfügig", "überschaubar", "substanziell", "groß")


# --- not applicable: never asked, refused with its cell -------------------------------------------------------------

def test_a_flat_row_for_a_risk_that_does_not_apply_is_refused(district_dir, tmp_path):
    out = tmp_path / "export.csv"
    assert run_cli("export", district_dir, "--format", "csv", "-o", out, "--lang", "en").exit_code == 0
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    at = {name: i for i, name in enumerate(rows[0])}
    number = next(n for n, r in enumerate(rows, start=1) if r[0] == NA_SCHOOL and r[at["risk_id"]] == NA_RISK)
    rows[number - 1][at["likelihood"]], rows[number - 1][at["reason"]] = "2", "Wir nutzen keine Erweiterungen."
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    out.write_text(buffer.getvalue(), encoding="utf-8")
    before = files_of(district_dir)
    result = run_cli("import", out, district_dir, "--lang", "en")
    assert result.exit_code == 2
    assert (f"{out}: row {number}, column risk_id: risk {NA_RISK} is not applicable at this school: its modules"
            f" (add-ons) are not in use; leave its row empty or switch a module on (got '{NA_RISK}')") in result.output
    assert f"nicht übernommen (Fehler): {NA_SCHOOL} ({out})" in result.output
    assert files_of(district_dir) == before


def test_the_questionnaire_of_a_school_asks_only_its_risks(district_dir, tmp_path):
    path = tmp_path / "t.xlsx"
    assert run_cli("template", district_dir, "-o", path, "--school", NA_SCHOOL).exit_code == 0
    book = load_workbook(path)
    listed = [c.value for c in book["Risiken"]["B"][1:]]
    district = riskkit.load_district(district_dir)
    applicable = [r.risk.id for r in district.evaluate(NA_SCHOOL) if r.applicable]
    assert listed == applicable and NA_RISK not in listed and len(listed) == 21
    # a planned measure for the risk that does not apply is refused at its cell
    book["Geplante Maßnahmen"].append([district.catalogue.risk(NA_RISK).title["de"], "Nutzerordnung mit Konsequenzen",
                                       "IT", date(2027, 1, 1), None])
    row = book["Geplante Maßnahmen"].max_row
    book.save(path)
    before = files_of(district_dir)
    result = run_cli("import", path, district_dir, "--lang", "en")
    assert f"Geplante Maßnahmen!row {row}, column Risiko: risk {NA_RISK} is not applicable at this school" in result.output
    assert files_of(district_dir) == before


# --- the questionnaire: platform, partial measures, the vendor's suggestions -------------------------------------

@pytest.fixture
def blank(tmp_path) -> Path:
    path = tmp_path / "fragebogen.xlsx"
    assert run_cli("template", Path(__file__).parent.parent / "data" / "sample-district", "-o", path).exit_code == 0
    return path


def fill_school(book) -> None:
    school = book["Schule"]
    school["B2"], school["B3"], school["B4"] = "gs-neu", "Grundschule Neu", "Grundschule"
    school["B5"], school["B6"] = date(2026, 10, 1), "Jana Koch (Schulleitung)"


def platform_rows(book) -> dict[str, int]:
    return {c.value: c.row for c in book["Ihre Plattform"]["A"] if c.value}


def test_the_platform_sheet_switches_modules_and_their_risks(blank, district_dir, tmp_path):
    book = load_workbook(blank)
    fill_school(book)
    sheet, rows = book["Ihre Plattform"], platform_rows(book)
    sheet[f"B{rows['Betrieb auf']}"] = "Cloud des Herstellers"
    sheet[f"B{rows['Stand der Verarbeitung']}"] = "in Betrieb"
    sheet[f"B{rows['In Betrieb seit']}"] = date(2022, 8, 1)
    sheet[f"B{rows['Zahl der Schülerinnen und Schüler (ungefähr)']}"] = 210
    district = riskkit.load_district(district_dir)
    titles = {m.id: m.title["de"] for m in district.catalogue.modules}
    for module in district.catalogue.modules:
        row = rows[titles[module.id]]
        if not module.mandatory:
            sheet[f"B{row}"] = "ja" if module.id in ("mail", "files") else "nein"
        sheet[f"C{row}"] = "Vertrag" if module.id == "mail" else None
    sheet[f"D{rows[titles['files']]}"] = "Klassenordner"
    risks = book["Risiken"]
    in_use = {"accounts", "administration", "mail", "files"}
    switched_off = next(r for r in district.catalogue.risks if not in_use.intersection(r.modules))
    row = next(c.row for c in risks["B"] if c.value == switched_off.id)
    risks[f"G{row}"], risks[f"H{row}"] = "überschaubar", "Das Modul ist aus."
    path = tmp_path / "gs-neu.xlsx"
    book.save(path)
    problems = run_cli("import", path, district_dir, "--lang", "en").output
    assert (f"Ihre Plattform!row {rows[titles['mail']]}, column Rechtsgrundlage: not an allowed value; allowed:"
            in problems) and "(got 'Vertrag')" in problems
    assert f"Risiken!row {row}, column Risiko-ID: risk {switched_off.id} is not applicable at this school" in problems
    assert not (district_dir / "schools" / "gs-neu.yaml").exists()
    # repaired: the platform block is written as the school described it
    sheet[f"C{rows[titles['mail']]}"] = "Wahrnehmung einer Aufgabe im öffentlichen Interesse (Schulgesetz des Landes)"
    risks[f"G{row}"], risks[f"H{row}"] = None, None
    book.save(path)
    result = run_cli("import", path, district_dir, "--lang", "en")
    assert result.exit_code == 0, result.output
    school = riskkit.load_district(district_dir).school("gs-neu")
    assert (school.platform.hosting, school.platform.operation, school.platform.pupils) == ("cloud", "running", 210)
    assert school.platform.running_since == date(2022, 8, 1)
    assert set(school.platform.modules) == {"accounts", "administration", "mail", "files"}
    assert school.platform.modules["mail"].legal_basis == "school-law"
    assert school.platform.modules["files"].groups == "Klassenordner"


def test_a_partial_measure_needs_its_scope(blank, district_dir, tmp_path):
    book = load_workbook(blank)
    fill_school(book)
    risks = book["Risiken"]
    col = {c.value: c.column_letter for c in risks[1]}
    risks["G3"], risks["H3"] = "überschaubar", "Nur Lehrkräfte haben 2FA."  # identity-theft
    risks[col["Zwei-Faktor-Authentifizierung"] + "3"] = "teilweise"
    path = tmp_path / "gs-neu.xlsx"
    book.save(path)
    result = run_cli("import", path, district_dir, "--lang", "en")
    assert ("Risiken!row 3, column Zwei-Faktor-Authentifizierung: say for which part the measure is in place, e.g."
            " 'teilweise: nur Lehrkräfte' (got 'teilweise')") in result.output
    risks[col["Zwei-Faktor-Authentifizierung"] + "3"] = "Teilweise:  nur Lehrkräfte"
    book.save(path)
    assert run_cli("import", path, district_dir, "--lang", "en").exit_code == 0
    entry = riskkit.load_district(district_dir).school("gs-neu").risks["identity-theft"]
    assert entry.in_place() == [("two-factor-auth", "nur Lehrkräfte")]


def test_the_vendors_suggestion_counts_only_when_the_school_confirms_it(blank, district_dir, tmp_path):
    book = load_workbook(blank)
    fill_school(book)
    questions = book["Fragen"]
    district = riskkit.load_district(district_dir)
    with_default = [q for q in district.catalogue.questions if q.default]
    row = next(c.row for c in questions["A"] if c.value == with_default[0].id)
    assert questions[f"G{row}"].value == with_default[0].default.text["de"]  # pre-filled, marked
    assert questions[f"E{row}"].value.startswith("Vorschlag des Herstellers (Status: ")
    assert questions[f"G{row}"].fill.fgColor.rgb.endswith("FFF2CC")
    path = tmp_path / "gs-neu.xlsx"
    book.save(path)
    assert run_cli("import", path, district_dir, "--lang", "en").exit_code == 0
    assert riskkit.load_district(district_dir).school("gs-neu").dsfa.answers == {}  # not confirmed: no answer
    questions[f"F{row}"] = "erfüllt"
    book.save(path)
    result = run_cli("import", path, district_dir, "--lang", "en")
    assert result.exit_code == 0, result.output
    answers = riskkit.load_district(district_dir).school("gs-neu").dsfa.answers
    assert list(answers) == [with_default[0].id]
    assert (answers[with_default[0].id].status, answers[with_default[0].id].text) == (
        "met", with_default[0].default.text["de"])


def test_a_returned_questionnaire_keeps_the_dpos_advice(district_dir, tmp_path):
    school = "gym-alte-muehle"
    path = tmp_path / "q.xlsx"
    assert run_cli("template", district_dir, "-o", path, "--school", school).exit_code == 0
    book = load_workbook(path)
    book["Entscheidung"]["B2"] = "Dr. Jana Koch (Schulleiterin)"
    book["Entscheidung"]["B3"] = date(2026, 11, 20)
    book["Entscheidung"]["B4"] = "freigegeben"
    book.save(path)
    advice = riskkit.load_district(district_dir).school(school).dsfa.advice
    result = run_cli("import", path, district_dir, "--lang", "en")
    assert result.exit_code == 0, result.output
    decided = riskkit.load_district(district_dir).school(school)
    assert (decided.dsfa.decision.outcome, decided.dsfa.decision.on) == ("released", date(2026, 11, 20))
    assert decided.dsfa.advice == advice is not None
