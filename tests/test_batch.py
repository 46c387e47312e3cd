"""The district batch: a real run of the sample district (process pool, warm kernels, HTML and PDF), re-runs,
a broken school file, failures in workers, Ctrl-C and resume, and a Dask cluster."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

import riskkit
from riskkit import load_district
from riskkit.reports import batch
from riskkit.notebooks import notebook_path
from riskkit.reports.batch import JobError, run_batch
from riskkit.reports.render import SCHOOL_NOTEBOOK
from riskkit.cli import main

from conftest import SAMPLE, TODAY, assert_offline, axe_violations

SMALL = ("gs-kleeblatt", "obs-wiesental")
NOTEBOOK = nbformat.writes(nbformat.v4.new_notebook()).encode()  # what a fake render returns as its .ipynb


def _small_district(tmp_path: Path, keep: tuple[str, ...] = SMALL) -> Path:
    """A copy of the sample district with only the schools in `keep`."""
    target = tmp_path / "small-district"
    shutil.copytree(SAMPLE, target)
    for path in (target / "schools").iterdir():
        if path.stem not in keep:
            path.unlink()
    return target


def _files(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def _mtimes(out: Path) -> dict[str, int]:
    return {name: (out / name).stat().st_mtime_ns for name in _files(out)}


@pytest.fixture(scope="module")
def sample_run(module_district_dir, tmp_path_factory):
    """One batch run of the whole sample district (HTML and PDF), shared by the tests that only read it."""
    out = tmp_path_factory.mktemp("reports") / "sample-district"
    lines: list[str] = []
    result = run_batch(module_district_dir, out=out, today=TODAY, log=lines.append, progress=False)
    return load_district(module_district_dir), out, result, lines


def test_sample_district_every_file_present(sample_run):
    district, out, result, lines = sample_run
    assert result.ok and result.errors == {}
    assert result.status == {name: "rendered" for name in ["overview", *district.schools]}
    expected = {"index.html", "manifest.json", "overview.ipynb", "overview.html", "overview.pdf",
                "overview-results.csv", "overview-schools.csv"}  # the overview's full tables beside it
    expected |= {f"schools/{s}.{kind}" for s in district.schools for kind in ("ipynb", "html", "pdf")}
    assert _files(out) == expected  # and no temp file left behind
    assert lines[0] == "sample-district: 13 zu erstellen, 0 aktuell, 0 ungültig"  # the district's language
    assert len([line for line in lines if re.fullmatch(r"\[\d+/13\] [a-z-]+: erstellt in \d+,\d s", line)]) == 13


def test_sample_district_notebooks_are_valid(sample_run):
    district, out, _, _ = sample_run
    for path in [out / "overview.ipynb", *(out / "schools" / f"{s}.ipynb" for s in district.schools)]:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert not [o for c in nb.cells for o in c.get("outputs", []) if o["output_type"] == "error"]


def test_sample_district_html_offline_and_complete(sample_run):
    district, out, _, _ = sample_run
    overview = (out / "overview.html").read_text(encoding="utf-8")
    for school_id, assessment in district.schools.items():
        html = (out / "schools" / f"{school_id}.html").read_text(encoding="utf-8")
        assert '<html lang="de"' in html and assessment.school.name in html
        for r in district.evaluate(school_id):
            if r.assessed:
                assert r.risk.title["de"] in html
        assert f'<a href="schools/{school_id}.html">HTML</a>' in overview
        assert f'<a href="schools/{school_id}.pdf">PDF</a>' in overview
    for path in [out / "index.html", out / "overview.html", *(out / "schools").glob("*.html")]:
        html = path.read_text(encoding="utf-8")
        assert_offline(html, path)
        assert "<script" not in html.lower() and "jp-InputArea" not in html, path
    assert "Übersicht der Datenschutz-Folgenabschätzungen: Landkreis Musterau (fiktiv)" in overview


def test_sample_district_pages_pass_axe_core(sample_run, chromium):
    """Every page of the district (index, overview, each school's report) in Chromium: no WCAG 2.1 A/AA violation."""
    from playwright.sync_api import sync_playwright

    _, out, _, _ = sample_run
    pages = [out / "index.html", out / "overview.html", *sorted((out / "schools").glob("*.html"))]
    assert len(pages) == 2 + 12
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        found = {}
        for path in pages:
            page.goto(path.as_uri())
            found[path.name] = axe_violations(page)
        browser.close()
    assert found == {path.name: [] for path in pages}


def test_sample_district_pdfs_have_text(sample_run):
    from pypdf import PdfReader

    district, out, _, _ = sample_run
    for school_id, assessment in district.schools.items():
        text = " ".join(p.extract_text() for p in PdfReader(out / "schools" / f"{school_id}.pdf").pages)
        assert assessment.school.name in " ".join(text.split())
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out / "overview.pdf").pages).split())
    assert "Vorherige Konsultation (Art. 36 DSGVO)" in text and "Oberschule Wiesental" in text


