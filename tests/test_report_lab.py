"""The school report notebook opened in JupyterLab reads as its HTML export does: its outputs carry the report's
styles (JupyterLab's own would right-align the tables and leave the level badges colourless)."""

from __future__ import annotations

import json

from playwright.sync_api import expect
from test_capture_browser import START_TIMEOUT, browser, lab, page  # noqa: F401 (fixtures)

from conftest import TODAY
from riskkit.reports.render import render_school_report

STYLE = """(selector) => {
    const el = document.querySelector(selector);
    const s = el && getComputedStyle(el);
    return s && {align: s.textAlign, background: s.backgroundColor, display: s.display};
}"""


def test_the_report_notebook_keeps_its_styles_in_jupyterlab(lab, page, district_dir, tmp_path):  # noqa: F811
    paths = render_school_report(district_dir, "gs-kleeblatt", formats=("html",), out=tmp_path / "lab", today=TODAY)
    settings = tmp_path / "lab-settings" / "@jupyterlab" / "notebook-extension"  # the lab fixture's settings folder
    settings.mkdir(parents=True, exist_ok=True)  # every cell in the page, not only those scrolled into view
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}), encoding="utf-8")
    page.goto(lab.replace("capture.ipynb", paths["ipynb"].name))  # riskkit's executed notebook, as the DPO gets it
    report = page.locator(".jp-RenderedHTMLCommon .rk-report").first
    expect(report).to_be_visible(timeout=START_TIMEOUT * 1000)
    expect(page.locator(".jp-RenderedHTMLCommon .rk-report section.risk dl").first).to_be_attached()  # far down
    assert page.evaluate(STYLE, ".jp-RenderedHTMLCommon .rk-report td")["align"] == "left"  # Lab's is right
    assert page.evaluate(STYLE, ".jp-RenderedHTMLCommon .rk-report .level-high")["background"] == "rgb(178, 24, 43)"
    assert page.evaluate(STYLE, ".jp-RenderedHTMLCommon .rk-report section.risk dl")["display"] == "grid"
    # and nothing outside the report's boxes: JupyterLab's own tables keep their alignment
    page.evaluate("""() => { const t = document.createElement('div'); t.className = 'jp-RenderedHTMLCommon';
                             t.id = 'probe'; t.innerHTML = '<table><tr><td>1</td></tr></table>';
                             document.body.append(t); }""")
    assert page.evaluate(STYLE, "#probe td")["align"] == "right"
