"""The honest method and the DSFA's parts in the model: no double counting, partial measures, school-specific
severity, not-applicable risks, migration of old files, threshold analysis, decision rules and the derived status."""

import shutil
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError as PydanticValidationError

from riskkit import load_catalogue, load_district
from riskkit.model.assessment import SchoolAssessment, read_school, read_school_file
from riskkit.model.catalogue import Catalogue, double_counting_problems
from riskkit.model.district import DistrictConfig
from riskkit.model.status import dsfa_status, threshold

from conftest import REPO, files_of, run_cli

OLD_FILE = REPO / "tests" / "fixtures" / "catalogue-1.0.0" / "gym-am-schlosspark.yaml"  # as assessed in 2026-05


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


CONFIG = DistrictConfig.model_validate({"name": "Testkreis", "dpo": {"name": "DSB"}})


def school(platform=None, dsfa=None, **risks):
    return SchoolAssessment.model_validate({
        "school": {"id": "gs-test", "name": "Grundschule Test", "kind": "primary"},
        "assessed_on": "2026-05-04", "assessed_by": "Frau Test", "catalogue_version": "1.1.0",
        **({"platform": platform} if platform is not None else {}),
        "risks": risks,
        **({"dsfa": dsfa} if dsfa else {}),
    })


def result(cat, assessment, risk_id):
    return next(r for r in assessment.evaluate(cat) if r.risk.id == risk_id)


def entry(**values):
    return {"likelihood": 3, "reason": "Erfahrungswert", **values}


# --- no double counting -----------------------------------------------------------------------------------------

def test_the_shipped_catalogue_counts_no_measure_twice(cat):
    assert double_counting_problems(cat, "shipped") == []


def test_a_severity_reason_naming_a_measure_that_lowers_the_risk_fails_the_catalogue_check(cat):
    data = cat.model_dump(by_alias=True)
    risk = next(r for r in data["risks"] if r["id"] == "data-loss")
    risk["severity_reason"]["de"] += " Verlorenes lässt sich meist aus der Sicherung holen."
    [problem] = double_counting_problems(Catalogue.model_validate(data), "katalog.yaml")
    index = [r["id"] for r in data["risks"]].index("data-loss")
    assert problem.path == f"risks[{index}].severity_reason.de"
    assert problem.value == "Sicherung"
    assert "daily-backup" in problem.message and "counts twice" in problem.message


# --- partial measures -------------------------------------------------------------------------------------------

def test_a_partial_measure_counts_for_what_the_catalogue_says(cat):
    full = result(cat, school(**{"messenger-bullying": entry(measures_in_place=["class-teacher-reporting"])}),
                  "messenger-bullying")
    part = result(cat, school(**{"messenger-bullying": entry(
        measures_in_place=[{"measure": "class-teacher-reporting", "partial": "nur Meldeweg, keine Klassenleitung"}])}),
        "messenger-bullying")
    severity = cat.risk("messenger-bullying").severity
    assert (full.residual_likelihood, full.residual_severity) == (2, severity - 1)  # effect: -1 / -1
    assert (part.residual_likelihood, part.residual_severity) == (3, severity - 1)  # partial: 0 / -1


def test_a_partial_measure_counts_for_nothing_by_default(cat):
    assert cat.measure("two-factor-auth").effect_on("identity-theft").partial.likelihood == 0
    part = result(cat, school(**{"identity-theft": entry(
        measures_in_place=[{"measure": "two-factor-auth", "partial": "nur Lehrkräfte"}])}), "identity-theft")
    none = result(cat, school(**{"identity-theft": entry()}), "identity-theft")
    assert (part.residual_likelihood, part.residual_severity) == (none.residual_likelihood, none.residual_severity)
    assert part.entry.in_place() == [("two-factor-auth", "nur Lehrkräfte")]


def test_a_partial_measure_needs_its_scope(tmp_path, cat):
    data = school(**{"identity-theft": entry()}).model_dump(mode="json")
    data["risks"]["identity-theft"]["measures_in_place"] = [{"measure": "two-factor-auth"}]
    path = tmp_path / "gs-test.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    _, problems = read_school(path, cat)
    [problem] = problems
    assert problem.path == "risks.identity-theft.measures_in_place[0]"
    assert "partial" in problem.message


# --- school-specific severity -----------------------------------------------------------------------------------

