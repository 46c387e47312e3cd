import os
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError as PydanticValidationError

from riskkit import load_catalogue
from riskkit.model.assessment import SchoolAssessment, load_school, read_school, save_school
from riskkit.model.locks import lock_path
from riskkit.model.errors import MISSING, ValidationError

from conftest import SAMPLE


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


def school(dsfa=None, **risks):
    return SchoolAssessment.model_validate({
        "school": {"id": "gs-test", "name": "Grundschule Test", "kind": "primary"},
        "assessed_on": "2026-05-04",
        "assessed_by": "Frau Test",
        "risks": risks,
        **({"dsfa": dsfa} if dsfa else {}),
    })


def result(cat, risk_id, dsfa=None, **entry):
    entry = {"likelihood": 3, "reason": "Erfahrungswert", **entry}
    return next(r for r in school(dsfa, **{risk_id: entry}).evaluate(cat) if r.risk.id == risk_id)


def test_inherent_risk_is_likelihood_times_catalogue_severity(cat):
    r = result(cat, "identity-theft", likelihood=2)  # severity 3
    assert (r.likelihood, r.severity, r.inherent_level) == (2, 3, "medium")
    assert (r.residual_likelihood, r.residual_severity, r.residual_level) == (2, 3, "medium")


def test_measures_in_place_lower_the_residual_risk(cat):
    r = result(cat, "identity-theft", measures_in_place=["two-factor-auth", "log-evaluation"])
    assert r.inherent_level == "high"  # 3 x 3
    assert (r.residual_likelihood, r.residual_severity, r.residual_level) == (2, 2, "low")
    assert not r.prior_consultation


def test_reductions_are_capped_at_two_levels(cat):
    three_likelihood_measures = ["usage-rules", "admin-obligation", "two-factor-auth"]
    r = result(cat, "identity-theft", likelihood=4, measures_in_place=three_likelihood_measures)
    assert (r.residual_likelihood, r.residual_severity) == (2, 3)


def test_residual_never_drops_below_level_one(cat):
    r = result(cat, "identity-theft", likelihood=1, measures_in_place=["usage-rules", "two-factor-auth"])
    assert r.residual_likelihood == 1


def test_the_controllers_residual_values_replace_the_computed_ones_and_need_a_reason(cat):
    residual = {"vc-recording": {"likelihood": 1, "severity": 3, "reason": "Kameras standardmäßig aus"}}
    r = result(cat, "vc-recording", {"decision": {"residual": residual}}, likelihood=2)
    assert r.overridden
    assert (r.residual_likelihood, r.residual_severity, r.residual_level) == (1, 3, "low")
    with pytest.raises(PydanticValidationError,
                       match=r"dsfa\.decision\.residual\.vc-recording\.reason\n\s+Field required"):
        school({"decision": {"residual": {"vc-recording": {"likelihood": 1, "severity": 3}}}},
               **{"vc-recording": {"likelihood": 2, "reason": "x"}})


def test_a_high_residual_risk_means_prior_consultation(cat):
    r = result(cat, "vc-recording", likelihood=3, measures_in_place=["vc-recording-ban"])  # severity 4
    assert (r.residual_likelihood, r.residual_severity, r.residual_level) == (2, 4, "high")
    assert r.prior_consultation


def test_unassessed_risks_stay_open(cat):
    results = school(**{"profiling": {"likelihood": 1, "reason": "kaum"}}).evaluate(cat)
    assert len(results) == len(cat.risks)
    open_ = [r for r in results if not r.assessed]
    assert len(open_) == len(cat.risks) - 1
    assert all(r.inherent_level is None and r.residual_level is None and not r.prior_consultation for r in open_)


def write(folder: Path, name: str, data) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def base(**risk):
    return {
        "school": {"id": "gs-test", "name": "Grundschule Test", "kind": "primary"},
        "assessed_on": "2026-05-04",
        "assessed_by": "Frau Test",
        "risks": {"identity-theft": {"likelihood": 2, "reason": "selten", **risk}},
    }


