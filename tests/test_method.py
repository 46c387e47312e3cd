from datetime import date

import pytest
import yaml

import riskkit
from riskkit.model import method
from riskkit.model.errors import ValidationError

# METHOD.md: severity rows 4..1, likelihood columns 1..4.
DSK = {
    4: ["medium", "high", "high", "high"],
    3: ["low", "medium", "high", "high"],
    2: ["low", "low", "medium", "high"],
    1: ["low", "low", "low", "medium"],
}
CELLS = [(l, s, DSK[s][l - 1]) for s in range(1, 5) for l in range(1, 5)]


@pytest.mark.parametrize("likelihood,severity,expected", CELLS)
def test_every_cell_of_the_default_matrix(likelihood, severity, expected):
    assert riskkit.classify(likelihood, severity) == expected
    # the staircase: sum <= 4 low, 5 medium, >= 6 high
    assert expected == ("low" if likelihood + severity <= 4 else "medium" if likelihood + severity == 5 else "high")


def test_major_severity_is_never_low():
    assert all(riskkit.classify(l, 4) != "low" for l in range(1, 5))


@pytest.mark.parametrize("bad", [0, 5, -1, "3", 2.0, True, None])
def test_classify_rejects_values_outside_the_levels(bad):
    with pytest.raises(ValueError, match=r"likelihood must be an integer 1-4, got " + repr(bad).replace(".", r"\.")):
        riskkit.classify(bad, 2)
    with pytest.raises(ValueError, match="severity must be an integer 1-4"):
        riskkit.classify(2, bad)


def test_level_names_in_both_languages():
    m = riskkit.default_matrix()
    assert [m.level_name(i, "de") for i in range(1, 5)] == ["geringfügig", "überschaubar", "substanziell", "groß"]
    assert m.level_name(4, "en") == "major"
    assert m.risk_level_name("medium", "de") == "Risiko"
    assert m.risk_level_name("high", "en") == "high risk"
    assert m.likelihood_guidance[3]["de"].startswith("Wahrscheinlich")


@pytest.mark.parametrize(
    "reductions,expected",
    [
        ([], (3, 4)),
        ([(1, 0)], (2, 4)),
        ([(1, 0), (0, 1)], (2, 3)),
        ([(1, 1), (1, 1)], (1, 2)),
        ([(1, 0), (1, 0), (1, 0)], (1, 4)),  # capped at 2 levels: 3 -> 1
        ([(0, 3)], (3, 2)),  # capped at 2 levels: 4 -> 2
    ],
)
def test_residual_adds_reductions_with_cap(reductions, expected):
    assert method.residual(3, 4, reductions, max_reduction=2) == expected


def test_residual_never_below_level_one():
    assert method.residual(1, 2, [(2, 2)], max_reduction=3) == (1, 1)


def test_residual_with_zero_cap_changes_nothing():
    assert method.residual(4, 4, [(2, 2)], max_reduction=0) == (4, 4)


def test_next_review_adds_months_and_clamps_month_end():
    assert method.next_review(date(2026, 3, 12), 12) == date(2027, 3, 12)
    assert method.next_review(date(2026, 1, 31), 1) == date(2026, 2, 28)


def _matrix_data():
    return yaml.safe_load(
        (method.resources.files("riskkit") / "data" / "matrices" / "dsk-kp18.yaml").read_text(encoding="utf-8")
    )


def test_another_matrix_loads_from_yaml(tmp_path):
    data = _matrix_data()
    data["id"] = "strict"
    data["table"][2] = ["low", "medium", "high", "high"]
    data["table"][3] = ["medium", "high", "high", "high"]
    path = tmp_path / "strict.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    strict = riskkit.load_matrix(path)
    assert strict.id == "strict"
    assert riskkit.classify(2, 2, strict) == "medium"
    assert riskkit.classify(2, 2) == "low"


@pytest.mark.parametrize(
    "change,path,message",
    [
        (lambda d: d["table"].__setitem__(1, ["low", "low", "low"]), "table[1]", "at least 4 items"),
        (lambda d: d["table"].__setitem__(1, ["low", "low", "low", "severe"]), "table[1][3]", "'low', 'medium' or 'high'"),
        (lambda d: d["table"].__setitem__(2, ["high", "low", "medium", "high"]), "", "must not fall"),
        (lambda d: d.__setitem__("max_reduction", 7), "max_reduction", "less than or equal to 3"),
        (lambda d: d.__setitem__("colour", "red"), "colour", "unknown key"),
    ],
)
def test_a_bad_matrix_names_file_path_and_what_is_allowed(tmp_path, change, path, message):
    data = _matrix_data()
    change(data)
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        riskkit.load_matrix(file)
    problem = exc.value.problems[0]
    assert problem.file == str(file)
    assert problem.path == path
    assert message in problem.message