def test_a_school_raises_a_severity_with_a_reason(cat):
    raised = {"level": 4, "reason": "Im Klassenordner liegen Förderpläne."}
    r = result(cat, school(**{"identity-theft": entry(likelihood=2, severity=raised)}), "identity-theft")
    assert cat.risk("identity-theft").severity == 3
    assert (r.severity, r.severity_source, r.severity_reason) == (4, "school", raised["reason"])
    assert r.inherent_level == "high"  # 2 + 4 = 6
    with pytest.raises(PydanticValidationError, match=r"risks\.identity-theft\.severity\.reason\n\s+Field required"):
        school(**{"identity-theft": entry(severity={"level": 4})})


def test_a_school_cannot_lower_a_severity_by_raising_it(tmp_path, cat):
    data = school(**{"identity-theft": entry(severity={"level": 2, "reason": "kleiner"})}).model_dump(mode="json")
    path = tmp_path / "gs-test.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    _, [problem] = read_school(path, cat)
    assert (problem.path, problem.value) == ("risks.identity-theft.severity.level", 2)
    assert "only raise" in problem.message and "dsfa.decision.residual" in problem.message


def test_declared_extra_data_raise_severity_by_the_catalogues_rules(cat):
    platform = {"modules": {"accounts": {}, "administration": {}, "files": {}}, "extra_data": ["health"]}
    r = result(cat, school(platform, **{"files-overshared": entry(likelihood=1)}), "files-overshared")
    assert cat.risk("files-overshared").severity < 4
    assert (r.severity, r.severity_source, r.severity_reason) == (4, "data", "health")
    plain = result(cat, school(**{"files-overshared": entry(likelihood=1)}), "files-overshared")
    assert plain.severity == cat.risk("files-overshared").severity


# --- modules in use and not-applicable risks ---------------------------------------------------------------------

PRIMARY = {"hosting": "own-server", "modules": {"accounts": {"legal_basis": "school-law"},
                                                "administration": {"legal_basis": "school-law"},
                                                "files": {"legal_basis": "school-law"}}}


def test_risks_of_switched_off_modules_are_not_applicable_never_scored_never_open(cat):
    # an entry left over from before the module was switched off is not scored either
    results = school(PRIMARY, **{"messenger-bullying": entry(likelihood=4)}).evaluate(cat)
    messenger = next(r for r in results if r.risk.id == "messenger-bullying")
    assert not messenger.applicable and not messenger.open and not messenger.assessed
    assert messenger.inherent_level is None and messenger.residual_level is None and not messenger.prior_consultation
    not_applicable = {r.risk.id for r in results if not r.applicable}
    assert not_applicable == {r.id for r in cat.risks if not {"accounts", "administration", "files"} & set(r.modules)}
    assert {"vc-recording", "vc-counselling-exposure", "messenger-bullying"} <= not_applicable
    assert all(r.open for r in results if r.applicable)  # nothing assessed: every applicable risk is open


def test_a_risk_touching_a_module_still_in_use_stays_applicable(cat):
    r = result(cat, school(PRIMARY, **{"identity-theft": entry()}), "identity-theft")
    assert {"accounts", "messenger"} <= set(r.risk.modules)
    assert r.applicable and r.residual_level is not None


def test_without_a_platform_block_every_module_counts_as_in_use(cat):
    assert all(r.applicable for r in school().evaluate(cat))


@pytest.mark.parametrize(
    "platform,path,value,message",
    [
        ({"modules": {"accounts": {}, "administration": {}, "telepathy": {}}}, "platform.modules.telepathy",
         "telepathy", "unknown module; allowed: accounts, mail, messenger"),
        ({"modules": {"accounts": {}}}, "platform.modules.administration", "(switched off)",
         "mandatory module cannot be switched off"),
        ({"modules": {"accounts": {}, "administration": {}, "video-conference": {"legal_basis": "vibes"}}},
         "platform.modules.video-conference.legal_basis", "vibes", "legal basis not offered for this module"),
        ({"modules": {"accounts": {}, "administration": {}}, "extra_data": ["horoscope"]},
         "platform.extra_data[0]", "horoscope", "unknown data category; allowed: health"),
        ({"modules": {"accounts": {}, "administration": {}}, "hosting": "attic"}, "platform.hosting", "attic",
         "'own-server' or 'cloud'"),
    ],
)
def test_bad_platform_blocks_are_located(tmp_path, cat, platform, path, value, message):
    data = school().model_dump(mode="json")
    data["platform"] = platform
    file = tmp_path / "gs-test.yaml"
    file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assessment, problems = read_school(file, cat)
    assert assessment is None
    [problem] = [p for p in problems if p.path == path]
    assert problem.value == value and message in problem.message


# --- migration of files assessed against 1.0.0 --------------------------------------------------------------------