@pytest.mark.parametrize(
    "data,path,value,message",
    [
        ({**base(), "risks": {"alien-risk": {"likelihood": 2, "reason": "x"}}}, "risks.alien-risk", "alien-risk",
         "unknown risk id; allowed: discrimination-exposure, identity-theft"),
        (base(measures_in_place=["magic"]), "risks.identity-theft.measures_in_place[0]", "magic",
         "unknown measure id; allowed for this risk: usage-rules, admin-obligation"),
        (base(measures_in_place=["daily-backup"]), "risks.identity-theft.measures_in_place[0]", "daily-backup",
         "measure does not lower this risk; allowed for this risk:"),
        (base(measures_in_place=["usage-rules", "usage-rules"]), "risks.identity-theft.measures_in_place",
         "usage-rules", "measure listed more than once"),
        (base(likelihood=5), "risks.identity-theft.likelihood", 5, "less than or equal to 4"),
        (base(likelihood=0), "risks.identity-theft.likelihood", 0, "greater than or equal to 1"),
        (base(likelihood="3"), "risks.identity-theft.likelihood", "3", "valid integer"),
        (base(likelihood=2.5), "risks.identity-theft.likelihood", 2.5, "valid integer"),
        (base(reason="   "), "risks.identity-theft.reason", "   ", "at least 1 character"),
        ({**base(), "risks": {"identity-theft": {"likelihood": 2}}}, "risks.identity-theft.reason", MISSING,
         "required key is missing"),
        ({**base(), "assessed_on": "2026-13-01"}, "assessed_on", "2026-13-01", "month value is outside"),
        ({**base(), "assessed_on": "12.03.2026"}, "assessed_on", "12.03.2026", "must be a date written YYYY-MM-DD"),
        (base(measures_planned=[{"measure": "two-factor-auth", "due": "2027-01-01"}]),
         "risks.identity-theft.measures_planned[0].owner", MISSING, "required key is missing"),
        (base(measures_in_place=["two-factor-auth"],
              measures_planned=[{"measure": "two-factor-auth", "owner": "Admin", "due": "2027-01-01"}]),
         "risks.identity-theft.measures_planned[0].measure", "two-factor-auth", "already in place"),
        ({**base(), "dsfa": {"decision": {"residual": {"identity-theft": {"likelihood": 1, "severity": 9,
                                                                          "reason": "x"}}}}},
         "dsfa.decision.residual.identity-theft.severity", 9, "less than or equal to 4"),
        (base(likelyhood=2), "risks.identity-theft.likelyhood", 2, "unknown key"),
        ({**base(), "school": {"id": "gs-test", "name": "X", "kind": "university"}}, "school.kind", "university",
         "'primary', 'secondary', 'grammar', 'comprehensive', 'special-needs', 'vocational' or 'other'"),
    ],
)
def test_each_validation_error_names_file_key_and_value(tmp_path, cat, data, path, value, message):
    file = write(tmp_path, "gs-test", data)
    assessment, problems = read_school(file, cat)
    assert assessment is None
    [problem] = [p for p in problems if p.path == path]
    assert (problem.file, problem.value) == (str(file), value)
    assert message in problem.message
    text = str(ValidationError(problems))
    assert str(file) in text and path in text


@pytest.mark.parametrize("bad_id", ["../evil", "a/b", "con", "Schule A", "..", "gs-test-", "ä-schule", ""])
def test_unsafe_school_ids_are_rejected(tmp_path, cat, bad_id):
    data = base()
    data["school"]["id"] = bad_id
    _, problems = read_school(write(tmp_path, "gs-test", data), cat)
    [problem] = [p for p in problems if p.path == "school.id"]
    assert problem.value == bad_id
    assert problem.message.startswith("school id must")


def test_the_school_id_must_match_the_file_name(tmp_path, cat):
    _, problems = read_school(write(tmp_path, "other-name", base()), cat)
    assert [(p.path, p.value, p.message) for p in problems] == [
        ("school.id", "gs-test", "must equal the file name 'other-name'")
    ]