def test_manifest_and_index(sample_run):
    district, out, result, _ = sample_run
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["riskkit_version"], manifest["catalogue"], manifest["district"]) == (
        riskkit.__version__, "school-platform@1.1.0", "sample-district")
    assert manifest["formats"] == ["html", "pdf"] and manifest["interrupted"] is False
    school = manifest["reports"]["gs-kleeblatt"]
    assert set(school["inputs"]) == {"district.yaml", "schools/gs-kleeblatt.yaml", "notebook:school_report.ipynb",
                                     "catalogue+matrix", "package", "settings"}
    assert school["status"] == "rendered" and school["error"] is None and school["duration_s"] > 0
    assert len(manifest["reports"]["overview"]["inputs"]) == 12 + 5
    index = (out / "index.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"]+)"', index)
    assert len(hrefs) == 3 + 12 * 3
    assert all((out / href).is_file() for href in hrefs)
    for assessment in district.schools.values():
        assert assessment.school.name in index


def test_rerun_renders_nothing_then_only_the_changed_school(sample_run, tmp_path):
    district, source_out, _, _ = sample_run
    district_dir, out = tmp_path / "sample-district", tmp_path / "reports"
    shutil.copytree(district.path, district_dir)
    shutil.copytree(source_out, out, copy_function=shutil.copy2)
    before = _mtimes(out)

    result = run_batch(district_dir, out=out, today=TODAY, log=lambda line: None, progress=False)
    assert set(result.status.values()) == {"skipped"} and len(result.status) == 13
    after = _mtimes(out)
    assert {k: v for k, v in after.items() if k not in ("manifest.json", "index.html")} == {
        k: v for k, v in before.items() if k not in ("manifest.json", "index.html")}

    path = district_dir / "schools" / "gs-kleeblatt.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Sehr kleine Dorfschule", "Winzige Dorfschule"),
                    encoding="utf-8")
    result = run_batch(district_dir, out=out, formats=["html"], today=TODAY, log=lambda line: None, progress=False)
    assert {k: v for k, v in result.status.items() if v != "skipped"} == {"overview": "rendered",
                                                                           "gs-kleeblatt": "rendered"}
    changed = {k for k, v in _mtimes(out).items() if before.get(k) != v}
    assert changed == {"manifest.json", "index.html", "overview.ipynb", "overview.html",
                       "overview-results.csv",  # it holds the reason that changed; overview-schools.csv does not
                       "schools/gs-kleeblatt.ipynb", "schools/gs-kleeblatt.html"}
    assert "Winzige Dorfschule" in (out / "schools" / "gs-kleeblatt.html").read_text(encoding="utf-8")
    assert not (out / "schools" / "gs-kleeblatt.pdf").exists()  # the old PDF would contradict the new HTML
    assert not (out / "overview.pdf").exists()
    assert (out / "schools" / "obs-wiesental.pdf").exists()