def test_a_1_0_0_file_loads_against_1_1_0_and_keeps_every_answer(cat):
    old = yaml.safe_load(OLD_FILE.read_text(encoding="utf-8"))
    assessment, problems, migrated = read_school_file(OLD_FILE, cat)
    assert problems == [] and migrated.from_version == "1.0.0"
    assert assessment.catalogue_version == "1.1.0"
    for risk_id, old_entry in old["risks"].items():
        new = assessment.risks[risk_id]
        assert (new.likelihood, new.reason) == (old_entry["likelihood"], old_entry["reason"])
        kept = set(new.measure_ids)
        dropped = {c.values["measure"] for c in migrated.changes if c.key == "measure_dropped"
                   and c.values["risk"] == risk_id}
        assert kept | dropped == set(old_entry.get("measures_in_place", [])), risk_id
        assert all(cat.measure(m).effect_on(risk_id) for m in kept)
        assert [p.measure for p in new.measures_planned] == [p["measure"] for p in old_entry.get("measures_planned", [])]
    override = old["risks"]["vc-recording"]["override"]
    assert assessment.dsfa.decision.residual["vc-recording"].model_dump() == override
    assert ("override_moved", {"risk": "vc-recording"}) in [(c.key, c.values) for c in migrated.changes]


def test_risks_new_since_the_version_a_school_assessed_are_open_and_marked_new(cat, tmp_path):
    district_dir = tmp_path / "d"
    (district_dir / "schools").mkdir(parents=True)
    (district_dir / "district.yaml").write_text("name: Testkreis\ndpo: {name: DSB}\n", encoding="utf-8")
    shutil.copy(OLD_FILE, district_dir / "schools" / "gym-am-schlosspark.yaml")
    district = load_district(district_dir)
    results = district.evaluate("gym-am-schlosspark")
    new = {r.risk.id for r in results if r.new}
    assert new == {r.id for r in cat.risks if r.since == "1.1.0"} and new
    assert all(r.open for r in results if r.new)
    assert not any(r.new for r in results if r.risk.since is None)


