"""The per-school report: real kernel (papermill), real nbconvert, PDF and browser checks with Debian Chromium."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime
from html import escape
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from riskkit import load_district
from riskkit.cli import main
from riskkit.reports.render import SCHOOL_NOTEBOOK, ReportError, ReportRenderer, notebook_path, render_school_report
from riskkit.reports.browser import BrowserError, BrowserNotFoundError

from conftest import REPO, TODAY, Tags, assert_offline

SCRIPT = "<script>alert(1)</script>"
DE_SCHOOL, EN_SCHOOL = "gs-kleeblatt", "igs-musterau-nord"  # 7 risks open / 2 high residual risks, 1 plan overdue
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def district(module_district_dir: Path):
    """The sample district with a `<script>` tag typed into one of gs-kleeblatt's reasons."""
    d = load_district(module_district_dir)
    assessment = d.school(DE_SCHOOL)
    entry = assessment.risks["discrimination-exposure"]
    entry.reason = f"{SCRIPT} {entry.reason}"
    d.save_school(assessment)
    return load_district(module_district_dir)


@pytest.fixture(scope="module")
def renderer():
    with ReportRenderer() as r:
        yield r


@pytest.fixture(scope="module")
def reports(district, renderer, tmp_path_factory):
    """One German and one English report, rendered with one warm renderer."""
    out = tmp_path_factory.mktemp("reports")
    de = render_school_report(district.path, DE_SCHOOL, out=out / "de", renderer=renderer, today=TODAY)
    en = render_school_report(district.path, EN_SCHOOL, lang="en", out=out / "en", renderer=renderer, today=TODAY)
    return {"de": de, "en": en}


def _html(reports, lang: str) -> str:
    return reports[lang]["html"].read_text(encoding="utf-8")


def test_writes_the_three_files_and_nothing_else(reports):
    for lang, school in (("de", DE_SCHOOL), ("en", EN_SCHOOL)):
        paths = reports[lang]
        assert set(paths) == {"ipynb", "html", "pdf"}
        folder = paths["html"].parent
        assert sorted(p.name for p in folder.iterdir()) == [f"{school}.html", f"{school}.ipynb", f"{school}.pdf"]


