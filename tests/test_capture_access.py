"""Per-school links of `riskkit capture` without a server: the key, the tokens, who they name, the links file, the
prelaunch hook and the form of one school."""

from __future__ import annotations

import csv
from types import SimpleNamespace

import nbformat
import pytest

from riskkit.capture import access
from riskkit.capture.form import NEW, CaptureForm, capture_form
from riskkit.notebooks import CAPTURE, notebook_path


def test_key_tokens_and_who_they_name(district_dir):
    key = access.key(district_dir)
    assert key.stat().st_mode & 0o777 == 0o600 and (key.parent / ".gitignore").read_text() == "*\n"
    dpo, school = access.token(key, access.DISTRICT), access.token(key, "school:gs-kleeblatt")
    assert len(dpo) == len(school) == 32 and dpo != school
    assert access.key(district_dir) == key and access.token(key, access.DISTRICT) == dpo  # the same over restarts
    assert access.identify(key, district_dir, dpo) == access.DISTRICT
    assert access.identify(key, district_dir, school) == "school:gs-kleeblatt"
    assert access.identify(key, district_dir, school[:-1] + "x") is None
    access.key(district_dir, new=True)  # new links: the old ones name nobody
    assert access.identify(key, district_dir, school) is None and access.identify(key, district_dir, dpo) is None


def test_links_file(district_dir, tmp_path):
    key = access.key(district_dir)
    path = tmp_path / "links.csv"
    assert access.write_links(path, key, district_dir, {"gs-kleeblatt": "GS Kleeblatt"}, "http://127.0.0.1:1") == 12
    assert path.stat().st_mode & 0o777 == 0o600 and path.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig"), delimiter=";"))
    row = next(r for r in rows if r["school_id"] == "gs-kleeblatt")
    assert row["name"] == "GS Kleeblatt"
    assert row["link"] == f"http://127.0.0.1:1/?token={access.token(key, 'school:gs-kleeblatt')}"


def test_prelaunch_sets_the_school_of_the_link(monkeypatch, district_dir):
    monkeypatch.setenv("RISKKIT_DISTRICT", str(district_dir))
    notebook = nbformat.read(notebook_path(CAPTURE), as_version=4)
    school = access.prelaunch(SimpleNamespace(current_user=SimpleNamespace(username="school:gs-kleeblatt")),
                              notebook, ".")
    namespace: dict = {}
    exec(school.cells[1].source, namespace)  # the parameters cell as the kernel runs it
    assert namespace["school"] == "gs-kleeblatt" and namespace["only_school"] is True
    assert school.metadata["title"] == "Risiken der Schulplattform erfassen"
    district = access.prelaunch(SimpleNamespace(current_user=SimpleNamespace(username="district")),
                                nbformat.read(notebook_path(CAPTURE), as_version=4), ".")
    namespace = {}
    exec(district.cells[1].source, namespace)
    assert namespace["school"] is None and namespace["only_school"] is False
    with pytest.raises(PermissionError):
        access.prelaunch(SimpleNamespace(current_user=SimpleNamespace(username="Anonymous Io")), notebook, ".")


def test_the_form_of_one_school_shows_nothing_of_the_others(district_dir):
    (district_dir / "schools" / "gs-am-lindenweg.yaml").write_text("school: [broken", encoding="utf-8")
    form = capture_form(district_dir, school="gs-kleeblatt", only=True)
    assert isinstance(form, CaptureForm)
    assert list(form.session.district.schools) == ["gs-kleeblatt"] and form.session.problems == []
    assert [v for _, v in form.school_menu.options] == ["gs-kleeblatt"]
    assert form.school_menu.layout.display == "none" and form.open_button.layout.display == "none"
    assert "lindenweg" not in form.widget.children[0].value


def test_a_school_without_a_file_starts_it_under_its_own_id(district_dir):
    (district_dir / "schools" / "gs-kleeblatt.yaml").unlink()
    form = capture_form(district_dir, school="gs-kleeblatt", only=True)
    assert form.session.is_new and [v for _, v in form.school_menu.options] == [NEW]
    assert form.inputs["school.id"].value == "gs-kleeblatt" and form.inputs["school.id"].disabled