def test_riskkit_migrate_lists_changes_writes_atomically_and_keeps_the_previous_file(tmp_path):
    district_dir = tmp_path / "d"
    (district_dir / "schools").mkdir(parents=True)
    (district_dir / "district.yaml").write_text("name: Testkreis\ndpo: {name: DSB}\n", encoding="utf-8")
    target = district_dir / "schools" / "gym-am-schlosspark.yaml"
    shutil.copy(OLD_FILE, target)
    before = files_of(district_dir)
    dry = run_cli("migrate", district_dir, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "würde migriert: gym-am-schlosspark" in dry.output and "Katalogversion 1.0.0 → 1.1.0" in dry.output
    assert files_of(district_dir) == before
    done = run_cli("migrate", district_dir)
    assert done.exit_code == 0, done.output
    assert "migriert: gym-am-schlosspark" in done.output
    [previous] = (district_dir / "schools" / ".history").iterdir()
    assert previous.read_bytes() == OLD_FILE.read_bytes()
    migrated = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert migrated["catalogue_version"] == "1.1.0" and "override" not in migrated["risks"]["vc-recording"]
    assert run_cli("migrate", district_dir).output.strip() == "Alle Schuldateien entsprechen der aktuellen Katalogversion."


# --- threshold analysis, decision rules and status ---------------------------------------------------------------

def test_unknown_never_counts_as_no_in_the_threshold_analysis(cat):
    answers = {c.id: {"answer": "no"} for c in cat.threshold_criteria}
    config = CONFIG.model_copy(update={"threshold": {}})
    assessment = school(dsfa={"threshold": answers})
    assert threshold(cat, config, assessment).required is False
    answers["large-scale"] = {"answer": "unknown"}
    assert threshold(cat, config, school(dsfa={"threshold": answers})).required is None
    answers["vulnerable-subjects"] = {"answer": "yes"}
    assert threshold(cat, config, school(dsfa={"threshold": answers})).required is None  # one criterion is not two
    answers["sensitive-data"] = {"answer": "yes", "reason": "Förderpläne"}
    analysis = threshold(cat, config, school(dsfa={"threshold": answers}))
    assert analysis.required is True and {a.criterion.id for a in analysis.yes} == {"vulnerable-subjects",
                                                                                     "sensitive-data"}


def test_one_yes_on_the_authorities_list_requires_a_dsfa(cat):
    listed = next(c.id for c in cat.threshold_criteria if c.kind == "list")
    answers = {c.id: {"answer": "no"} for c in cat.threshold_criteria} | {listed: {"answer": "yes"}}
    assert threshold(cat, CONFIG, school(dsfa={"threshold": answers})).required is True


@pytest.mark.parametrize(
    "dsfa,message",
    [
        ({"decision": {"outcome": "released", "by": "Schulleitung"}}, "a decision needs who decided"),
        ({"decision": {"outcome": "conditions", "by": "Schulleitung", "on": "2026-06-01"}}, "needs the conditions"),
        ({"advice": {"by": "DSB", "on": "2026-06-01", "opinion": "unfavourable"}}, "needs its text"),
        ({"views": {"parents": {"sought": True, "on": "2026-06-01"}}}, "what was said"),
        ({"views": {"parents": {"sought": False}}}, "the reason why"),
        ({"decision": {"accepted": {"identity-theft": " "}}}, "at least 1 character"),
    ],
)
def test_incomplete_advice_views_and_decisions_are_refused(dsfa, message):
    with pytest.raises(PydanticValidationError, match=message):
        school(dsfa=dsfa)


def _complete_dsfa(cat, results):
    return {
        "threshold": {c.id: {"answer": "yes"} for c in cat.threshold_criteria},
        "answers": {q.id: {"status": "met", "text": "geprüft"} for q in cat.questions},
        "views": {"parents": {"sought": True, "on": "2026-06-01", "summary": "einverstanden"},
                  "pupils": {"sought": True, "on": "2026-06-02", "summary": "einverstanden"},
                  "staff": {"sought": False, "reason": "Personalrat hat verzichtet"}},
    }


def test_the_status_steps_from_draft_to_decided_with_what_blocks_each(cat):
    risks = {r.id: entry(likelihood=1) for r in cat.risks}
    draft = school(**{"identity-theft": entry()})
    status = dsfa_status(cat, CONFIG, draft, draft.evaluate(cat))
    assert status.step == "draft"
    assert status.blockers_text("de") == (f"Plattform nicht beschrieben; {len(cat.risks) - 1} Risiken nicht bewertet;"
                                          f" {len(cat.questions)} Fragen unbeantwortet;"
                                          " 3 Stellungnahmen der Vertretungen fehlen")
    dsfa = _complete_dsfa(cat, None)
    complete = school({"modules": {m.id: {} for m in cat.modules}}, dsfa, **risks)
    results = complete.evaluate(cat)
    status = dsfa_status(cat, CONFIG, complete, results)
    assert (status.step, status.blockers_text("en")) == ("complete", "DPO opinion missing")
    dsfa["advice"] = {"by": "DSB", "on": "2026-06-05", "opinion": "favourable"}
    advised = school({"modules": {m.id: {} for m in cat.modules}}, dsfa, **risks)
    status = dsfa_status(cat, CONFIG, advised, advised.evaluate(cat))
    medium = [r.risk.id for r in advised.evaluate(cat) if r.residual_level in ("medium", "high")]
    assert status.step == "advised" and status.blockers[0].key == "decision"
    dsfa["decision"] = {"by": "Schulleitung", "on": "2026-06-10", "outcome": "released",
                        "accepted": {risk_id: "vertretbar" for risk_id in medium[1:]}}
    decided = school({"modules": {m.id: {} for m in cat.modules}}, dsfa, **risks)
    status = dsfa_status(cat, CONFIG, decided, decided.evaluate(cat))
    if medium:
        assert (status.step, status.blockers_text("de")) == ("advised",
                                                            "1 verbleibendes Risiko nicht begründet akzeptiert")
        dsfa["decision"]["accepted"][medium[0]] = "vertretbar"
        decided = school({"modules": {m.id: {} for m in cat.modules}}, dsfa, **risks)
        status = dsfa_status(cat, CONFIG, decided, decided.evaluate(cat))
    assert (status.step, status.blockers) == ("decided", ())


def test_a_district_names_its_councils_and_school_kinds(cat):
    config = DistrictConfig.model_validate({
        "name": "Testkreis", "dpo": {"name": "DSB"},
        "councils": [{"id": "parents", "title": {"de": "Schulelternrat", "en": "school parents' council"}}],
        "school_kinds": {"vocational": {"de": "Berufsbildende Schule", "en": "vocational school"}},
    })
    assert [c.title["de"] for c in config.council_list()] == ["Schulelternrat"]
    assert [c.title["de"] for c in CONFIG.council_list()] == ["Elternvertretung", "Schülervertretung",
                                                              "Personalvertretung"]
    assert config.kind_name("vocational", "de") == "Berufsbildende Schule"
    assert CONFIG.kind_name("vocational", "de") == "berufsbildende Schule"
