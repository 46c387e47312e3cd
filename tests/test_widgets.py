"""The capture form without a browser: set widget values, assert the draft, the figure, the messages and the YAML."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import papermill
import pytest
import yaml

from riskkit.capture.state import CaptureSession, Draft, FieldProblem, FileStamp, PlannedDraft, SaveConflict, check_draft
from riskkit.model.assessment import read_school
from riskkit.model.district import load_district, read_district
from riskkit.model.yamlio import read_yaml
from riskkit.figures.plots import LEVEL_FILL
from riskkit.capture.form import NEW, CaptureForm, capture_form

REPO = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 23)
IT = "risks.identity-theft"


@pytest.fixture
def form(district_dir: Path) -> CaptureForm:
    district, problems = read_district(district_dir)
    return CaptureForm(CaptureSession(district, problems, today=TODAY), "de")


def school_file(district_dir: Path, school_id: str = "gs-kleeblatt") -> Path:
    return district_dir / "schools" / f"{school_id}.yaml"


def choose(form: CaptureForm, school: str) -> None:
    """Pick a school in the menu, press Open, and open every step and risk panel (so that all fields are built)."""
    form.school_menu.value = school
    form.open_button.click()
    unfold_all(form)


def unfold_all(form: CaptureForm) -> None:
    while closed := [fold for fold in form.folds.values() if not fold.opened]:
        for fold in closed:
            fold.opened = True


def titles(form: CaptureForm) -> list[str]:
    return [fold.title for fold in form.folds.values()]


def trace(form: CaptureForm, name: str):
    return next(t for t in form.figure.to_figure().data if t.name == name)


def position(form: CaptureForm, name: str, number: str) -> tuple[float, float]:
    t = trace(form, name)
    i = list(t.text).index(number)
    return t.x[i], t.y[i]


def test_form_starts_with_the_district_schools_and_nothing_open(form):
    values = [v for _, v in form.school_menu.options]
    assert values == ["", "bbs-gesundheit-soziales", "bbs-musterau", "foerderzentrum-am-weiher", "gs-am-lindenweg",
                      "gs-kleeblatt", "gs-sonnenhuegel", "gym-alte-muehle", "gym-am-schlosspark",
                      "igs-musterau-nord", "kgs-birkenfeld", "obs-wiesental", "rs-an-der-aue", NEW]
    assert form.school_menu.options[0][0] == "– Schule auswählen –"
    assert form.inputs == {}
    assert form.save_button.disabled and form.reload_button.disabled
    assert "Wählen Sie oben Ihre Schule aus" in form.widget.children[-1].value


def test_pick_school_change_likelihood_tick_measure_save(form, district_dir):
    choose(form, "gs-kleeblatt")
    assert form.status.html == "Geladen: gs-kleeblatt.yaml"
    assert form.inputs[f"{IT}.likelihood"].value == 2
    assert form.inputs[f"{IT}.measures_in_place.usage-rules"].value is True
    assert form.inputs[f"{IT}.measures_in_place.two-factor-auth"].value is False
    assert "Keine ungespeicherten Änderungen" in form.dirty_marker.value
    # R2 = identity-theft: inherent (2, 3), residual (1, 3) after two measures lowering likelihood by 1 each
    assert round(position(form, "Ausgangsrisiko (vor Maßnahmen)", "R2")[0]) == 2

    form.inputs[f"{IT}.likelihood"].value = 4
    assert form.session.draft.risks["identity-theft"].likelihood == 4
    assert "Ungespeicherte Änderungen" in form.dirty_marker.value
    x, y = position(form, "Ausgangsrisiko (vor Maßnahmen)", "R2")
    assert (round(x), round(y)) == (4, 3)
    assert form._status_lines["identity-theft"].value == (
        "<b>Ausgangsrisiko:</b> hohes Risiko (Wahrscheinlichkeit 4, Schwere 3) → "
        "<b>Restrisiko:</b> Risiko (Wahrscheinlichkeit 2, Schwere 3)"
    )

    form.inputs[f"{IT}.measures_in_place.log-evaluation"].value = True
    x, y = position(form, "Restrisiko (nach Maßnahmen)", "R2")
    assert (round(x), round(y)) == (2, 2)
    assert form.session.draft.risks["identity-theft"].measures_in_place == [
        "usage-rules", "admin-obligation", "log-evaluation"]
    assert "<td>Identitätsdiebstahl</td><td style='background:#b2182b;color:#ffffff'>hohes Risiko</td>" in form.summary.value

    before = yaml.safe_load(school_file(district_dir).read_text(encoding="utf-8"))
    reason_input = form.inputs[f"{IT}.reason"]
    form.save_button.click()
    assert "Gespeichert: gs-kleeblatt.yaml" in form.status.html
    assert form.folds["risks.accounts"].opened and form.inputs[f"{IT}.reason"] is reason_input  # no rebuild
    assert "Keine ungespeicherten Änderungen" in form.dirty_marker.value
    after = yaml.safe_load(school_file(district_dir).read_text(encoding="utf-8"))
    assert after["risks"]["identity-theft"] == {
        "likelihood": 4,
        "reason": "Die Kinder arbeiten an gemeinsamen Schul-Tablets, auf denen Anmeldungen gelegentlich offen bleiben.",
        "measures_in_place": ["usage-rules", "admin-obligation", "log-evaluation"],
    }
    assert {k: v for k, v in after["risks"].items() if k != "identity-theft"} == {
        k: v for k, v in before["risks"].items() if k != "identity-theft"}
    assert after["school"] == before["school"] and after["assessed_on"] == before["assessed_on"]
    assert load_district(district_dir).school("gs-kleeblatt").risks["identity-theft"].likelihood == 4


def test_problems_are_shown_at_their_fields_and_nothing_is_written(form, district_dir):
    choose(form, "gs-kleeblatt")
    original = school_file(district_dir).read_bytes()
    form.inputs[f"{IT}.reason"].value = "   "
    form.folds["risks.accounts"].opened = form.folds["risks"].opened = False
    assert form.save() is None
    assert form.errors[f"{IT}.reason"].value == "⚠ Bitte begründen Sie Ihre Einschätzung."
    assert "R2 Identitätsdiebstahl – Begründung Ihrer Einschätzung: Bitte begründen Sie Ihre Einschätzung." in form.status.html
    assert "Nicht gespeichert: 1 Angabe fehlt oder passt nicht." in form.status.html
    assert form.folds["risks"].opened and form.folds["risks.accounts"].opened  # the step and panel with the problem
    assert school_file(district_dir).read_bytes() == original
    form.inputs[f"{IT}.reason"].value = "Geteilte Tablets."
    assert form.errors[f"{IT}.reason"].value == ""  # an edit clears its field's message


def test_planned_measures_and_override(form, district_dir):
    choose(form, "gs-kleeblatt")
    row = f"{IT}.measures_planned[0]"
    assert f"{row}.owner" not in form.inputs
    form.buttons[f"{IT}.measures_planned"].click()
    assert form.session.draft.risks["identity-theft"].measures_planned == [PlannedDraft()]
    assert "Ungespeicherte Änderungen" in form.dirty_marker.value
    form.save()
    assert form.errors[f"{row}.measure"].value == "⚠ Bitte auswählen."
    assert form.errors[f"{row}.owner"].value == "⚠ Bitte ausfüllen."
    assert form.errors[f"{row}.due"].value == "⚠ Bitte ein Datum angeben."
    form.inputs[f"{row}.measure"].value = "usage-rules"
    form.inputs[f"{row}.owner"].value = "Frau Brandstätter"
    form.inputs[f"{row}.due"].value = date(2027, 3, 1)
    form.save()
    assert form.errors[f"{row}.measure"].value == (
        "⚠ Diese Maßnahme ist schon umgesetzt (oben angehakt); planen Sie nur fehlende.")
    form.inputs[f"{row}.measure"].value = "two-factor-auth"

    # the residual values set by hand are the head's decision: they live in the decision step (dsfa.decision.residual)
    residual = "dsfa.decision.residual.identity-theft"
    form.inputs[residual].value = True
    form.inputs[f"{residual}.likelihood"].value = 1
    form.inputs[f"{residual}.severity"].value = 2
    assert form.save() is None
    assert form.errors[f"{residual}.reason"].value == "⚠ Eine selbst festgelegte Einstufung braucht eine Begründung."
    form.inputs[f"{residual}.reason"].value = "Externe Prüfung 2026"
    assert "(selbst festgelegt)" in form._status_lines["identity-theft"].value
    assert form.save() == school_file(district_dir)
    saved_file = yaml.safe_load(school_file(district_dir).read_text(encoding="utf-8"))
    saved = saved_file["risks"]["identity-theft"]
    assert saved["measures_planned"] == [{"measure": "two-factor-auth", "owner": "Frau Brandstätter", "due": "2027-03-01"}]
    # the controller's residual values are part of its decision (issue 13)
    assert saved_file["dsfa"]["decision"]["residual"]["identity-theft"] == {
        "likelihood": 1, "severity": 2, "reason": "Externe Prüfung 2026"}


def test_removing_a_planned_measure_renumbers_the_rows(form):
    choose(form, "gs-kleeblatt")
    add = form.buttons[f"{IT}.measures_planned"]
    add.click()
    add.click()
    form.inputs[f"{IT}.measures_planned[0].owner"].value = "A"
    form.inputs[f"{IT}.measures_planned[1].owner"].value = "B"
    form.buttons[f"{IT}.measures_planned[0]"].click()
    assert [p.owner for p in form.session.draft.risks["identity-theft"].measures_planned] == ["B"]
    assert form.inputs[f"{IT}.measures_planned[0].owner"].value == "B"
    assert f"{IT}.measures_planned[1].owner" not in form.inputs
    form.buttons[f"{IT}.measures_planned[0]"].click()
    assert "Keine ungespeicherten Änderungen" in form.dirty_marker.value  # back to what was loaded


def test_save_over_a_file_someone_broke_meanwhile_offers_only_a_reload(form, district_dir):
    choose(form, "gs-kleeblatt")
    form.inputs[f"{IT}.likelihood"].value = 3
    # the first "likelihood: 2" in the file is identity-theft's
    theirs = school_file(district_dir).read_text(encoding="utf-8").replace("likelihood: 2", "likelihood: 1", 1)
    school_file(district_dir).write_text(theirs + "unknown_key: 1\n", encoding="utf-8")  # saved with a fault
    assert form.save() is None
    assert school_file(district_dir).read_text(encoding="utf-8") == theirs + "unknown_key: 1\n"  # nothing merged
    question, reload_button, cancel = form.question.children
    assert "Die Datei gs-kleeblatt.yaml wurde geändert, seit Sie sie geladen haben" in question.value
    assert (reload_button.description, cancel.description) == ("Neu laden und meine Änderungen verwerfen", "Abbrechen")
    school_file(district_dir).write_text(theirs, encoding="utf-8")  # mended
    reload_button.click()
    assert form.question.children == ()
    assert form.inputs[f"{IT}.likelihood"].value == 1  # theirs; the own unsaved 3 is discarded
    assert form.status.html == "Geladen: gs-kleeblatt.yaml"
    assert not form.session.dirty
    form.inputs[f"{IT}.likelihood"].value = 3
    assert form.save() == school_file(district_dir)  # after the reload, saving works again


def test_a_touched_file_with_equal_content_still_counts_as_changed(district_dir):
    session = CaptureSession(load_district(district_dir), today=TODAY)
    session.load("gs-kleeblatt")
    path = school_file(district_dir)
    stamp = FileStamp.of(path)
    path.write_bytes(path.read_bytes())
    os.utime(path, ns=(stamp.mtime_ns + 10**9, stamp.mtime_ns + 10**9))
    with pytest.raises(SaveConflict, match="gs-kleeblatt.yaml changed on disk since it was loaded"):
        session.save()


def test_switching_school_with_unsaved_changes_asks_first(form):
    choose(form, "gs-kleeblatt")
    form.inputs[f"{IT}.likelihood"].value = 4
    form.school_menu.value = "bbs-musterau"
    assert form.session.school_id == "gs-kleeblatt" and form.question.children == ()  # choosing alone opens nothing
    form.open_button.click()
    assert form.session.school_id == "gs-kleeblatt"
    question, discard, cancel = form.question.children
    assert "Es gibt ungespeicherte Änderungen" in question.value
    cancel.click()
    assert form.session.draft.risks["identity-theft"].likelihood == 4 and form.question.children == ()
    assert form.school_menu.value == "gs-kleeblatt"  # the menu names the school still open
    choose(form, "bbs-musterau")
    form.question.children[1].click()
    assert form.session.school_id == "bbs-musterau" and form.school_menu.value == "bbs-musterau"
    assert form.status.html == "Geladen: bbs-musterau.yaml"


def test_reload_rereads_the_file(form, district_dir):
    choose(form, "gs-kleeblatt")
    text = school_file(district_dir).read_text(encoding="utf-8")
    school_file(district_dir).write_text(text.replace("likelihood: 2", "likelihood: 3", 1), encoding="utf-8")
    form.reload_button.click()
    assert form.inputs[f"{IT}.likelihood"].value == 3
    assert "Keine ungespeicherten Änderungen" in form.dirty_marker.value


def test_new_school(form, district_dir):
    choose(form, NEW)
    assert form.status.html == "Neue Schule: Bitte zuerst die Angaben zur Schule ausfüllen."
    assert form.inputs["school.id"].disabled is False and form.reload_button.disabled
    assert trace(form, "Ausgangsrisiko (vor Maßnahmen)").x == ()
    form.inputs["school.id"].value = "GS Neu"
    form.save_button.click()
    assert form.errors["school.id"].value.startswith("⚠ Nur Kleinbuchstaben a–z, Ziffern, - und _")
    assert form.errors["school.name"].value == "⚠ Bitte ausfüllen."
    assert form.errors["school.kind"].value == "⚠ Bitte auswählen."
    assert form.errors["assessed_by"].value == "⚠ Bitte ausfüllen."
    form.inputs["school.id"].value = "gs-kleeblatt"
    form.inputs["school.name"].value = "Grundschule Neustadt"
    form.inputs["school.kind"].value = "primary"
    form.inputs["assessed_by"].value = "Herr Neumann (Schulleitung)"
    form.inputs["risks.profiling.reason"].value = "Noch offen"
    form.save_button.click()
    assert form.errors["school.id"].value == (
        "⚠ Dieses Kürzel hat schon eine Schule. Wählen Sie die Schule oben aus oder nehmen Sie ein anderes Kürzel.")
    assert form.errors["risks.profiling.likelihood"].value == (
        "⚠ Bitte eine Wahrscheinlichkeit wählen – sonst werden Begründung und Maßnahmen nicht gespeichert.")
    form.inputs["school.id"].value = "gs-neustadt"
    form.inputs["risks.profiling.likelihood"].value = 3
    form.save_button.click()
    assert "Gespeichert: gs-neustadt.yaml" in form.status.html
    assert yaml.safe_load(school_file(district_dir, "gs-neustadt").read_text(encoding="utf-8")) == {
        "school": {"id": "gs-neustadt", "name": "Grundschule Neustadt", "kind": "primary"},
        "assessed_on": "2026-11-23",
        "assessed_by": "Herr Neumann (Schulleitung)",
        "catalogue_version": "1.1.0",
        "risks": {"profiling": {"likelihood": 3, "reason": "Noch offen"}},
    }
    assert form.school_menu.value == "gs-neustadt"
    assert ("Grundschule Neustadt (gs-neustadt)", "gs-neustadt") in form.school_menu.options
    assert form.inputs["school.id"].disabled is True


def test_live_matrix_draws_every_cell_once_and_explains_its_symbols_in_html(form):
    choose(form, "gs-kleeblatt")
    assert form.figure.to_figure().layout.showlegend is False
    fills = [t for t in form.figure.to_figure().data if t.fill == "toself"]
    assert [t.fillcolor for t in fills] == list(LEVEL_FILL.values())
    corners = [(x, y) for t in fills for x, y in zip(t.x, t.y) if x is not None]
    assert len(corners) == 16 * 5 and len(set(corners)) == 25  # 16 closed squares on a 5 x 5 grid of corners
    side = next(box for box in form.widget.children[-1].children if form.summary in box.children)
    legend = next(c.value for c in widgets(side) if "rk-legend" in getattr(c, "value", ""))
    for text in ["Ausgangsrisiko (vor Maßnahmen)", "Restrisiko (nach Maßnahmen)",
                 "Risiko ohne Änderung durch Maßnahmen", "Wirkung der Maßnahmen"]:
        assert f"</svg> {text}</li>" in legend
    assert legend.count("aria-hidden='true'") == 4


def test_language_switch_keeps_the_draft(form):
    choose(form, "gs-kleeblatt")
    form.inputs[f"{IT}.likelihood"].value = 4
    form.folds["risks.mail"].opened = False
    assert form.status.html == "Geladen: gs-kleeblatt.yaml"
    form.language_menu.value = "en"
    assert not form.folds["risks.mail"].opened and form.folds["risks.messenger"].opened  # as they were
    assert form.status.html == "Loaded: gs-kleeblatt.yaml"  # the status line follows the language
    assert form.widget.children[0].value.count("<h2>Record the school platform&#39;s risks</h2>") == 1
    assert form.inputs[f"{IT}.likelihood"].value == 4
    assert form.inputs[f"{IT}.likelihood"].options[4] == (
        "4 major: Almost certain; incidents happen regularly or are possible without any effort.", 4)
    assert "Unsaved changes" in form.dirty_marker.value
    assert form.figure.to_figure().layout.xaxis.title.text == "likelihood"
    assert [t.name for t in form.figure.to_figure().data] == [
        "low risk", "medium risk", "high risk", "levels",
        "effect of the measures", "inherent risk (before measures)", "residual risk (after measures)", "risk unchanged by measures"]
    assert form.figure.spec["config"]["showSendToCloud"] is False
    assert form.figure.spec["config"]["displayModeBar"] is False  # no tool bar over the live matrix
    assert form.figure.label == "Risk matrix: every assessed risk before and after the measures"


def test_an_invalid_school_file_is_reported_in_words(district_dir):
    bad = school_file(district_dir, "gs-sonnenhuegel")
    bad.write_text(bad.read_text(encoding="utf-8").replace("likelihood: 1", "likelihood: 7", 1), encoding="utf-8")
    form = capture_form(district_dir)
    assert "gs-sonnenhuegel" not in [v for _, v in form.school_menu.options]
    header = form.widget.children[0].value
    assert "Diese Dateien können nicht geladen werden" in header
    assert "gs-sonnenhuegel.yaml: risks.profiling.likelihood: muss kleiner oder gleich 4 sein (angegeben: 7)" in header
    header = capture_form(district_dir, lang="en").widget.children[0].value
    assert "gs-sonnenhuegel.yaml: risks.profiling.likelihood: Input should be less than or equal to 4 (got 7)" in header


def test_a_broken_district_gives_a_message_not_a_traceback(tmp_path):
    (tmp_path / "district.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    message = capture_form(tmp_path)
    assert "Der Kreis kann nicht geladen werden:" in message.value
    assert "kein gültiges YAML" in message.value  # the problem in the form's language too
    assert "not valid YAML" in capture_form(tmp_path, lang="en").value


def test_check_draft_names_each_field(district_dir):
    district = load_district(district_dir)
    draft = Draft.from_assessment(district.school("gs-kleeblatt"), district.catalogue)
    assert check_draft(draft, district.catalogue) == []
    draft.risks["profiling"].measures_planned = [PlannedDraft("log-deletion", "X", date(2027, 1, 1)),
                                                 PlannedDraft("head-not-admin", "Y", date(2027, 1, 1)),
                                                 PlannedDraft("head-not-admin", "Z", date(2027, 1, 1))]
    draft.assessed_by = ""
    assert check_draft(draft, district.catalogue) == [
        FieldProblem("assessed_by", "form.error.required"),
        FieldProblem("risks.profiling.measures_planned[0].measure", "form.error.planned_in_place"),
        FieldProblem("risks.profiling.measures_planned[2].measure", "form.error.planned_twice"),
    ]


def test_capture_notebook_runs_in_a_real_kernel(district_dir, tmp_path):
    out = tmp_path / "capture.out.ipynb"
    papermill.execute_notebook(
        str(REPO / "notebooks" / "capture.ipynb"), str(out), cwd=str(REPO / "notebooks"),
        parameters={"district_dir": str(district_dir), "school": "gs-kleeblatt"}, progress_bar=False,
    )
    cells = [c for c in yaml.safe_load(out.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    outputs = cells[-1]["outputs"]
    assert [o["output_type"] for o in outputs] == ["execute_result"]
    assert "application/vnd.jupyter.widget-view+json" in outputs[0]["data"]
    assert all(not c["outputs"] for c in cells[:-1] if "parameters" not in c["metadata"].get("tags", []))


# ---- the complete DSFA in the form (issues 11, 12, 13) ----

VC_RISKS = ["vc-recording", "vc-content-exposure", "vc-operator-data", "vc-counselling-exposure"]


def results_by_id(form: CaptureForm) -> dict:
    return {r.risk.id: r for r in form.session.results()}


def test_switching_a_module_off_removes_its_risks_live_and_counts_them_as_not_applicable(form):
    choose(form, "gs-kleeblatt")
    assert form.inputs["platform.modules.accounts"].value is True
    assert form.inputs["platform.modules.accounts"].disabled  # mandatory: fixed on
    assert form.inputs["platform.modules.messenger"].value is False  # the school does not use it
    before = form.dsfa_line.value
    assert "<b>Stand der DSFA:</b> Entwurf" in before and "<li>7 Risiken nicht bewertet</li>" in before
    vc_numbers = {form.numbers[r] for r in VC_RISKS}
    assert {"R5", "R6"} <= {n for t in form.figure.to_figure().data for n in (t.text or ())}  # assessed and drawn

    form.inputs["platform.modules.video-conference"].value = False
    results = results_by_id(form)
    assert [results[r].applicable for r in VC_RISKS] == [False] * 4
    assert not any(results[r].open for r in VC_RISKS)  # not applicable is never open
    assert results["private-devices"].applicable  # its other modules are still in use
    assert [form._cards[r].layout.display for r in VC_RISKS] == ["none"] * 4
    assert form._cards["private-devices"].layout.display is None
    assert "Videokonferenz (0 Risiken, 0 offen, 4 nicht anwendbar)" in titles(form)
    assert "<tr><td>nicht anwendbar (Modul nicht genutzt)</td><td>4</td><td>4</td></tr>" in form.summary.value
    assert ('<th scope="row">R5</th><td>Aufzeichnung oder Weitergabe von Videokonferenzen</td>'
            "<td>nicht anwendbar</td><td>nicht anwendbar</td>") in form.summary.value
    assert not vc_numbers & {n for t in form.figure.to_figure().data for n in (t.text or ())}
    assert form.decision.rows["vc-recording"].layout.display == "none"
    assert "Ungespeicherte Änderungen" in form.dirty_marker.value
    assert form.dsfa_line.value != before
    assert form.inputs["platform.modules.video-conference.groups"].value == "nur Elterngespräche"

    form.inputs["platform.modules.video-conference"].value = True  # back on: what was typed comes back
    assert results_by_id(form)["vc-recording"].applicable
    assert form._cards["vc-recording"].layout.display is None
    assert not form.session.dirty and form.dsfa_line.value == before


def test_a_switched_off_module_is_saved_and_its_risks_stay_in_the_file(form, district_dir):
    choose(form, "gs-kleeblatt")
    before = read_yaml(school_file(district_dir))[0]
    form.inputs["platform.modules.add-ons"].value = False
    form.inputs["platform.modules.messenger"].value = True
    form.inputs["platform.modules.messenger.legal_basis"].value = "consent"
    form.inputs["platform.modules.messenger.groups"].value = "nur Lehrkräfte"
    form.inputs["platform.extra_data.health"].value = True
    assert form.save() == school_file(district_dir)
    saved = read_yaml(school_file(district_dir))[0]
    assert saved["platform"] == {
        "hosting": "own-server", "operation": "running", "running_since": "2022-09-05", "pupils": 95, "staff": 9,
        "extra_data": ["health"],
        "modules": {
            "accounts": {"legal_basis": "school-law"}, "administration": {"legal_basis": "school-law"},
            "mail": {"legal_basis": "school-law", "groups": "nur Lehrkräfte; Kinder haben keine Mailadresse"},
            "files": {"legal_basis": "school-law", "groups": "ein gemeinsamer Ordner für Arbeitsblätter"},
            "video-conference": {"legal_basis": "consent", "groups": "nur Elterngespräche"},
            "messenger": {"legal_basis": "consent", "groups": "nur Lehrkräfte"},
        },
    }
    district = load_district(district_dir)
    result = {r.risk.id: r for r in district.evaluate("gs-kleeblatt")}["third-party-addons"]
    assert not result.applicable and not result.open
    assert saved["risks"] == before["risks"]  # what was assessed stays, for when a module is switched on again
    assert district.summary().loc["gs-kleeblatt", "not_applicable"] == 1


def test_a_partial_measure_and_a_severity_raise_change_the_live_results(form, district_dir):
    choose(form, "gs-kleeblatt")
    original = school_file(district_dir).read_bytes()
    form.inputs[f"{IT}.likelihood"].value = 4
    assert position_rounded(form, "Restrisiko (nach Maßnahmen)", "R2") == (2, 3)
    form.inputs[f"{IT}.measures_in_place.usage-rules.partly"].value = True  # counts for nothing when partial
    assert position_rounded(form, "Restrisiko (nach Maßnahmen)", "R2") == (3, 3)
    form.inputs[f"{IT}.severity"].value = True
    assert form.inputs[f"{IT}.severity.level"].options[1:] == (("4 groß", 4),)  # only levels above the catalogue's
    form.inputs[f"{IT}.severity.level"].value = 4
    assert position_rounded(form, "Ausgangsrisiko (vor Maßnahmen)", "R2") == (4, 4)
    assert position_rounded(form, "Restrisiko (nach Maßnahmen)", "R2") == (3, 4)
    assert form._status_lines["identity-theft"].value.startswith(
        "<b>Ausgangsrisiko:</b> hohes Risiko (Wahrscheinlichkeit 4, Schwere 4)")

    assert form.save() is None  # a partial measure needs its scope, a raise its reason
    assert form.errors[f"{IT}.measures_in_place.usage-rules.partial"].value == (
        "⚠ Bitte sagen Sie, in welchem Umfang die Maßnahme umgesetzt ist.")
    assert form.errors[f"{IT}.severity.reason"].value == "⚠ Eine höhere Schwere braucht eine Begründung."
    assert "R2 Identitätsdiebstahl – Begründung der höheren Schwere" in form.status.html
    assert school_file(district_dir).read_bytes() == original

    form.inputs[f"{IT}.measures_in_place.usage-rules.partial"].value = "nur in den Klassen 3 und 4"
    form.inputs[f"{IT}.severity.reason"].value = "Die Kinder melden sich mit Geburtsdatum an."
    assert "Schwere angehoben auf 4: Die Kinder melden sich mit Geburtsdatum an." in (
        form._status_lines["identity-theft"].value)
    assert form.save() == school_file(district_dir)
    assert read_yaml(school_file(district_dir))[0]["risks"]["identity-theft"] == {
        "likelihood": 4,
        "reason": "Die Kinder arbeiten an gemeinsamen Schul-Tablets, auf denen Anmeldungen gelegentlich offen bleiben.",
        "measures_in_place": [{"measure": "usage-rules", "partial": "nur in den Klassen 3 und 4"}, "admin-obligation"],
        "severity": {"level": 4, "reason": "Die Kinder melden sich mit Geburtsdatum an."},
    }
    result = {r.risk.id: r for r in load_district(district_dir).evaluate("gs-kleeblatt")}["identity-theft"]
    assert (result.severity, result.severity_source, result.residual_likelihood) == (4, "school", 3)


def test_unticking_a_partial_measure_drops_its_scope(form):
    choose(form, "gs-kleeblatt")
    form.inputs[f"{IT}.measures_in_place.usage-rules.partly"].value = True
    form.inputs[f"{IT}.measures_in_place.usage-rules.partial"].value = "nur Lehrkräfte"
    form.inputs[f"{IT}.measures_in_place.usage-rules"].value = False
    assert form.session.draft.risks["identity-theft"].partial == {}
    form.inputs[f"{IT}.measures_in_place.usage-rules"].value = True
    assert form.inputs[f"{IT}.measures_in_place.usage-rules.partly"].value is False
    assert not form.session.dirty


def test_decision_advice_and_views_problems_are_shown_at_their_fields(form, district_dir):
    choose(form, "gs-kleeblatt")
    original = school_file(district_dir).read_bytes()
    form.inputs["dsfa.decision.outcome"].value = "conditions"
    form.inputs["dsfa.advice.opinion"].value = "unfavourable"
    form.inputs["dsfa.views.parents.sought"].value = False
    form.inputs["dsfa.views.pupils.sought"].value = True
    form.inputs["platform.pupils"].value = "ca. 95"
    assert form.save() is None
    problems = {key: e.value for key, e in form.errors.items() if e.value}
    assert problems == {
        "platform.pupils": "⚠ Bitte eine ganze Zahl ohne Punkt angeben (z. B. 480).",
        "dsfa.advice.by": "⚠ Bitte ausfüllen.",
        "dsfa.advice.on": "⚠ Bitte ein Datum angeben.",
        "dsfa.advice.text": "⚠ Ein Votum, das nicht uneingeschränkt befürwortet, braucht seinen Text.",
        "dsfa.views.parents.reason": "⚠ Bitte begründen Sie, warum die Stellungnahme nicht eingeholt wurde.",
        "dsfa.views.pupils.on": "⚠ Bitte ein Datum angeben.",
        "dsfa.views.pupils.summary": "⚠ Bitte halten Sie fest, was das Gremium gesagt hat.",
        "dsfa.decision.by": "⚠ Bitte ausfüllen.",
        "dsfa.decision.on": "⚠ Bitte ein Datum angeben.",
        "dsfa.decision.conditions": "⚠ Eine Freigabe mit Bedingungen braucht die Bedingungen.",
        **{f"dsfa.decision.accepted.{r}": "⚠ Eine Freigabe braucht für dieses Restrisiko die Begründung, warum es "
           "hingenommen wird." for r in ("data-loss", "vc-recording", "private-devices")},
    }
    assert "R4 Datenverlust durch Hardware-Defekt, Feuer oder Wasser – Hingenommen, weil" in form.status.html
    assert "Nicht gespeichert: 13 Angaben fehlen" in form.status.html
    assert school_file(district_dir).read_bytes() == original
    assert form.inputs["dsfa.views.parents.reason"].layout.display is None  # shown for "not sought"
    assert form.errors["dsfa.views.parents.on"].value == "" and (
        form.inputs["dsfa.views.parents.on"].layout.display is None)


def test_the_dsfa_steps_save_exactly_their_blocks(form, district_dir):
    choose(form, "gs-kleeblatt")
    before = read_yaml(school_file(district_dir))[0]
    assert "Ergebnis: Eine DSFA ist erforderlich." in form.threshold_line.value
    form.inputs["dsfa.threshold.sensitive-data.answer"].value = "no"
    form.inputs["dsfa.threshold.sensitive-data.reason"].value = "Keine Förderpläne, keine Gesundheitsdaten."
    information = next(q for q in form.session.catalogue.questions if q.id == "information").default
    form.buttons["dsfa.answers.information"].click()  # the vendor's standard answer, taken as offered
    assert form.inputs["dsfa.answers.information.status"].value == information.status
    assert form.inputs["dsfa.answers.information.text"].value == information.text.de
    form.inputs["dsfa.answers.transfers.status"].value = "met"
    form.inputs["dsfa.answers.transfers.text"].value = "Die Lese-App ist geprüft: Hosting in Deutschland."
    form.inputs["dsfa.views.parents.sought"].value = False
    form.inputs["dsfa.views.parents.reason"].value = "Der Schulelternrat tagt erst im Februar."
    form.inputs["dsfa.advice.by"].value = "Dr. Miriam Feldhaus"
    form.inputs["dsfa.advice.on"].value = date(2026, 11, 20)
    form.inputs["dsfa.advice.opinion"].value = "favourable"
    form.inputs["dsfa.decision.by"].value = "Anna Weber (Schulleiterin)"
    form.inputs["dsfa.decision.on"].value = date(2026, 11, 22)
    form.inputs["dsfa.decision.outcome"].value = "not-released"
    assert form.save() == school_file(district_dir)
    after = read_yaml(school_file(district_dir))[0]
    assert after["dsfa"] == {
        "threshold": {"sensitive-data": {"answer": "no", "reason": "Keine Förderpläne, keine Gesundheitsdaten."}},
        "answers": {**before["dsfa"]["answers"],
                    "information": {"status": information.status, "text": information.text.de},
                    "transfers": {"status": "met", "text": "Die Lese-App ist geprüft: Hosting in Deutschland."}},
        "advice": {"by": "Dr. Miriam Feldhaus", "on": "2026-11-20", "opinion": "favourable"},
        "views": {"parents": {"sought": False, "reason": "Der Schulelternrat tagt erst im Februar."}},
        "decision": {"by": "Anna Weber (Schulleiterin)", "on": "2026-11-22", "outcome": "not-released"},
    }
    assert {k: v for k, v in after.items() if k != "dsfa"} == {k: v for k, v in before.items() if k != "dsfa"}
    status = load_district(district_dir).status("gs-kleeblatt")
    assert status.step == "draft" and "2 Stellungnahmen der Vertretungen fehlen" in status.blockers_text("de")
    assert "<li>2 Stellungnahmen der Vertretungen fehlen</li>" in form.dsfa_line.value


def test_a_school_with_every_block_loads_into_the_form_and_saves_back_unchanged(form, district_dir):
    path = school_file(district_dir, "foerderzentrum-am-weiher")
    before = read_school(path, form.session.catalogue)[0]
    choose(form, "foerderzentrum-am-weiher")
    i = form.inputs
    assert i["platform.hosting"].value == "cloud" and i["platform.pupils"].value == "140"
    assert i["platform.modules.add-ons"].value is False and i["platform.extra_data.health"].value is True
    assert i["platform.modules.messenger.groups"].value.startswith("nur Abschlussstufe")
    assert i["dsfa.threshold.sensitive-data.answer"].value == "yes"
    assert i["dsfa.answers.portability.status"].value == "not-applicable"
    assert i["dsfa.advice.opinion"].value == "conditions" and i["dsfa.advice.on"].value == date(2026, 5, 6)
    assert i["dsfa.views.parents.sought"].value is True
    assert i["dsfa.decision.outcome"].value == "conditions"
    assert i["dsfa.decision.residual.identity-theft"].value is True
    assert i["dsfa.decision.residual.identity-theft.severity"].value == 2
    assert i["dsfa.decision.accepted.vc-recording"].value.startswith("Videokonferenzen finden nur mit Erwachsenen")
    assert form.dsfa_line.value == "<p><b>Stand der DSFA:</b> entschieden</p>"
    assert "Identitätsdiebstahl: Risiko" in form.folds["advice"].body.children[0].children[-1].value
    assert form._cards["third-party-addons"].layout.display == "none"
    assert "(selbst festgelegt)" in form.decision.lines["identity-theft"].value
    assert "Schwere angehoben auf 4: Gesundheitsdaten" in form._status_lines["discrimination-exposure"].value
    assert form.save() == path
    assert read_school(path, form.session.catalogue)[0] == before
    written = path.read_bytes()
    form.reload_button.click()
    assert not form.session.dirty
    assert form.save() == path and path.read_bytes() == written


def test_every_sample_school_saves_back_unchanged(district_dir):
    district = load_district(district_dir)
    for school_id in list(district.schools):
        session = CaptureSession(district, today=TODAY)
        session.load(school_id)
        before = read_school(session.path(school_id), district.catalogue)[0]
        assert session.check() == [], school_id
        session.save()
        assert read_school(session.path(school_id), district.catalogue)[0] == before, school_id


def test_the_steps_are_folds_with_headings_built_when_first_opened_in_both_languages(form):
    form.school_menu.value = "gs-kleeblatt"
    form.open_button.click()
    steps = form.folds
    assert [f.title for f in steps.values()][0] == "1. Ihre Plattform" and len(steps) == 7
    assert steps["advice"].title == "6. Stellungnahme der/des Datenschutzbeauftragten (Art. 35 Abs. 2 DS-GVO)"
    assert {f.heading.level for f in steps.values()} == {3} and not any(f.opened for f in steps.values())
    assert sorted(form.inputs) == ["assessed_by", "assessed_on", "school.id", "school.kind", "school.name"]
    steps["views"].opened = True
    assert form.inputs["dsfa.views.parents.sought"].description == "Stellungnahme eingeholt?"
    assert not any(key.startswith(("risks.", "dsfa.advice.")) for key in form.inputs)  # only what was opened
    steps["advice"].opened = True
    html = "".join(x.value for x in widgets(form.widget) if hasattr(x, "value") and isinstance(x.value, str))
    assert "Diesen Schritt füllt die oder der Datenschutzbeauftragte aus, nicht die Schule." in html
    assert "Schulelternrat" in html  # the councils as the district names them
    steps["risks"].opened = True
    modules = [f for name, f in form.folds.items() if name.startswith("risks.")]
    assert [f.heading.level for f in modules] == [4] * 7 and not any(f.opened for f in modules)
    form.language_menu.value = "en"
    assert form.folds["platform"].title == "1. Your platform"
    assert [name for name, f in form.folds.items() if f.opened] == ["risks", "views", "advice"]  # still open
    assert form.inputs["dsfa.views.parents.sought"].description == "View sought?"
    assert "<b>State of the DPIA:</b> draft" in form.dsfa_line.value


def widgets(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from widgets(child)


def position_rounded(form: CaptureForm, name: str, number: str) -> tuple[int, int]:
    x, y = position(form, name, number)
    return round(x), round(y)


def test_panel_titles_count_in_german_singular_and_plural(form):
    form.open("gs-kleeblatt")
    unfold_all(form)
    titles = [fold.title for fold in form.folds.values()]
    assert "E-Mail (1 Risiko, 0 offen)" in titles and "Erweiterungen von Drittanbietern (1 Risiko, 1 offen)" in titles
    assert "Benutzerkonten (7 Risiken, 0 offen)" in titles
    assert not [t for t in titles if "(1 Risiken" in t]


def someone_else_saves(district_dir: Path, change) -> bytes:
    path = school_file(district_dir)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path.read_bytes()


def test_a_save_after_someone_else_saved_other_fields_merges_both(form, district_dir):
    choose(form, "gs-kleeblatt")
    form.inputs[f"{IT}.likelihood"].value = 4
    someone_else_saves(district_dir, lambda data: data["risks"]["profiling"].update(reason="Von der Leitung ergänzt."))
    assert form.save() == school_file(district_dir)
    saved = yaml.safe_load(school_file(district_dir).read_text(encoding="utf-8"))["risks"]
    assert saved["identity-theft"]["likelihood"] == 4 and saved["profiling"]["reason"] == "Von der Leitung ergänzt."
    assert form.status.html.startswith("Gespeichert: gs-kleeblatt.yaml – zusammengeführt")
    assert form.inputs["risks.profiling.reason"].value == "Von der Leitung ergänzt."  # shown in the form too
    assert not form.session.dirty and "„Bewertet am“ nennt noch" in form.question.children[0].value  # no conflict


def test_a_field_both_changed_shows_both_values_to_choose_from(form, district_dir):
    choose(form, "gs-kleeblatt")
    form.inputs[f"{IT}.likelihood"].value = 3
    on_disk = someone_else_saves(district_dir, lambda data: data["risks"]["identity-theft"].update(likelihood=1))
    assert form.save() is None and school_file(district_dir).read_bytes() == on_disk  # nothing written yet
    message, keep_mine, take_theirs, cancel = form.question.children
    assert "R2 Identitätsdiebstahl – Wie wahrscheinlich ist das an Ihrer Schule?: Ihr Wert „3“, gespeichert „1“" in message.value
    assert (keep_mine.description, take_theirs.description) == (
        "Meine Werte behalten und speichern", "Gespeicherte Werte übernehmen und speichern")
    keep_mine.click()
    saved = yaml.safe_load(school_file(district_dir).read_text(encoding="utf-8"))["risks"]["identity-theft"]
    assert saved["likelihood"] == 3 and form.inputs[f"{IT}.likelihood"].value == 3 and not form.session.dirty


def test_after_a_save_notes_on_what_is_open_or_overdue_and_an_offer_to_date_it_today(form, district_dir):
    choose(form, "gs-kleeblatt")
    form.buttons[f"{IT}.measures_planned"].click()
    form.inputs[f"{IT}.measures_planned[0].measure"].value = "log-evaluation"
    form.inputs[f"{IT}.measures_planned[0].owner"].value = "Schulleitung"
    form.inputs[f"{IT}.measures_planned[0].due"].value = date(2026, 1, 15)  # before TODAY
    assert form.save() == school_file(district_dir)  # saving stays possible
    assert "Gespeichert: gs-kleeblatt.yaml. Bitte beachten Sie:" in form.status.html
    assert "<li>7 Risiken sind noch nicht bewertet – die DSFA ist erst vollständig" in form.status.html
    assert "R2 Identitätsdiebstahl: die geplante Maßnahme „Protokollauswertung zur Aufklärung" in form.status.html
    assert "war bis 15.01.2026 fällig" in form.status.html
    message, today, keep = form.question.children
    assert message.value == "<b>„Bewertet am“ nennt noch den 22.09.2026. Auf heute (23.11.2026) setzen?</b>"
    assert (today.description, keep.description) == ("Auf heute setzen und speichern", "Nein, so lassen")
    today.click()
    assert read_yaml(school_file(district_dir))[0]["assessed_on"] == TODAY.isoformat() and form.question.children == ()
    form.inputs[f"{IT}.reason"].value += " Ergänzt."
    form.save()
    assert form.question.children == ()  # offered once per school


def test_a_long_text_shows_its_length_near_and_over_the_limit(form):
    choose(form, "gs-kleeblatt")
    reason, note = form.inputs[f"{IT}.reason"], form.errors[f"{IT}.reason"]
    reason.value = "x" * 4600
    assert note.value == "4.600 von höchstens 5.000 Zeichen"
    reason.value = "x" * 5200
    assert note.value == "⚠ 5.200 Zeichen – höchstens 5.000 sind möglich; bitte kürzen Sie den Text."
    assert form.save() is None and "⚠" in form.errors[f"{IT}.reason"].value  # refused, the problem at its field
    reason.value = "Kurz."
    assert note.value == ""


def test_unsaved_work_survives_a_new_page_until_saved_or_discarded(district_dir):
    def page() -> CaptureForm:
        district, problems = read_district(district_dir)
        return CaptureForm(CaptureSession(district, problems, today=TODAY), "de")

    first = page()
    choose(first, "gs-kleeblatt")
    first.inputs[f"{IT}.likelihood"].value = 4
    first.inputs[f"{IT}.reason"].value = "Geteilte Tablets."
    kept = district_dir / ".riskkit" / "unsaved" / "gs-kleeblatt.json"
    assert kept.exists() and (district_dir / ".riskkit").stat().st_mode & 0o077 == 0

    second = page()  # the page was reloaded: a new kernel, a new form
    choose(second, "gs-kleeblatt")
    message, resume, discard = second.question.children
    assert "Für diese Schule gibt es ungespeicherte Änderungen vom" in message.value
    resume.click()
    assert second.inputs[f"{IT}.likelihood"].value == 4 and second.inputs[f"{IT}.reason"].value == "Geteilte Tablets."
    assert second.session.dirty and second.status.html == "Ungespeicherte Änderungen wiederhergestellt – bitte speichern."
    assert second.save() == school_file(district_dir) and not kept.exists()  # saved: nothing kept any more
    assert read_school(school_file(district_dir), second.session.catalogue)[0].risks["identity-theft"].likelihood == 4

    third = page()
    choose(third, "gs-kleeblatt")
    assert third.question.children == ()  # nothing to offer
    third.inputs[f"{IT}.likelihood"].value = 1
    assert kept.exists()
    choose(third, "bbs-musterau")
    third.question.children[1].click()  # discard the changes
    assert not kept.exists()


def test_the_dpo_puts_back_a_kept_version_of_a_broken_school_file(form, district_dir):
    path = school_file(district_dir)
    original = path.read_bytes()
    choose(form, "gs-kleeblatt")
    form.inputs[f"{IT}.reason"].value = "Geteilte Tablets."
    form.save()  # the file before this save is kept in the history
    path.write_text("school: [broken", encoding="utf-8")  # then the file is broken by hand
    district, problems = read_district(district_dir)
    dpo = CaptureForm(CaptureSession(district, problems, today=TODAY), "de")
    repair = dpo.widget.children[1]
    assert "Dateien reparieren" in repair.children[0].value
    menu, restore = repair.children[1].children
    assert len(menu.options) == 1 and menu.options[0][0].endswith(" UTC")
    restore.click()
    assert path.read_bytes() == original and dpo.session.problems == []
    assert "Wiederhergestellt: gs-kleeblatt.yaml" in dpo.status.html
    history = district_dir / "schools" / ".history"
    assert b"school: [broken" in [p.read_bytes() for p in history.iterdir()]  # the broken text is kept too
    assert "gs-kleeblatt" in [v for _, v in dpo.school_menu.options]


def test_a_school_link_shows_no_repair_and_no_other_file(district_dir):
    school_file(district_dir, "gs-am-lindenweg").write_text("school: [broken", encoding="utf-8")
    form = capture_form(district_dir, school="gs-kleeblatt", only=True)
    assert form._repairs() == [] and "gs-am-lindenweg" not in str([c for c in widgets(form.widget)])