def test_broken_school_file_fails_alone(tmp_path):
    district_dir = _small_district(tmp_path)
    broken = district_dir / "schools" / "broken-school.yaml"
    text = (SAMPLE / "schools" / "gs-am-lindenweg.yaml").read_text(encoding="utf-8")
    broken.write_text(re.sub(r"likelihood: \d", "likelihood: 7", text.replace("id: gs-am-lindenweg",
                                                                               "id: broken-school"), count=1),
                      encoding="utf-8")
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["batch", str(district_dir), "--out", str(out), "--formats", "html",
                                    "--workers", "1", "--today", TODAY.isoformat()])
    assert run.exit_code == 1, run.output
    message = (f"{broken}: risks.discrimination-exposure.likelihood: muss kleiner oder gleich 4 sein (angegeben: 7);"
               " erlaubt: 1 (geringfügig), 2 (überschaubar), 3 (substanziell), 4 (groß)")  # the district's language
    assert f"FEHLGESCHLAGEN broken-school: {message}" in run.output
    assert f"{out}: 3 erstellt, 0 aktuell, 1 fehlgeschlagen in" in run.output
    assert _files(out) == {"index.html", "manifest.json", "overview.ipynb", "overview.html",
                           "overview-results.csv", "overview-schools.csv",
                           *(f"schools/{s}.{k}" for s in SMALL for k in ("ipynb", "html"))}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["reports"]["broken-school"]["status"] == "failed"
    assert manifest["reports"]["broken-school"]["error"] == message
    overview = (out / "overview.html").read_text(encoding="utf-8")
    assert "schools/broken-school.yaml: risks.discrimination-exposure.likelihood" in overview
    assert "fehlgeschlagen" in (out / "index.html").read_text(encoding="utf-8")


def test_failure_in_a_worker_does_not_stop_the_others(tmp_path, monkeypatch):
    """Any executor works; a job that raises is named with its cause, the others are written."""
    district_dir = _small_district(tmp_path)

    def fake_render(job):
        if job.name == "obs-wiesental":
            raise JobError("obs-wiesental: cell [3] `view.heatmap()` failed: RuntimeError: boom")
        return {"ipynb": NOTEBOOK, "html": f"<p>{job.name}</p>".encode()}, 0.25

    monkeypatch.setattr(batch, "render_job", fake_render)
    with ThreadPoolExecutor(2) as pool:
        result = run_batch(district_dir, out=tmp_path / "out", formats=["html"], executor=pool,
                           log=lambda line: None, progress=False, lang="en")
    assert result.status == {"overview": "rendered", "gs-kleeblatt": "rendered", "obs-wiesental": "failed"}
    assert result.errors == {"obs-wiesental": "obs-wiesental: cell [3] `view.heatmap()` failed: RuntimeError: boom"}
    assert (tmp_path / "out" / "schools" / "gs-kleeblatt.html").read_bytes() == b"<p>gs-kleeblatt</p>"
    assert not (tmp_path / "out" / "schools" / "obs-wiesental.html").exists()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["reports"]["gs-kleeblatt"]["duration_s"] == 0.25


def test_stale_temp_files_of_a_killed_run_are_removed(tmp_path, monkeypatch):
    out = tmp_path / "out"
    (out / "schools").mkdir(parents=True)
    (out / "schools" / ".gs-kleeblatt.html.x1y2.tmp").write_text("<html><body>half", encoding="utf-8")
    monkeypatch.setattr(batch, "render_job", lambda job: ({"ipynb": NOTEBOOK, "html": b"<p></p>"}, 0.1))
    with ThreadPoolExecutor(1) as pool:
        run_batch(_small_district(tmp_path), out=out, formats=["html"], executor=pool, log=lambda line: None)
    assert not list(out.rglob("*.tmp"))


def test_interrupted_run_resumes_cleanly(tmp_path):
    district_dir = _small_district(tmp_path, keep=("gs-kleeblatt", "obs-wiesental", "rs-an-der-aue", "kgs-birkenfeld"))
    out = tmp_path / "out"
    riskkit_cli = Path(sys.executable).parent / "riskkit"
    proc = subprocess.Popen(
        [str(riskkit_cli), "batch", str(district_dir), "--out", str(out), "--formats", "html", "--workers", "1",
         "--today", TODAY.isoformat()],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                reports = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]
            except (OSError, ValueError, KeyError):
                reports = {}
            if any(r["status"] == "rendered" for r in reports.values()):
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "interrupted: pending reports cancelled" in stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["interrupted"] is True
    rendered = {name for name, r in manifest["reports"].items() if r["status"] == "rendered"}
    assert 1 <= len(rendered) < 5
    assert not list(out.rglob("*.tmp"))
    for path in (out / "schools").glob("*.html"):  # every report on disk is complete and in the manifest
        assert path.stem in rendered and path.read_text(encoding="utf-8").rstrip().endswith("</html>")

    result = run_batch(district_dir, out=out, formats=["html"], today=TODAY, log=lambda line: None, progress=False)
    assert result.ok
    assert {n for n, s in result.status.items() if s == "skipped"} == rendered
    assert {n for n, s in result.status.items() if s == "rendered"} == {
        "overview", "gs-kleeblatt", "obs-wiesental", "rs-an-der-aue", "kgs-birkenfeld"} - rendered
    assert {f"schools/{s}.html" for s in ("gs-kleeblatt", "obs-wiesental", "rs-an-der-aue", "kgs-birkenfeld")} <= _files(out)


