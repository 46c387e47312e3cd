"""The district overview: its tables from the sample district's data, escaping, invalid files, the notebook in a kernel."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import papermill
import pytest

from riskkit import load_district
from riskkit.figures.markup import Block
from riskkit.reports.staticfig import Parts, PlotlyFigure
from riskkit.reports.svgexport import StaticFigures
from riskkit.model.district import RESULT_COLUMNS
from riskkit.model.status import STEPS
from riskkit.reports.overview import (
    TABLES, assessment_gaps, level_counts, level_heatmap, level_table, likelihood_spread, load_overview,
    prior_consultation, ranked_gaps, what_if, write_tables,
)

from conftest import REPO, TODAY

SCRIPT = "<script>alert(1)</script>"
HOSTILE = '<a href="https://evil.example/">x</a> <br> &amp;'  # plotly would make a link and a line break of it


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
    figures = [o for c in nb.cells for o in c.get("outputs", []) if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) == 3  # plain plotly outputs; the export draws them as SVG
    nb, _ = StaticFigures().preprocess(nb, {})
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


# --- at any size: status, counts, ranked and complete lists, equal names, the tables beside it ---------------------

BIG = 300  # a synthetic district beyond HEATMAP_MAX_SCHOOLS: copies of the sample schools under new ids


@pytest.fixture(scope="module")
def big_dir(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("big") / "big-district"
    (target / "schools").mkdir(parents=True)
    shutil.copy(REPO / "data" / "sample-district" / "district.yaml", target / "district.yaml")
    samples = sorted((REPO / "data" / "sample-district" / "schools").glob("*.yaml"))
    for n in range(BIG):
        source = samples[n % len(samples)]
        school_id = f"{source.stem}-{n:03d}"
        text = source.read_text(encoding="utf-8").replace(f"id: {source.stem}", f"id: {school_id}", 1)
        (target / "schools" / f"{school_id}.yaml").write_text(text, encoding="utf-8")
    (target / "schools" / "zz-broken.yaml").write_text("school: [unclosed\n", encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def big(big_dir):
    return load_overview(big_dir, "en", today=TODAY, report_formats=["html"])


class _Cells(HTMLParser):
    """The rows of a table as lists of cell texts."""

    def __init__(self, html: str):
        super().__init__()
        self.rows: list[list[str]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append("")

    def handle_data(self, data):
        if self.rows and self.rows[-1]:
            self.rows[-1][-1] += data


def _rows(html: str, caption_start: str) -> list[list[str]]:
    """The body rows (cell texts) of the table whose caption starts with `caption_start`."""
    table = html[html.index(f"<caption>{caption_start}"):].split("</table>")[0]
    return [[c.strip() for c in row] for row in _Cells(table).rows[1:]]  # without the header row


def test_status_counts_equal_the_summary_at_every_size(district, big):
    overview = load_overview(district.path, "en", today=TODAY)
    for o in (overview, big):
        summary = o.district.summary(TODAY)
        rows = _rows(o.status().html, "Schools per DSFA step")
        expected = summary["status"].value_counts()
        assert [(step, int(n)) for step, n in rows] == [
            (label, int(expected.get(step, 0)))
            for step, label in zip(STEPS, ("draft", "complete", "advised by the DPO", "decided"))]
        kinds = _rows(o.status().html, "Per school kind")
        assert sum(int(r[1]) for r in kinds) == len(summary)
        assert sum(int(r[6]) for r in kinds) == summary["not_applicable"].sum() > 0  # counted apart from open
        assert sum(int(r[5]) for r in kinds) == summary["open"].sum()


def _html(output: Block | Parts) -> str:
    """A section's HTML; a figure output (drawn on export) as `<figure data-id=...>`."""
    if isinstance(output, Block):
        return str(output.html)
    return "".join(f'<figure data-id="{p.ident}">' if isinstance(p, PlotlyFigure) else _html(p) for p in output.parts)


def test_large_district_shows_counts_instead_of_the_heatmap(big):
    assert big.large and len(big.district.schools) == BIG
    residual, inherent = _html(big.heatmap("residual")), _html(big.heatmap("inherent"))
    assert "<h2>Residual risk: schools per level and risk</h2>" in residual
    assert "heatmap-" not in residual + inherent
    assert residual.count("<figure") == 1 and '<figure data-id="bars-residual">' in residual
    assert "<figure" not in inherent
    counts = level_counts(big.district)
    rows = _rows(residual, "Number of schools per residual level")
    assert [[int(v) for v in r[1:]] for r in rows] == counts.values.tolist()
    assert all(sum(int(v) for v in r[1:]) == BIG for r in rows)
    assert counts.loc["third-party-addons", "na"] == 2 * BIG // 12  # two sample schools do not use add-ons