def test_executed_notebook_has_parameters_and_outputs(reports):
    nb = nbformat.read(reports["de"]["ipynb"], as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    injected = [c for c in code if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert f'school_id = "{DE_SCHOOL}"' in injected[0].source and 'today = "2026-11-23"' in injected[0].source
    assert not any(c.source == "%reset -f" for c in code)
    assert not [o for c in code for o in c.outputs if o.output_type in ("error", "stream")]
    shown = [c for c in code if c.outputs]
    assert [c.source for c in shown] == [  # the parts of the EDPB DPIA template, in its order
        "view.header()", "view.summary()", "view.threshold()", "view.description()", "view.lawfulness()",
        "view.principles()", "view.necessity()", "view.heatmap()", "view.risks()", "view.action_plan()",
        "view.advice()", "view.views()", "view.decision()",
    ]


def test_html_has_no_input_cells_and_no_scripts(reports):
    html = _html(reports, "de")
    for needle in ("SchoolView", "view.header()", "jp-InputArea", "In&nbsp;[", "jp-InputPrompt"):
        assert needle not in html
    assert "<script" not in html.lower()


def test_html_loads_nothing_from_other_hosts(reports):
    for lang in ("de", "en"):
        assert_offline(_html(reports, lang), lang)


def test_html_german_content(reports, district):
    html = _html(reports, "de")
    parser = Tags(html)
    text = _words(" ".join(parser.text))
    school = district.school(DE_SCHOOL)
    assert ('html', {'lang': 'de'}) in parser.tags
    assert f"<title>DSFA – {school.school.name}</title>" in html
    assert f"<h1>{school.school.name}</h1>" in html
    results = district.evaluate(DE_SCHOOL)
    numbers = {r.risk.id: f"R{i}" for i, r in enumerate(results, 1)}
    for r in results:
        assert f'<h3 id="risk-{r.risk.id}">{numbers[r.risk.id]} {escape(r.risk.title["de"])}</h3>' in html
    open_risks = [r for r in results if not r.assessed]
    assert len(open_risks) == 7
    listed = ", ".join(f"{numbers[r.risk.id]} {r.risk.title['de']}" for r in open_risks)
    assert f"Noch offen (nicht bewertet und nicht eingestuft) sind 7: {listed}." in text
    for r in open_risks:
        section = html.split(f'<h3 id="risk-{r.risk.id}">')[1].split("</section>")[0]
        assert '<span class="level level-open">offen</span> Die Schule hat dieses Risiko noch nicht bewertet.' in section
        assert "Eintrittswahrscheinlichkeit (Schule)" not in section  # never scored
    assert ("Der Katalog nennt 22 Risiken; 22 davon betreffen Module, die die Schule nutzt, und 15 hat sie bewertet."
            in text)
    assert "Vorherige Konsultation der Aufsichtsbehörde (Art. 36 DSGVO) nötig: nein." in text
    assert "Die Aussage ist vorläufig, solange nicht alle Risiken bewertet sind." in text
    assert "Dr. Miriam Feldhaus <datenschutz-schulen@example.org>" in text


def test_typed_script_shows_as_text(reports):
    html = _html(reports, "de")
    assert f"{escape(SCRIPT)} Sehr kleine Dorfschule" in html
    assert SCRIPT not in html


def test_html_english_content_art36_and_action_plan(reports, district):
    html = _html(reports, "en")
    text = _words(" ".join(Tags(html).text))
    results = district.evaluate(EN_SCHOOL)
    numbers = {r.risk.id: f"R{i}" for i, r in enumerate(results, 1)}
    high = [r for r in results if r.residual_level == "high"]
    assert len(high) == 2
    names = ", ".join(f"{numbers[r.risk.id]} {r.risk.title['en']}" for r in high)
    assert "Prior consultation of the supervisory authority (Art. 36 GDPR) needed: yes." in text
    assert f"For 2 risks a high residual risk remains after the measures in place ({names})." in text
    for r in results:
        assert r.risk.title["en"] in text  # parsed text: Jinja writes ' as &#39;, html.escape as &#x27;
    plan = html.split('<table class="plan">')[1].split("</table>")[0]
    rows = re.findall(r'<tr><td class="num">([A-Z][a-z]{2} \d{1,2}, \d{4})</td>.*?</tr>', plan)  # English dates
    days = [datetime.strptime(row, "%b %d, %Y").date() for row in rows]
    assert days == sorted(days) and len(rows) == 3
    overdue = [row for row, day in zip(rows, days) if day < TODAY]
    assert len(overdue) == 1
    assert re.search(rf'<td class="num">{overdue[0]}</td>.*?<span class="overdue">overdue</span>', plan)
    assert plan.count('<span class="overdue">overdue</span>') == 1


def test_heatmap_is_an_accessible_inline_svg(reports):
    html = _html(reports, "de")
    svg = html.split('<figure class="heatmap">')[1].split("</figure>")[0]
    tag, attrs = Tags(svg).tags[0]
    assert (tag, attrs["role"], attrs["aria-labelledby"]) == ("svg", "img", "matrix-svg-title matrix-svg-desc")
    assert attrs["viewbox"] == "0 0 720 580" and "width" not in attrs  # sized by CSS; parsers restore viewBox
    assert '<title id="matrix-svg-title">Risikomatrix</title>' in svg
    assert '<desc id="matrix-svg-desc">Risikomatrix mit 15 bewerteten Risiken.' in svg
    for level in ("geringes Risiko", "hohes Risiko"):
        assert f">{level}</text>" in svg
    assert "Ausgangsrisiko (vor Maßnahmen)" in svg and "Restrisiko (nach Maßnahmen)" in svg


def test_pdf_text_and_first_page(reports, district):
    import pypdfium2
    from pypdf import PdfReader

    for lang, school_id in (("de", DE_SCHOOL), ("en", EN_SCHOOL)):
        reader = PdfReader(reports[lang]["pdf"])
        box = reader.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
        text = _words(" ".join(page.extract_text() for page in reader.pages))
        assert district.school(school_id).school.name in text
        for r in district.evaluate(school_id):
            assert r.risk.title[lang] in text
        assert f"1 / {len(reader.pages)}" in text  # page numbers
        image = pypdfium2.PdfDocument(reports[lang]["pdf"])[0].render(scale=1).to_pil().convert("L")
        dark = sum(image.histogram()[:128])
        assert dark > 0.01 * image.width * image.height


def test_browser_opens_report_offline_with_heatmap(reports, district, chromium):
    from playwright.sync_api import sync_playwright

    results = district.evaluate(DE_SCHOOL)
    markers = sum(1 if (r.likelihood, r.severity) == (r.residual_likelihood, r.residual_severity) else 2
                  for r in results if r.assessed)
    requests, problems = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda req: requests.append(req.url))
            page.on("console", lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None)
            page.goto(reports["de"]["html"].as_uri(), wait_until="load")
            heatmap = page.locator("figure.heatmap svg[role=img]")
            box = heatmap.bounding_box()
            assert box["width"] > 300 and box["height"] > 250
            assert page.locator("figure.heatmap svg .scatterlayer .textpoint").count() == markers
            assert page.get_by_role("img", name="Risikomatrix").count() == 1
            assert SCRIPT in page.locator("main").inner_text()
        finally:
            browser.close()
    assert requests and all(url.startswith(("file:", "data:")) for url in requests), requests
    assert problems == []


def test_papermill_cli_runs_the_notebook(district, tmp_path):
    out = tmp_path / "out.ipynb"
    run = subprocess.run(
        [str(Path(sys.executable).parent / "papermill"), str(notebook_path(SCHOOL_NOTEBOOK)), str(out),
         "-p", "district_dir", str(district.path), "-p", "school_id", EN_SCHOOL, "-p", "lang", "en",
         "-p", "today", "2026-11-23", "--no-progress-bar"],
        capture_output=True, text=True, cwd=REPO,
    )
    assert run.returncode == 0, run.stderr
    nb = nbformat.read(out, as_version=4)
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
    assert f"<h1>{district.school(EN_SCHOOL).school.name}</h1>" in html
    assert '<h2 id="plan">7. Action plan and residual risk</h2>' in html


def test_notebook_figure_is_a_plain_plotly_output_with_its_text_alternative(reports):
    """The kernel draws nothing: the executed notebook holds plotly's own output; the export made it SVG."""
    nb = nbformat.read(reports["de"]["ipynb"], as_version=4)
    cell = next(c for c in nb.cells if c.source == "view.heatmap()")
    kinds = [sorted(o.get("data", {})) for o in cell.outputs]
    assert kinds == [["text/html", "text/plain"], ["application/vnd.plotly.v1+json", "text/plain"], ["text/html", "text/plain"]]
    figure = cell.outputs[1]
    assert figure["data"]["text/plain"].startswith("Risikomatrix. Risikomatrix mit 15 bewerteten Risiken.")  # 22 risks, 7 not assessed
    assert figure["data"]["application/vnd.plotly.v1+json"]["config"]["showSendToCloud"] is False
    assert figure["metadata"]["riskkit"]["figure"]["id"] == "matrix"
    assert "<svg" not in nbformat.writes(nb)
    assert _html(reports, "de").count("<svg") == 1


def test_a_browser_that_died_is_replaced_and_the_report_retried(district, renderer):
    renderer._browser.kill()  # as if Chromium crashed between two schools
    documents = renderer.render(notebook_path(SCHOOL_NOTEBOOK), {"district_dir": str(district.path),
                                "school_id": EN_SCHOOL, "lang": "en", "today": TODAY.isoformat()}, name=EN_SCHOOL)
    assert b'<figure class="heatmap"><svg' in documents["html"] and documents["pdf"].startswith(b"%PDF-")
    assert renderer._browser.alive


def test_browser_timeout_fails_the_report_with_its_notebook(district, monkeypatch):
    """A drawing that hangs: the browser is killed after the timeout, replaced, the export retried once."""
    import time

    from riskkit.reports.browser import OfflineBrowser

    drawn: list[float] = []
    monkeypatch.setattr(OfflineBrowser, "_draw", lambda self, *args: drawn.append(time.sleep(8)))
    with ReportRenderer(("html",), browser_timeout=2) as stuck:
        with pytest.raises(ReportError) as caught:
            stuck.render(notebook_path(SCHOOL_NOTEBOOK), {"district_dir": str(district.path), "school_id": EN_SCHOOL,
                         "lang": "en"}, name=EN_SCHOOL)
    assert str(caught.value) == (f"{EN_SCHOOL}: the browser did not answer within 2 s and was stopped "
                                 "(also after a browser restart)")
    nb = nbformat.reads(caught.value.notebook.decode(), as_version=4)
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))