def test_dask_cluster_renders_and_returns_bytes(tmp_path):
    from distributed import LocalCluster

    district_dir = _small_district(tmp_path, keep=("gs-kleeblatt",))
    out = tmp_path / "out"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result = run_batch(district_dir, out=out, formats=["html"], scheduler=cluster.scheduler_address,
                           today=TODAY, log=lambda line: None, progress=False)
    assert result.ok and result.status == {"overview": "rendered", "gs-kleeblatt": "rendered"}
    html = (out / "schools" / "gs-kleeblatt.html").read_text(encoding="utf-8")
    assert "Grundschule Kleeblatt Birkenfeld" in html
    assert "Grundschule Kleeblatt Birkenfeld" in (out / "overview.html").read_text(encoding="utf-8")


def _fake_render(job):
    return {"ipynb": NOTEBOOK, "html": f"<p>{job.name} {job.parameters['today']}</p>".encode()}, 0.1


def test_date_is_resolved_once_and_part_of_every_key(tmp_path, monkeypatch):
    """Without --today every job gets the parent's date; a run on a later day re-renders everything."""
    district_dir, out = _small_district(tmp_path), tmp_path / "out"
    monkeypatch.setattr(batch, "render_job", _fake_render)
    with ThreadPoolExecutor(2) as pool:
        first = run_batch(district_dir, out=out, formats=["html"], executor=pool, log=lambda line: None)
        assert set(first.status.values()) == {"rendered"}
        today = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["today"]
        for name in SMALL:
            assert (out / "schools" / f"{name}.html").read_text(encoding="utf-8") == f"<p>{name} {today}</p>"
        same_day = run_batch(district_dir, out=out, formats=["html"], executor=pool, today=date.fromisoformat(today),
                             log=lambda line: None)
        assert set(same_day.status.values()) == {"skipped"}
        later = run_batch(district_dir, out=out, formats=["html"], executor=pool,
                          today=date.fromisoformat(today) + timedelta(days=1), log=lambda line: None)
    assert set(later.status.values()) == {"rendered"} and len(later.status) == 3


def test_package_and_loaded_catalogue_are_part_of_the_key(tmp_path, monkeypatch):
    sources = {p.relative_to(batch.PACKAGE).as_posix() for p in batch.report_sources()}
    assert {"reports/templates/riskkit_report/static/report.css", "reports/templates/riskkit_report/index.html.j2",
            "reports/templates/riskkit_report/conf.json", "data/labels.yaml", "data/catalogues/school-platform.yaml",
            "data/matrices/dsk-kp18.yaml", "reports/schoolview.py", "reports/overview.py", "figures/plots.py",
            "notebooks/school_report.ipynb", "reports/svgexport.py"} <= sources
    assert not [s for s in sources if s.startswith(("cli/", "capture/", "sheets/"))]

    district_dir, out = _small_district(tmp_path), tmp_path / "out"
    monkeypatch.setattr(batch, "render_job", _fake_render)
    with ThreadPoolExecutor(2) as pool:
        run_batch(district_dir, out=out, formats=["html"], executor=pool, today=TODAY, log=lambda line: None)
        monkeypatch.setattr(batch, "package_digest", lambda: "an edited template")
        again = run_batch(district_dir, out=out, formats=["html"], executor=pool, today=TODAY, log=lambda line: None)
        assert set(again.status.values()) == {"rendered"}
        monkeypatch.setattr(batch, "district_digest", lambda district: "another shipped catalogue")
        again = run_batch(district_dir, out=out, formats=["html"], executor=pool, today=TODAY, log=lambda line: None)
    assert set(again.status.values()) == {"rendered"}


