import shutil
from importlib import resources

import pandas as pd
import pytest
import yaml

import riskkit
from riskkit.model.errors import RiskkitError, UnknownIdError, ValidationError

from conftest import SAMPLE, TODAY


@pytest.fixture(scope="module")
def sample():
    return riskkit.load_district(SAMPLE)


def test_sample_district_is_a_plausible_county(sample):
    assert sample.id == "sample-district"
    assert "fiktiv" in sample.config.name
    assert 10 <= len(sample.schools) <= 14
    assert {"primary", "grammar", "comprehensive", "special-needs", "vocational"} <= {
        a.school.kind for a in sample.schools.values()}
    summary = sample.summary(TODAY)
    assert 0 < summary["prior_consultation"].sum() < len(summary)
    assert summary["review_overdue"].sum() == 1
    # open risks at two schools: the draft gs-kleeblatt and rs-an-der-aue (migrated; the risks new in 1.1.0 are open)
    assert set(summary.index[summary["open"] > 0]) == {"gs-kleeblatt", "rs-an-der-aue"}
    # different estimates, with reasons in German
    likelihoods = sample.results(TODAY).groupby("risk_id")["likelihood"].nunique()
    assert (likelihoods > 1).sum() >= len(sample.catalogue.risks) // 2


def test_results_has_one_row_per_school_and_risk(sample):
    frame = sample.results(TODAY)
    assert len(frame) == len(sample.schools) * len(sample.catalogue.risks)
    for column in ("school_id", "risk_id", "likelihood", "severity", "inherent_level", "residual_likelihood",
                   "residual_severity", "residual_level", "prior_consultation"):
        assert column in frame.columns
    assert str(frame["likelihood"].dtype) == "Int64"
    assert list(frame["residual_level"].cat.categories) == ["low", "medium", "high"]


def test_results_agree_with_the_method(sample):
    frame = sample.results(TODAY)
    assessed = frame[frame["assessed"]]
    for row in assessed.itertuples():
        assert row.inherent_level == riskkit.classify(row.likelihood, row.severity)
        assert row.residual_level == riskkit.classify(row.residual_likelihood, row.residual_severity)
        assert row.residual_likelihood <= row.likelihood or row.overridden
        assert row.prior_consultation == (row.residual_level == "high")
    unassessed = frame[~frame["assessed"]]
    assert len(unassessed) > 0
    assert unassessed["likelihood"].isna().all() and unassessed["residual_level"].isna().all()
    assert not unassessed["prior_consultation"].any()


def test_summary_counts_match_results(sample):
    frame, summary = sample.results(TODAY), sample.summary(TODAY)
    for school_id, row in summary.iterrows():
        rows = frame[frame["school_id"] == school_id]
        assert row["residual_high"] == (rows["residual_level"] == "high").sum()
        assert row["open"] == (rows["applicable"] & ~rows["assessed"]).sum()  # not-applicable risks are not open
        assert row["not_applicable"] == (~rows["applicable"]).sum()
        assert row["prior_consultation"] == (row["residual_high"] > 0)
        assert row["next_review"] == sample.next_review(school_id)


def test_unknown_school_lists_the_known_ones(sample):
    with pytest.raises(UnknownIdError, match="unknown school 'nope'; known: bbs-gesundheit-soziales, "):
        sample.school("nope")


