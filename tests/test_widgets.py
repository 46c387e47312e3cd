"""The capture form without a browser: set widget values, assert the draft, the figure, the messages and the YAML."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import papermill
import pytest
import yaml

from riskkit.capture.state import CaptureSession, Draft, FieldProblem, FileStamp, PlannedDraft, SaveConflict, check_draft
from riskkit.model.district import load_district, read_district
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
    form.school_menu.value = "gs-kleeblatt"
    assert form.status.value == "Geladen: gs-kleeblatt.yaml"
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
    form.accordion.selected_index = 0
    reason_input = form.inputs[f"{IT}.reason"]
    form.save_button.click()
    assert form.status.value == "Gespeichert: gs-kleeblatt.yaml"
    assert form.accordion.selected_index == 0 and form.inputs[f"{IT}.reason"] is reason_input  # no rebuild
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
    form.school_menu.value = "gs-kleeblatt"
    original = school_file(district_dir).read_bytes()
    form.inputs[f"{IT}.reason"].value = "   "
    form.accordion.selected_index = 3
    assert form.save() is None
    assert form.errors[f"{IT}.reason"].value == "⚠ Bitte begründen Sie Ihre Einschätzung."
    assert "R2 Identitätsdiebstahl – Begründung Ihrer Einschätzung: Bitte begründen Sie Ihre Einschätzung." in form.status.value
    assert "Nicht gespeichert: 1 Angaben fehlen" in form.status.value
    assert form.accordion.selected_index == 0  # the panel with the problem is opened
    assert school_file(district_dir).read_bytes() == original
    form.inputs[f"{IT}.reason"].value = "Geteilte Tablets."
    assert form.errors[f"{IT}.reason"].value == ""  # an edit clears its field's message


def test_planned_measures_and_override(form, district_dir):
    form.school_menu.value = "gs-kleeblatt"
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

    form.inputs[f"{IT}.override"].value = True
    form.inputs[f"{IT}.override.likelihood"].value = 1
    form.inputs[f"{IT}.override.severity"].value = 2
    assert form.save() is None
    assert form.errors[f"{IT}.override.reason"].value == "⚠ Eine selbst festgelegte Einstufung braucht eine Begründung."
    form.inputs[f"{IT}.override.reason"].value = "Externe Prüfung 2026"
    assert "(selbst festgelegt)" in form._status_lines["identity-theft"].value
    assert form.save() == school_file(district_dir)
    saved_file = yaml.safe_load(school_file(district_dir).read_text(encoding="utf-8"))
    saved = saved_file["risks"]["identity-theft"]
    assert saved["measures_planned"] == [{"measure": "two-factor-auth", "owner": "Frau Brandstätter", "due": "2027-03-01"}]
    # the controller's residual values are part of its decision (issue 13)
    assert saved_file["dsfa"]["decision"]["residual"]["identity-theft"] == {
        "likelihood": 1, "severity": 2, "reason": "Externe Prüfung 2026"}


def test_removing_a_planned_measure_renumbers_the_rows(form):
    form.school_menu.value = "gs-kleeblatt"
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


def test_save_refuses_when_the_file_changed_on_disk_and_offers_reload(form, district_dir):
    form.school_menu.value = "gs-kleeblatt"
    form.inputs[f"{IT}.likelihood"].value = 3
    # the first "likelihood: 2" in the file is identity-theft's
    theirs = school_file(district_dir).read_text(encoding="utf-8").replace("likelihood: 2", "likelihood: 1", 1)
    school_file(district_dir).write_text(theirs, encoding="utf-8")  # someone else saved meanwhile
    assert form.save() is None
    assert school_file(district_dir).read_text(encoding="utf-8") == theirs
    question, reload_button, cancel = form.question.children
    assert "Die Datei gs-kleeblatt.yaml wurde geändert, seit Sie sie geladen haben" in question.value
    assert (reload_button.description, cancel.description) == ("Neu laden und meine Änderungen verwerfen", "Abbrechen")
    reload_button.click()
    assert form.question.children == ()
    assert form.inputs[f"{IT}.likelihood"].value == 1  # theirs; the own unsaved 3 is discarded
    assert form.status.value == "Geladen: gs-kleeblatt.yaml"
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
    form.school_menu.value = "gs-kleeblatt"
    form.inputs[f"{IT}.likelihood"].value = 4
    form.school_menu.value = "bbs-musterau"
    assert form.session.school_id == "gs-kleeblatt" and form.school_menu.value == "gs-kleeblatt"
    question, discard, cancel = form.question.children
    assert "Es gibt ungespeicherte Änderungen" in question.value
    cancel.click()
    assert form.session.draft.risks["identity-theft"].likelihood == 4 and form.question.children == ()
    form.school_menu.value = "bbs-musterau"
    form.question.children[1].click()
    assert form.session.school_id == "bbs-musterau" and form.school_menu.value == "bbs-musterau"
    assert form.status.value == "Geladen: bbs-musterau.yaml"


def test_reload_rereads_the_file(form, district_dir):
    form.school_menu.value = "gs-kleeblatt"
    text = school_file(district_dir).read_text(encoding="utf-8")
    school_file(district_dir).write_text(text.replace("likelihood: 2", "likelihood: 3", 1), encoding="utf-8")
    form.reload_button.click()
    assert form.inputs[f"{IT}.likelihood"].value == 3
    assert "Keine ungespeicherten Änderungen" in form.dirty_marker.value


def test_new_school(form, district_dir):
    form.school_menu.value = NEW
    assert form.status.value == "Neue Schule: Bitte zuerst die Angaben zur Schule ausfüllen."
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
    assert form.status.value == "Gespeichert: gs-neustadt.yaml"
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
    form.school_menu.value = "gs-kleeblatt"
    assert form.figure.to_figure().layout.showlegend is False
    fills = [t for t in form.figure.to_figure().data if t.fill == "toself"]
    assert [t.fillcolor for t in fills] == list(LEVEL_FILL.values())
    corners = [(x, y) for t in fills for x, y in zip(t.x, t.y) if x is not None]
    assert len(corners) == 16 * 5 and len(set(corners)) == 25  # 16 closed squares on a 5 x 5 grid of corners
    side = next(box for box in form.widget.children[-1].children if form.summary in box.children)
    legend = next(c.value for c in side.children if "rk-legend" in getattr(c, "value", ""))
    for text in ["Ausgangsrisiko (vor Maßnahmen)", "Restrisiko (nach Maßnahmen)",
                 "Risiko ohne Änderung durch Maßnahmen", "Wirkung der Maßnahmen"]:
        assert f"</svg> {text}</li>" in legend
    assert legend.count("aria-hidden='true'") == 4


def test_language_switch_keeps_the_draft(form):
    form.school_menu.value = "gs-kleeblatt"
    form.inputs[f"{IT}.likelihood"].value = 4
    form.accordion.selected_index = 2
    form.language_menu.value = "en"
    assert form.accordion.selected_index == 2
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
