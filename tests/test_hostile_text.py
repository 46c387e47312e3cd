"""Hostile text in every field a user types (school and district files) never becomes markup in any output riskkit
writes: the school report (HTML and PDF), the batch index, the overview, the capture form, the CSV/XLSX export and
the plotly figures. The text itself is kept, shown as typed."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import ipywidgets as w
import pytest
import yaml
from openpyxl import load_workbook

from riskkit.capture.form import capture_form
from riskkit.figures.plots import risk_matrix_figure
from riskkit.model.district import load_district
from riskkit.model.i18n import TEXT_LIMIT
from riskkit.reports.batch import run_batch
from riskkit.sheets.export import export_bytes

from conftest import SAMPLE, TODAY, Tags

PAYLOAD = ('<a href="https://evil.example/">x</a> <script>alert(1)</script> &amp; "double" \'single\' <br>'
           " <sup>up</sup> <b>bold</b> \u202eRTL\u202c")
LONG = PAYLOAD + " " + ("long text " * 1000)[: TEXT_LIMIT - len(PAYLOAD) - 2] + "."  # as long as allowed
FORMULA = '=HYPERLINK("https://evil.example/","x") ' + PAYLOAD
SCHOOL = "foerderzentrum-am-weiher"
RAW = ('<a href="https://evil', "<script>alert", "<sup>up", "<b>bold", '"double" <br>')  # never raw in any markup


def hostile_district(target: Path) -> Path:
    """The sample district with one school, every user-typed field of it and of district.yaml set to hostile text."""
    shutil.copytree(SAMPLE, target)
    for path in (target / "schools").iterdir():
        if path.stem != SCHOOL:
            path.unlink()
    config = yaml.safe_load((target / "district.yaml").read_text(encoding="utf-8"))
    config["name"] = PAYLOAD
    config["dpo"] = {"name": PAYLOAD, "email": PAYLOAD, "phone": PAYLOAD}
    config["state"] = tagged("state")
    config["legal_reference"] = {"de": tagged("legal_reference"), "en": tagged("legal_reference")}
    config["school_authority"] = {"name": tagged("authority"), "role": tagged("authority_role"), "contact": PAYLOAD}
    for processor in config["processors"]:
        processor.update(name=tagged("processor"), role=tagged("processor_role"), hosting=tagged("processor_hosting"),
                         sub_processors=[tagged("sub_processor")])
    for council in config["councils"]:
        council["title"] = {"de": tagged(f"council_{council['id']}"), "en": tagged(f"council_{council['id']}")}
    config["school_kinds"]["special-needs"] = {"de": tagged("kind"), "en": tagged("kind")}
    for answer in config["threshold"].values():
        answer["reason"] = tagged("threshold_reason")
    (target / "district.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    school_file = target / "schools" / f"{SCHOOL}.yaml"
    school = yaml.safe_load(school_file.read_text(encoding="utf-8"))
    school["school"]["name"] = PAYLOAD
    school["assessed_by"] = FORMULA
    first = True
    for risk_id, entry in school["risks"].items():
        entry["reason"] = LONG
        if first:  # one risk carries the controller's residual values with a hostile reason
            decision = school.setdefault("dsfa", {}).setdefault("decision", {})
            decision.setdefault("residual", {})[risk_id] = {"likelihood": 1, "severity": 1, "reason": LONG}
            first = False
        for planned in entry.get("measures_planned", []):
            planned.update(owner=PAYLOAD, note=LONG)
    assert any(e.get("measures_planned") for e in school["risks"].values())
    hostile_dsfa(school)
    school_file.write_text(yaml.safe_dump(school, allow_unicode=True, width=100_000), encoding="utf-8")
    return target


def tagged(field: str) -> str:
    """The hostile text marked with the field it stands in, so each field can be found in the output."""
    return f"{PAYLOAD} [{field}]"


DSFA_FIELDS = (
    "state", "legal_reference", "authority", "processor", "processor_role", "processor_hosting", "sub_processor",
    "council_parents", "council_pupils", "council_staff", "kind", "threshold_reason", "groups", "partial",
    "severity_reason", "answer", "advice_by", "advice_text", "view_summary", "view_reason", "decision_by",
    "conditions", "accepted", "residual",
)


def hostile_dsfa(school: dict) -> None:
    """Every text field of the school's platform and DSFA blocks set to tagged hostile text."""
    for use in school["platform"]["modules"].values():
        use["groups"] = tagged("groups")
    entries = school["risks"]
    entries["identity-theft"]["measures_in_place"] = [{"measure": "usage-rules", "partial": tagged("partial")}]
    entries["profiling"]["severity"] = {"level": 4, "reason": tagged("severity_reason")}
    dsfa = school["dsfa"]
    for answer in dsfa["answers"].values():
        answer["text"] = tagged("answer")
    dsfa["threshold"] = {criterion: {"answer": "yes", "reason": tagged("threshold_reason")}
                         for criterion in dsfa.get("threshold", {})}
    dsfa["advice"].update(by=tagged("advice_by"), text=tagged("advice_text"))
    dsfa["views"]["parents"]["summary"] = tagged("view_summary")
    dsfa["views"]["pupils"] = {"sought": False, "reason": tagged("view_reason")}
    decision = dsfa["decision"]
    decision.update(by=tagged("decision_by"), conditions=tagged("conditions"))
    decision["accepted"] = {risk: tagged("accepted") for risk in decision["accepted"]}
    for residual in decision["residual"].values():
        residual["reason"] = tagged("residual")