def test_cell_timeout_stops_the_cell_keeps_the_notebook_and_the_kernel_recovers(renderer, tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("pause = 0", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print('before')"),
        nbformat.v4.new_code_cell("import time\ntime.sleep(pause)"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    path = tmp_path / "slow.ipynb"
    nbformat.write(notebook, path)
    renderer.cell_timeout = 2
    try:
        with pytest.raises(ReportError) as caught:
            renderer.render(path, {"pause": 60}, name="slow")
        assert str(caught.value) == "slow: a cell ran longer than 2 s and was stopped"
        executed = nbformat.reads(caught.value.notebook.decode(), as_version=4)
        assert "".join(o.get("text", "") for o in executed.cells[-2].outputs) == "before\n"
        assert "riskkit-reset" not in caught.value.notebook.decode()
        documents = renderer.render(path, {"pause": 0}, name="quick")  # the kernel was restarted
        assert documents["pdf"].startswith(b"%PDF-")
    finally:
        renderer.cell_timeout = 600


def test_failing_cell_names_school_and_cell_and_writes_nothing(district, renderer, tmp_path):
    with pytest.raises(ReportError) as caught:
        render_school_report(district.path, DE_SCHOOL, lang="fr", out=tmp_path / "out", renderer=renderer)
    assert str(caught.value) == (
        f"{DE_SCHOOL}: cell 4 `from riskkit.reports.schoolview import SchoolView` failed: "
        "RiskkitError: lang must be one of de, en, got 'fr'"
    )
    assert not (tmp_path / "out").exists()
    # the warm kernel still works after the failure
    documents = renderer.render(notebook_path(SCHOOL_NOTEBOOK), {"district_dir": str(district.path),
                                "school_id": "gs-am-lindenweg", "lang": "en"}, name="gs-am-lindenweg")
    assert b"Grundschule Am Lindenweg" in documents["html"] and documents["pdf"].startswith(b"%PDF-")


def test_unknown_school_lists_ids_before_any_kernel(district_dir, monkeypatch):
    def no_renderer(*args, **kwargs):
        raise AssertionError("a renderer was started")

    monkeypatch.setattr("riskkit.reports.render.ReportRenderer", no_renderer)
    result = CliRunner().invoke(main, ["report", str(district_dir), "gs-nowhere", "--lang", "en"])
    assert result.exit_code == 2
    assert result.output.startswith("error: unknown school 'gs-nowhere'; known: bbs-gesundheit-soziales, bbs-musterau,")
    assert result.output.rstrip().endswith("obs-wiesental, rs-an-der-aue")


def test_unknown_format_is_refused(district_dir):
    """Invalid input: exit code 2, as the README promises (it was 3, an engine failure)."""
    result = CliRunner().invoke(main, ["report", str(district_dir), DE_SCHOOL, "--format", "html,docx"])
    assert result.exit_code == 2  # invalid input, as the README promises (was 3)
    assert "Invalid value for '--format': unknown 'docx'; allowed: html, pdf" in result.output


def test_missing_pdf_engine_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # import fails as on a machine without it
    with pytest.raises(BrowserError) as caught:
        ReportRenderer(("html", "pdf"))
    assert str(caught.value).startswith("the browser engine cannot start (")
    assert str(caught.value).endswith("install riskkit's dependencies (pip install -e .)")


def test_missing_browser_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrowserNotFoundError) as caught:
        ReportRenderer(("html",))
    assert str(caught.value) == (
        "no Chromium or Chrome found to draw the risk matrix; install Chromium (Debian/Ubuntu: "
        "`sudo apt-get install chromium-headless-shell`) or set BROWSER_PATH to a Chrome/Chromium"
    )


def test_a_warm_kernel_keeps_no_state_between_runs(renderer, tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("run = 0", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("assert 'left_over' not in globals(), 'state leaked from the previous run'\n"
                                  "left_over = run\nprint(run)"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    path = tmp_path / "state.ipynb"
    nbformat.write(notebook, path)
    for run in (1, 2):
        documents = renderer.render(path, {"run": run}, name=f"run {run}")
        executed = nbformat.reads(documents["ipynb"].decode(), as_version=4)
        # a busy kernel may send print's text and its newline as two stream outputs
        stdout = "".join(o["text"] for o in executed.cells[-1].outputs if o.get("name") == "stdout")
        assert stdout == f"{run}\n"



def test_kernel_and_browser_are_renewed_after_many_reports(monkeypatch, tmp_path):
    """A worker's kernel and browser start afresh every RENEW_AFTER reports (their memory grows slowly over
    thousands); the reports around the renewal come out whole."""
    from riskkit.reports import render

    monkeypatch.setattr(render, "RENEW_AFTER", 2)
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("run = 0", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import os\nprint(os.getpid())"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    path = tmp_path / "pid.ipynb"
    nbformat.write(notebook, path)
    pids, browsers = [], []
    with ReportRenderer(("html",)) as renderer:
        for run in range(3):
            browsers.append(renderer._browser)
            documents = renderer.render(path, {"run": run}, name=f"run {run}")
            executed = nbformat.reads(documents["ipynb"].decode(), as_version=4)
            pids.append("".join(o["text"] for o in executed.cells[-1].outputs if o.get("name") == "stdout").strip())
            assert documents["html"].startswith(b"<!DOCTYPE html>")
        browsers.append(renderer._browser)
    assert pids[0] == pids[1] != pids[2]
    assert browsers[0] is browsers[1] is browsers[2] and browsers[3] is not browsers[2] and not browsers[2].alive

def test_the_report_exporter_writes_nbconverts_page_without_its_soup_pass(reports):
    """riskkit skips HTMLExporter's last pass (BeautifulSoup adds alt texts to images and tab stops to cells the
    template does not write): the page is HTMLExporter's, only serialised as the template wrote it. (The figure is
    left out: plotly.js gives each drawing random ids.)"""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    from riskkit.reports.render import TEMPLATE, TEMPLATES, report_exporter
    from riskkit.reports.staticfig import PLOTLY_MIME

    nb = nbformat.read(reports["de"]["ipynb"], as_version=4)
    nb.metadata["title"] = "Bericht"
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        cell.outputs = [o for o in cell.outputs if PLOTLY_MIME not in o.get("data", {})]
    options = dict(extra_template_basedirs=[str(TEMPLATES)], template_name=TEMPLATE, exclude_input=True,
                   exclude_input_prompt=True, exclude_output_prompt=True, exclude_markdown=True, exclude_raw=True)
    ours, _ = report_exporter()(**options).from_notebook_node(nb)
    theirs, _ = HTMLExporter(**options).from_notebook_node(nb)
    assert "Risiken" in ours and "<img" not in ours
    assert ours != theirs and str(BeautifulSoup(ours, features="html.parser")) == theirs