def test_district_digest_follows_what_the_district_loaded(district_dir):
    district = load_district(district_dir)
    before = batch.district_digest(district)
    assert batch.district_digest(load_district(district_dir)) == before
    district.matrix = district.matrix.model_copy(update={"max_reduction": 1})
    assert batch.district_digest(district) != before


def test_a_second_batch_on_the_same_folder_is_refused(tmp_path):
    district_dir, out = _small_district(tmp_path), tmp_path / "out"
    (out / "schools").mkdir(parents=True)
    temp = out / "schools" / ".gs-kleeblatt.html.abc123.tmp"  # the first batch is writing it
    temp.write_text("<html>", encoding="utf-8")
    with batch._lock(out):  # a running batch holds the lock
        run = CliRunner().invoke(main, ["batch", str(district_dir), "--out", str(out), "--formats", "html"])
    assert run.exit_code == 1
    assert run.output == (f"Fehler: ein anderer riskkit-Lauf schreibt gerade nach {out}; warten Sie, bis er fertig "
                          "ist, oder wählen Sie ein anderes --out\n")
    assert temp.exists() and not (out / "manifest.json").exists()


def test_failed_school_keeps_its_notebook_up_to_the_failing_cell(tmp_path, monkeypatch):
    """A real kernel: a cell that fails for one school; its .failed.ipynb has the outputs before the failure."""
    district_dir, out = _small_district(tmp_path), tmp_path / "out"
    school = nbformat.read(notebook_path(SCHOOL_NOTEBOOK), as_version=4)
    failing = nbformat.v4.new_code_cell('assert school_id != "obs-wiesental", "no report for this school"')
    school.cells.insert(next(i for i, c in enumerate(school.cells) if c.source == "view.summary()") + 1, failing)
    patched = tmp_path / SCHOOL_NOTEBOOK
    nbformat.write(school, patched)
    monkeypatch.setattr(batch, "notebook_path", lambda name: patched if name == SCHOOL_NOTEBOOK else notebook_path(name))
    (out / "schools").mkdir(parents=True)
    (out / "schools" / "obs-wiesental.html").write_text("<p>an older report</p>", encoding="utf-8")
    with ThreadPoolExecutor(1) as pool:
        result = run_batch(district_dir, out=out, formats=["html"], executor=pool, today=TODAY, log=lambda line: None)
    assert result.status == {"overview": "rendered", "gs-kleeblatt": "rendered", "obs-wiesental": "failed"}
    assert result.errors["obs-wiesental"] == ('obs-wiesental: Zelle 9 `assert school_id != "obs-wiesental", "no '
                                              'report for this school"` fehlgeschlagen: AssertionError: no report for '
                                              'this school')  # in the district's language
    failed = out / "schools" / "obs-wiesental.failed.ipynb"
    assert result.failed_notebooks == {"obs-wiesental": failed}
    nb = nbformat.read(failed, as_version=4)
    shown = [c.source for c in nb.cells if c.cell_type == "code" and c.outputs]
    assert shown[:3] == ["view.header()", "view.summary()", failing.source]
    assert [o["output_type"] for o in nb.cells[[c.source for c in nb.cells].index(failing.source)].outputs] == ["error"]
    assert not (out / "schools" / "obs-wiesental.html").exists()  # the older report no longer matches its inputs
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["reports"]["obs-wiesental"]["failed_notebook"] == "schools/obs-wiesental.failed.ipynb"
    assert 'href="schools/obs-wiesental.failed.ipynb"' in (out / "index.html").read_text(encoding="utf-8")