def test_all_errors_of_a_district_are_collected(district_dir):
    schools = district_dir / "schools"
    a = schools / "gs-am-lindenweg.yaml"
    data = yaml.safe_load(a.read_text(encoding="utf-8"))
    data["risks"]["profiling"]["likelihood"] = 7
    a.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    b = schools / "kgs-birkenfeld.yaml"
    b.write_text(b.read_text(encoding="utf-8").replace("assessed_on:", "assessed_on: 2026-02-30\nold_date:"),
                 encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        riskkit.load_district(district_dir)
    text = str(exc.value)
    assert f"{a}: risks.profiling.likelihood: Input should be less than or equal to 4 (got 7)" in text
    assert f"{b}: assessed_on:" in text and "2026-02-30" in text
    assert f"{b}: old_date: unknown key" in text
    assert {p.file for p in exc.value.problems} == {str(a), str(b)}


def test_two_files_for_one_school_are_a_duplicate(district_dir):
    schools = district_dir / "schools"
    shutil.copy(schools / "gs-am-lindenweg.yaml", schools / "gs-am-lindenweg.yml")
    with pytest.raises(ValidationError, match="duplicate school id: one file per school \\(got 'gs-am-lindenweg.yaml, gs-am-lindenweg.yml'\\)"):
        riskkit.load_district(district_dir)


def test_hidden_and_temp_files_are_skipped(district_dir):
    (district_dir / "schools" / ".gs-am-lindenweg.yaml.abc.tmp").write_text("half-writ", encoding="utf-8")
    (district_dir / "schools" / "README.txt").write_text("notes", encoding="utf-8")
    assert len(riskkit.load_district(district_dir).schools) == len(list((SAMPLE / "schools").glob("*.yaml")))


def test_district_file_errors(district_dir, tmp_path):
    config = district_dir / "district.yaml"
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    with pytest.raises(RiskkitError, match="not a district folder"):
        riskkit.load_district(tmp_path)
    config.write_text(yaml.safe_dump({**data, "catalogue": "atlantis"}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValidationError, match=r"district.yaml: catalogue: unknown catalogue; shipped: school-platform"):
        riskkit.load_district(district_dir)
    config.write_text(yaml.safe_dump({**data, "language": "fr", "review_interval_months": 0}), encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        riskkit.load_district(district_dir)
    assert [p.path for p in exc.value.problems] == ["language", "review_interval_months"]


def test_a_district_can_use_its_own_matrix(district_dir):
    shipped = resources.files("riskkit") / "data" / "matrices" / "dsk-kp18.yaml"
    matrix = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    matrix["id"] = "everything-high"
    matrix["table"] = {s: ["high"] * 4 for s in range(1, 5)}
    (district_dir / "strict.yaml").write_text(yaml.safe_dump(matrix, allow_unicode=True), encoding="utf-8")
    config = district_dir / "district.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "matrix: strict.yaml\n", encoding="utf-8")
    district = riskkit.load_district(district_dir)
    assert district.matrix.id == "everything-high"
    assert district.summary(TODAY)["prior_consultation"].all()


def test_save_school_writes_and_updates_the_district(district_dir):
    district = riskkit.load_district(district_dir)
    assessment = district.school("gs-am-lindenweg").model_copy(deep=True)
    assessment.risks["profiling"].likelihood = 4
    path = district.save_school(assessment)
    assert path == district_dir / "schools" / "gs-am-lindenweg.yaml"
    assert district.school("gs-am-lindenweg").risks["profiling"].likelihood == 4
    assert riskkit.load_district(district_dir).school("gs-am-lindenweg").risks["profiling"].likelihood == 4


def test_results_of_an_empty_district(district_dir):
    shutil.rmtree(district_dir / "schools")
    district = riskkit.load_district(district_dir)
    assert district.schools == {}
    assert isinstance(district.results(TODAY), pd.DataFrame) and district.results(TODAY).empty


def test_only_loads_the_named_schools(district_dir):
    (district_dir / "schools" / "kgs-birkenfeld.yaml").write_text("broken: [\n", encoding="utf-8")
    district = riskkit.load_district(district_dir, only=["gs-am-lindenweg"])
    assert list(district.schools) == ["gs-am-lindenweg"]
    with pytest.raises(UnknownIdError, match="unknown school 'gs-nowhere'; known: bbs-gesundheit-soziales, "):
        riskkit.load_district(district_dir, only=["gs-nowhere"])