@pytest.fixture(scope="module")
def district_dir(tmp_path_factory) -> Path:
    return hostile_district(tmp_path_factory.mktemp("hostile") / "hostile-district")


@pytest.fixture(scope="module")
def batch_out(district_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports") / "out"
    result = run_batch(district_dir, out=out, workers=1, today=TODAY, progress=False)
    assert result.ok, result.errors
    return out


def assert_no_markup_from_users(html: str, name: str) -> str:
    """No tag or link made from the hostile text (no raw tag of it, no attribute holding its address); returns the
    visible text, entities decoded. (conftest.assert_offline's raw-text pattern would flag the address shown as text
    in <title>, so attributes are checked parsed.)"""
    for raw in RAW:
        assert raw not in html, (name, raw)
    parsed = Tags(html)
    for tag, attrs in parsed.tags:
        for key, value in attrs.items():
            assert "evil.example" not in (value or "") or key in ("aria-label", "title", "alt", "value"), (name, tag, key)
    return "".join(parsed.text)


def test_school_report_html_shows_the_text_and_makes_no_markup(batch_out):
    html = (batch_out / "schools" / f"{SCHOOL}.html").read_text(encoding="utf-8")
    text = assert_no_markup_from_users(html, "report")
    for typed in (PAYLOAD, LONG, FORMULA):
        assert typed in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp;" in html
    for field in DSFA_FIELDS:  # the platform, DSFA and district fields of the complete DSFA, each shown as text
        assert tagged(field) in text, field


def test_school_report_pdf_has_the_text_and_no_link(batch_out):
    from pypdf import PdfReader

    reader = PdfReader(batch_out / "schools" / f"{SCHOOL}.pdf")
    text = " ".join(page.extract_text() for page in reader.pages)
    flat = "".join(text.split())
    assert "".join('<a href="https://evil.example/">x</a>'.split()) in flat
    assert "<script>alert(1)</script>&amp;" in flat
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A") or {}
            assert "evil.example" not in str(action.get("/URI", "")), action


def test_index_shows_the_names_as_text(batch_out):
    html = (batch_out / "index.html").read_text(encoding="utf-8")
    assert PAYLOAD in assert_no_markup_from_users(html, "index")


def test_overview_html_and_its_svgs_make_no_markup(batch_out):
    """The overview's HTML, the heatmap's SVG (school names as escaped tick labels) and its tables."""
    html = (batch_out / "overview.html").read_text(encoding="utf-8")
    assert PAYLOAD in assert_no_markup_from_users(html, "overview")
    assert "<a xlink:href" not in html and "evil.example/\">" not in html


def test_overview_tables_beside_it_keep_text_and_neutralise_formulas(batch_out):
    html = (batch_out / "overview.html").read_text(encoding="utf-8")
    for name in ("overview-results.csv", "overview-schools.csv"):
        assert f'<a href="{name}">' in html
        rows = list(csv.DictReader(io.StringIO((batch_out / name).read_text(encoding="utf-8-sig"))))
        assert {r["school_name"] for r in rows} == {PAYLOAD}
    results = list(csv.DictReader(io.StringIO((batch_out / "overview-results.csv").read_text(encoding="utf-8-sig"))))
    assert {r["reason"] for r in results if r["reason"]} == {LONG}


def _widgets(widget: w.Widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _widgets(child)


def test_capture_form_shows_html_escaped_and_keeps_typed_values(district_dir):
    form = capture_form(district_dir, school=SCHOOL)
    while closed := [fold for fold in form.folds.values() if not fold.opened]:  # every step and panel built
        for fold in closed:
            fold.opened = True
    html = "".join(x.value for x in _widgets(form.widget) if isinstance(x, w.HTML))
    assert PAYLOAD in assert_no_markup_from_users(html, "form")
    values = {x.value for x in _widgets(form.widget) if isinstance(x, (w.Text, w.Textarea))}
    assert {PAYLOAD, LONG, FORMULA} <= values
    options = [label for x in _widgets(form.widget) if isinstance(x, w.Dropdown) for label, _ in x.options]
    assert f"{PAYLOAD} ({SCHOOL})" in options  # a widget option is text, never HTML


def test_export_keeps_text_and_neutralises_formulas(district_dir, tmp_path):
    district = load_district(district_dir)
    rows = list(csv.DictReader(io.StringIO(export_bytes(district, "csv", TODAY, lang="en").decode("utf-8-sig"))))
    assert {r["school_name"] for r in rows} == {PAYLOAD}
    assert {r["assessed_by"] for r in rows} == {"'" + FORMULA}
    assert {r["reason"] for r in rows if r["reason"]} == {LONG}
    data = export_bytes(district, "xlsx", TODAY, lang="en")
    assert "<f>" not in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    (tmp_path / "x.xlsx").write_bytes(data)
    sheet = load_workbook(tmp_path / "x.xlsx").worksheets[0]
    header = [c.value for c in sheet[1]]
    cells = [dict(zip(header, (c.value for c in row))) for row in sheet.iter_rows(min_row=2)]
    assert {c["assessed_by"] for c in cells} == {FORMULA}
    assert {c["school_name"] for c in cells} == {PAYLOAD}
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)


def test_plotly_texts_are_escaped_for_plotly(district_dir):
    district = load_district(district_dir)
    risk = district.catalogue.risks[0]
    hostile = risk.model_copy(update={"title": {"de": PAYLOAD, "en": PAYLOAD}})
    results = [replace(r, risk=hostile) if r.risk.id == risk.id else r for r in district.evaluate(SCHOOL)]
    fig = risk_matrix_figure(results, district.matrix, "de", title=PAYLOAD)
    texts = [fig.layout.title.text, *(t for trace in fig.data for t in (trace.hovertext or ()))]
    texts += [a.text for a in fig.layout.annotations] + list(fig.layout.xaxis.ticktext) + [d.name for d in fig.data]
    assert any("&lt;a href=&quot;" in t or '&lt;a href="' in t for t in texts)
    for text in texts:
        assert not any(raw in text for raw in RAW[:4]), text