def test_sigkill_mid_run_leaves_no_half_file_and_the_next_run_renders_exactly_the_missing(tmp_path):
    import psutil

    schools = ("gs-kleeblatt", "obs-wiesental", "rs-an-der-aue", "kgs-birkenfeld", "gs-am-lindenweg")
    district_dir, out = _small_district(tmp_path, keep=schools), tmp_path / "out"
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "riskkit"), "batch", str(district_dir), "--out", str(out), "--formats",
         "html,pdf", "--workers", "2", "--today", TODAY.isoformat()],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    children: list = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                children = psutil.Process(proc.pid).children(recursive=True) or children
                reports = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]
            except (OSError, ValueError, KeyError, psutil.Error):
                reports = {}
            if sum(r["status"] == "rendered" for r in reports.values()) >= 2:
                break
            assert proc.poll() is None
            time.sleep(0.05)
        proc.kill()  # SIGKILL: no handler runs, no worker is told
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    rendered = {name for name, r in manifest["reports"].items() if r["status"] == "rendered"}
    assert 2 <= len(rendered) < 6
    for path in out.rglob("*"):  # every document on disk is whole (temp files aside)
        if path.is_file() and not path.name.endswith(".tmp"):
            data = path.read_bytes()
            if path.suffix == ".html":
                assert data.rstrip().endswith(b"</html>"), path
            elif path.suffix == ".pdf":
                assert data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:], path
            elif path.suffix in (".ipynb", ".json"):
                json.loads(data)
    gone, alive = psutil.wait_procs(children, timeout=60)  # workers, kernels and browsers follow the parent
    assert not alive, [p.info if hasattr(p, "info") else p for p in alive]

    result = run_batch(district_dir, out=out, formats=["html", "pdf"], today=TODAY, log=lambda line: None,
                       progress=False)
    assert result.ok
    assert {n for n, s in result.status.items() if s == "rendered"} == {"overview", *schools} - rendered
    assert {n for n, s in result.status.items() if s == "skipped"} == rendered
    assert not list(out.rglob("*.tmp"))
    assert {f"schools/{s}.{k}" for s in schools for k in ("ipynb", "html", "pdf")} <= _files(out)


def test_state_folder_renders_every_district_and_a_state_index(tmp_path):
    state = tmp_path / "niedersachsen"
    state.mkdir()
    for name, keep in (("kreis-a", ("gs-kleeblatt",)), ("kreis-b", ("obs-wiesental",))):
        _small_district(tmp_path / name, keep).rename(state / name)
    broken = state / "kreis-c"
    shutil.copytree(state / "kreis-a", broken)
    (broken / "district.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    (state / "notes").mkdir()  # not a district: ignored
    out, lines = tmp_path / "out", []
    result = run_batch(state, out=out, formats=["html"], today=TODAY, log=lines.append, progress=False)
    assert result.status == {"kreis-a/overview": "rendered", "kreis-a/gs-kleeblatt": "rendered",
                             "kreis-b/overview": "rendered", "kreis-b/obs-wiesental": "rendered", "kreis-c": "failed"}
    assert result.errors["kreis-c"].startswith(f"{broken / 'district.yaml'}: line 2")
    assert lines[:2] == ["kreis-a: 2 zu erstellen, 0 aktuell, 0 ungültig", "kreis-b: 2 zu erstellen, 0 aktuell, 0 ungültig"]
    assert len([line for line in lines if re.fullmatch(r"\[\d/4\] kreis-[ab]/[a-z-]+: erstellt in \d+,\d s", line)]) == 4
    for district, school in (("kreis-a", "gs-kleeblatt"), ("kreis-b", "obs-wiesental")):
        assert {"index.html", "manifest.json", "overview.html", f"schools/{school}.html"} <= _files(out / district)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert_offline(index, "state index")
    hrefs = re.findall(r'href="([^"]+)"', index)
    assert hrefs == ["kreis-a/overview.html", "kreis-a/index.html", "kreis-b/overview.html", "kreis-b/index.html"]
    assert "<title>DSFA-Berichte aller Kreise: niedersachsen</title>" in index
    assert "kreis-c</td>" in index and "nicht lesbar" in index

    run = CliRunner().invoke(main, ["batch", str(state), "--out", str(out), "--formats", "html",
                                    "--today", TODAY.isoformat()])
    assert run.exit_code == 1  # kreis-c is still unreadable
    assert f"{out}: 0 erstellt, 4 aktuell, 1 fehlgeschlagen in" in run.output