def test_yaml_syntax_errors_name_the_line(tmp_path, cat):
    _, problems = read_school(write(tmp_path, "gs-test", "school:\n  id: [unclosed\nassessed_on: x\n"), cat)
    assert problems[0].path.startswith("line 3")
    assert "not valid YAML" in problems[0].message


def test_duplicate_keys_are_an_error(tmp_path, cat):
    text = yaml.safe_dump(base(), allow_unicode=True) + "assessed_by: Zweiter Eintrag\n"
    _, problems = read_school(write(tmp_path, "gs-test", text), cat)
    assert "duplicate key 'assessed_by'" in problems[0].message


def test_files_that_are_not_utf8_are_named(tmp_path, cat):
    file = tmp_path / "gs-test.yaml"
    file.write_bytes(yaml.safe_dump(base(), allow_unicode=True).replace("Frau Test", "Frau Müller").encode("cp1252"))
    _, [problem] = read_school(file, cat)
    assert problem.message == "file must be UTF-8 text"
    assert problem.value == b"\xfc"


def test_load_save_round_trip(tmp_path, cat):
    for source in sorted((SAMPLE / "schools").glob("*.yaml")):
        original = load_school(source, cat)
        saved = save_school(original, tmp_path, cat)
        assert saved == tmp_path / source.name
        assert load_school(saved, cat) == original
        text = saved.read_text(encoding="utf-8")
        assert save_school(load_school(saved, cat), tmp_path, cat).read_text(encoding="utf-8") == text


def test_a_save_that_fails_midway_leaves_the_old_file_intact(tmp_path, cat, monkeypatch):
    original = load_school(SAMPLE / "schools" / "gs-am-lindenweg.yaml", cat)
    path = save_school(original, tmp_path, cat)
    before = path.read_bytes()
    changed = original.model_copy(deep=True)
    changed.assessed_by = "Jemand anderes"

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        save_school(changed, tmp_path, cat)
    assert path.read_bytes() == before
    files = sorted(p.name for p in tmp_path.iterdir() if p.name != lock_path(tmp_path, path.stem).name)
    assert files == [path.name]  # no temp file left behind (the school's lock sidecar stays, by design)


def test_an_invalid_assessment_is_not_saved(tmp_path, cat):
    original = load_school(SAMPLE / "schools" / "gs-am-lindenweg.yaml", cat)
    path = save_school(original, tmp_path, cat)
    before = path.read_bytes()
    broken = original.model_copy(deep=True)
    broken.risks["identity-theft"].measures_in_place = ["daily-backup"]
    with pytest.raises(ValidationError, match="measure does not lower this risk"):
        save_school(broken, tmp_path, cat)
    assert path.read_bytes() == before


def test_assignments_are_validated():
    a = school()
    with pytest.raises(PydanticValidationError, match="greater than or equal to 1"):
        a.risks = {"profiling": {"likelihood": 0, "reason": "x"}}


def test_type_errors_and_unknown_ids_are_reported_together(tmp_path, cat):
    data = base(likelihood=9, measures_in_place=["warp-drive", {"odd": 1}])
    _, problems = read_school(write(tmp_path, "gs-test", data), cat)
    paths = [p.path for p in problems]
    assert "risks.identity-theft.likelihood" in paths
    assert "risks.identity-theft.measures_in_place[0]" in paths  # unknown id, found despite the type errors
    assert "risks.identity-theft.measures_in_place[1]" in paths


@pytest.mark.parametrize("text", ["0\x850", "Zeile\neins", "a\u2028b", "  Leerzeichen ", "=SUMME(A1)", "<script>x</script>"])
def test_free_text_survives_save_and_load(tmp_path, cat, text):
    data = base(reason=text)
    data["risks"]["identity-theft"]["reason"] = text
    original = SchoolAssessment.model_validate(data)
    saved = save_school(original, tmp_path, cat)
    assert load_school(saved, cat).risks["identity-theft"].reason == original.risks["identity-theft"].reason