def test_large_district_lists_are_ranked_and_complete(big):
    d, summary = big.district, big.district.summary(TODAY)
    prior = _rows(big.prior_consultation_section().html, "Schools that must consult")
    assert len(prior) == summary["prior_consultation"].sum() == 4 * BIG // 12
    running = [r[2].startswith("running since") for r in prior]
    assert running == sorted(running, reverse=True) and any(running) and not all(running)
    gaps = _rows(big.gaps().html, "Gaps")
    assert len(gaps) == len(assessment_gaps(d, big.problems, TODAY))
    assert gaps[0][1] == "zz-broken" and gaps[0][2] == "invalid file"
    assert [r[2] for r in gaps[1:]] == sorted((r[2] for r in gaps[1:]), key=["review overdue", "risks open"].index)
    outliers = _rows(_html(big.spread()), "Outliers")
    listed = [i for r in outliers for i in r[5].split(": ", 1)[1].split(", ")]
    spread = likelihood_spread(d)
    assert sorted(listed) == sorted(s for o in spread["outliers"] for s in o)  # every outlier, each once per risk
    assert [float(r[4]) for r in outliers] == sorted((float(r[4]) for r in outliers), reverse=True)
    blockers = _rows(big.links().html, "What blocks the next step")
    by_school = {i: (r[0], r[1]) for r in blockers[:-1] for i in r[2].split(": ", 1)[1].split(", ")}
    names = dict(zip(STEPS, ("draft", "complete", "advised by the DPO", "decided")))
    assert by_school == {i: (names[row.status], big.blockers(i) or "–") for i, row in summary.iterrows()}
    assert blockers[-1][2] == "1: zz-broken"
    assert [r[0] for r in blockers[:-1]] == sorted((r[0] for r in blockers[:-1]), key=list(names.values()).index)


def test_overview_html_stays_small_for_a_large_district(big):
    blocks = [big.header(), big.status(), big.heatmap("residual"), big.risk_legend(), big.prior_consultation_section(),
              big.heatmap("inherent"), big.spread(), big.gaps(), big.what_if_section(), big.links()]
    size = sum(len(_html(b).encode()) for b in blocks)
    assert size < 50_000 + 250 * BIG  # per-risk tables (figures are drawn on export), then at most 250 bytes per school


def test_heatmap_keeps_equal_names_apart_and_escapes_them(district_dir):
    for school in ("gs-kleeblatt", "rs-an-der-aue"):
        path = district_dir / "schools" / f"{school}.yaml"
        text = path.read_text(encoding="utf-8")
        name = next(line for line in text.splitlines() if line.strip().startswith("name:")).split(":", 1)[1].strip()
        path.write_text(text.replace(f"name: {name}", f"name: '{HOSTILE}'", 1), encoding="utf-8")
    d = load_district(district_dir)
    fig = level_heatmap(d, "en")
    ticks = dict(zip(fig.layout.yaxis.tickvals, fig.layout.yaxis.ticktext))
    assert list(fig.layout.yaxis.categoryarray) == list(d.schools)[::-1]  # one row per school id
    assert ticks["gs-kleeblatt"] != ticks["rs-an-der-aue"]
    assert ticks["gs-kleeblatt"].startswith("&lt;a href=\"https://evil.example/\"&gt;")
    assert all("<" not in t for t in ticks.values())


def test_tables_beside_the_overview_are_linked_and_openable(district_dir, tmp_path):
    path = district_dir / "schools" / "gs-kleeblatt.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "name: Grundschule Kleeblatt Birkenfeld", "name: '=HYPERLINK(\"x\")'"), encoding="utf-8")
    overview = load_overview(district_dir, "en", today=TODAY)
    header = overview.header().html
    written = write_tables(overview.district, tmp_path, TODAY)
    for name, file in TABLES.items():
        assert f'<a href="{file}">{file}</a>' in header
        assert written[name] == tmp_path / file
    with open(written["results"], encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == RESULT_COLUMNS
    assert len(rows) == 12 * 22
    assert {r["school_name"] for r in rows if r["school_id"] == "gs-kleeblatt"} == {"'=HYPERLINK(\"x\")"}
    assert {r["applicable"] for r in rows} == {"true", "false"}
    with open(written["schools"], encoding="utf-8-sig", newline="") as handle:
        schools = {r["school_id"]: r for r in csv.DictReader(handle)}
    assert set(schools) == set(overview.district.schools)
    assert schools["rs-an-der-aue"]["status"] == overview.district.status("rs-an-der-aue").step
