"""The district overview: its tables from the sample district's data, escaping, invalid files, the notebook in a kernel."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import nbformat
import papermill
import pytest

from riskkit import load_district
from riskkit.reports.overview import (
    assessment_gaps, level_table, likelihood_spread, load_overview, prior_consultation, ranked_gaps, what_if,
)

from conftest import REPO, TODAY

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def district(module_district_dir: Path):
    return load_district(module_district_dir)


def test_level_table_has_every_school_and_risk_and_open_cells(district):
    table = level_table(district)
    assert table.shape == (12, 22)
    assert list(table.columns) == [r.id for r in district.catalogue.risks]
    row = table.loc["gs-kleeblatt"]
    assert [risk for risk, level in row.items() if level is None] == [
        "vc-operator-data", "logs-monitoring", "third-party-addons", "admin-data-on-platform",
        "vendor-remote-maintenance", "vc-counselling-exposure", "admin-actions-unlogged",
    ]
    # not applicable (the school does not use the add-on module) is a state of its own, never open
    assert table.loc["gs-am-lindenweg", "third-party-addons"] == "na"
    assert {s for s, level in table["third-party-addons"].items() if level == "na"} == {
        "foerderzentrum-am-weiher", "gs-am-lindenweg"}
    assert table.loc["gs-sonnenhuegel", "vc-recording"] == "high"
    assert level_table(district, "inherent").loc["gs-sonnenhuegel", "vc-recording"] == "high"


def test_prior_consultation_names_schools_and_risks(district):
    frame = prior_consultation(district)
    assert dict(zip(frame["school_id"], frame["risks"])) == {
        "bbs-musterau": ["third-party-addons"],
        "gs-sonnenhuegel": ["vc-recording"],
        "igs-musterau-nord": ["discrimination-exposure", "messenger-bullying"],
        "obs-wiesental": ["admin-misuse"],
    }


def test_likelihood_spread_counts_median_and_outliers(district):
    spread = likelihood_spread(district)
    admin = spread.loc["admin-misuse"]
    assert [admin[f"likelihood_{i}"] for i in (1, 2, 3, 4)] == [1, 10, 0, 1]
    assert (admin["assessed"], admin["median"]) == (12, 2.0)
    assert {risk: o for risk, o in spread["outliers"].items() if o} == {
        "discrimination-exposure": {"igs-musterau-nord": 4},
        "messenger-bullying": {"igs-musterau-nord": 4},
        "admin-misuse": {"obs-wiesental": 4},
        "third-party-addons": {"bbs-musterau": 4},
    }
    assert spread.loc["third-party-addons", "assessed"] == 9  # gs-kleeblatt left it open, two schools do not use it


def test_gaps_list_incomplete_and_overdue(district):
    gaps = assessment_gaps(district, [], TODAY)
    kleeblatt_open = ["vc-operator-data", "logs-monitoring", "third-party-addons", "admin-data-on-platform",
                      "vendor-remote-maintenance", "vc-counselling-exposure", "admin-actions-unlogged"]
    aue_open = ["leaver-data-retained", "admin-data-on-platform", "private-devices", "vendor-remote-maintenance",
                "initial-password-birthdate", "name-search-disclosure", "multi-school-administration",
                "vc-counselling-exposure", "admin-actions-unlogged"]
    assert gaps.values.tolist() == [
        ["gs-kleeblatt", "incomplete", kleeblatt_open],
        ["rs-an-der-aue", "incomplete", aue_open],
        ["rs-an-der-aue", "overdue", date(2026, 6, 10)],
    ]
    # ranked to work on: overdue first, then the most open risks first
    assert ranked_gaps(gaps)[["school", "gap"]].values.tolist() == [
        ["rs-an-der-aue", "overdue"], ["rs-an-der-aue", "incomplete"], ["gs-kleeblatt", "incomplete"]]


def test_what_if_counts_schools_left_with_a_high_residual_risk(district):
    frame = what_if(district)
    assert set(frame["high_now"]) == {4}
    assert frame.loc["older-classes-only", "high_after"] == 2  # igs-musterau-nord's two high risks both fall
    assert frame.loc["class-teacher-reporting", "high_after"] == 3  # igs-musterau-nord's bullying risk falls
    assert frame.loc["daily-backup", "high_after"] == 4
    assert list(frame["fewer"]) == sorted(frame["fewer"], reverse=True)


def test_invalid_school_file_becomes_a_gap_named_by_relative_path(district_dir):
    (district_dir / "schools" / "broken.yaml").write_text("school: [unclosed\n", encoding="utf-8")
    overview = load_overview(district_dir, "en", today=TODAY, report_formats=["html"])
    assert len(overview.district.schools) == 12
    gaps = overview.gaps().html
    assert "broken" in gaps and "invalid file" in gaps
    assert "schools/broken.yaml: line 2, column 1: not valid YAML" in gaps
    assert str(district_dir) not in gaps
    links = overview.links().html
    assert '<a href="schools/gs-kleeblatt.html">HTML</a>' in links
    assert "schools/gs-kleeblatt.pdf" not in links
    assert "no report (invalid file)" in links


def test_user_text_is_escaped(district_dir):
    path = district_dir / "schools" / "gs-kleeblatt.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "name: Grundschule Kleeblatt Birkenfeld", f"name: Grundschule {SCRIPT}"), encoding="utf-8")
    overview = load_overview(district_dir, today=TODAY)
    for block in (overview.header(), overview.prior_consultation_section(), overview.gaps(), overview.links()):
        assert "<script" not in block.html
    assert "Grundschule &lt;script&gt;alert(1)&lt;/script&gt;" in overview.gaps().html


def test_notebook_runs_in_a_kernel_in_english(module_district_dir, tmp_path):
    out = tmp_path / "overview.ipynb"
    papermill.execute_notebook(
        REPO / "notebooks" / "district_overview.ipynb", out, progress_bar=False,
        parameters={"district_dir": str(module_district_dir), "lang": "en", "today": TODAY.isoformat()},
    )
    nb = nbformat.read(out, as_version=4)
    nbformat.validate(nb)
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
    for text in (
        "<h1>Overview of the data protection impact assessments: Landkreis Musterau (fiktiv)</h1>",
        "4 of 12 schools with a valid assessment must consult the supervisory authority",
        "<h2>Residual risk per school and risk</h2>", "<h2>Inherent risk per school and risk</h2>",
        "<h2>Spread of the estimated likelihood</h2>", "<h2>What if every school put a measure in place?</h2>",
        "Integrierte Gesamtschule Musterau-Nord (4)", '<a href="schools/rs-an-der-aue.pdf">PDF</a>',
        '<title id="heatmap-residual-svg-title">Residual risk per school (rows) and risk (columns)</title>',
        'aria-labelledby="heatmap-residual-svg-title"', "review overdue",
    ):
        assert text in html
    assert html.count("<svg") == 3  # residual, inherent, spread
    assert "data:image/png" not in html  # figures stay vector
    meta = next(c for c in nb.cells if c.get("id") == "header").outputs[0]["metadata"]["riskkit"]
    assert meta == {"title": "Overview of the data protection impact assessments: Landkreis Musterau (fiktiv)",
                    "lang": "en"}
