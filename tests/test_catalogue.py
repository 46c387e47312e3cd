from pathlib import Path

import pytest
import yaml

import riskkit
from riskkit.model.catalogue import load_catalogue, shipped_catalogues
from riskkit.model.errors import MISSING, UnknownIdError, ValidationError

SEEDS = {"000_edf2b4f1268cd816.txt", "003_b33c38540315e945.txt"}
SHIPPED = Path(riskkit.__file__).parent / "data" / "catalogues" / "school-platform.yaml"


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


def test_shipped_catalogue_is_versioned_and_lists_the_seed_risks(cat):
    assert cat.ref == "school-platform@1.1.0"
    ids = set(cat.risks_by_id)
    assert {"discrimination-exposure", "identity-theft", "profiling", "data-loss"} <= ids
    assert {"vc-recording", "vc-content-exposure", "vc-operator-data", "mail-misdirected", "messenger-bullying",
            "files-overshared", "logs-monitoring", "admin-misuse", "third-party-addons"} <= ids
    assert {r.source for r in cat.risks} | {m.source for m in cat.measures} <= {d.id for d in cat.documents}
    assert SEEDS <= {d.id for d in cat.documents}
    assert all(d.url for d in cat.documents if d.id not in SEEDS)  # public sources are cited with their address


def test_the_measures_the_seeds_name_are_there(cat):
    expected = {
        "usage-rules", "admin-obligation", "log-deletion", "daily-backup", "two-factor-auth", "rights-concept",
        "older-classes-only", "class-teacher-reporting", "head-not-admin", "no-external-sharing", "vc-recording-ban",
        "vc-content-deletion", "processing-agreement", "certified-hosting", "separate-installation",
        "no-search-indexing", "own-file-copies",
    }
    assert expected <= set(cat.measures_by_id)


def test_every_risk_is_lowered_by_measures_and_texts_are_bilingual(cat):
    for risk in cat.risks:
        assert cat.measures_for(risk.id), risk.id
        assert risk.title["de"] != risk.title["en"]
        assert 1 <= risk.severity <= 4


def test_measures_for_and_effect_on(cat):
    effect = cat.measure("two-factor-auth").effect_on("identity-theft")
    assert (effect.likelihood, effect.severity) == (1, 0)
    assert cat.measure("two-factor-auth").effect_on("data-loss") is None
    assert "daily-backup" in [m.id for m in cat.measures_for("data-loss")]


def test_unknown_ids_list_the_known_ones(cat):
    with pytest.raises(UnknownIdError, match="unknown risk 'nope'; known: admin-actions-unlogged, admin-data-on-platform, admin-misuse, "):
        cat.risk("nope")
    with pytest.raises(UnknownIdError, match="unknown catalogue 'nope'; known: school-platform"):
        load_catalogue("nope")
    assert shipped_catalogues() == ["school-platform"]


def _write_variant(tmp_path, change):
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "change,path,value,message",
    [
        (lambda d: d["risks"][0].__setitem__("severity", 5), "risks[0].severity", 5, "less than or equal to 4"),
        (lambda d: d["risks"][1]["title"].pop("en"), "risks[1].title.en", MISSING, "required key is missing"),
        (lambda d: d["risks"][0].__setitem__("modules", ["mars"]), "risks[0].modules[0]", "mars",
         "unknown id; allowed: accounts, mail"),
        (lambda d: d["risks"][2].__setitem__("damage_kinds", ["emotional"]), "risks[2].damage_kinds[0]", "emotional",
         "'physical', 'material' or 'non-material'"),
        (lambda d: d["measures"][0]["effects"].append({"risk": "ghost", "likelihood": 1}),
         f"measures[0].effects[{5}].risk", "ghost", "unknown id; allowed: discrimination-exposure"),
        (lambda d: d["measures"][0]["effects"].__setitem__(0, {"risk": "profiling"}),
         "measures[0].effects[0]", {"risk": "profiling"}, "must lower likelihood or severity"),
        (lambda d: d["risks"].append(dict(d["risks"][0])), "risks", "discrimination-exposure", "defined 2 times"),
        (lambda d: d["risks"][0].__setitem__("colour", "red"), "risks[0].colour", "red", "unknown key"),
    ],
)
def test_a_bad_catalogue_names_file_key_value_and_what_is_allowed(tmp_path, change, path, value, message):
    file = _write_variant(tmp_path, change)
    with pytest.raises(ValidationError) as exc:
        load_catalogue(file)
    [problem] = [p for p in exc.value.problems if p.path == path]
    assert problem.file == str(file)
    assert problem.value == value
    assert message in problem.message
    assert str(file) in str(exc.value) and path in str(exc.value)


def test_district_extension_adds_risks_and_measures(tmp_path, cat):
    ext = {
        "id": "musterau",
        "version": "1",
        "risks": [{**cat.risk("profiling").model_dump(), "id": "tablet-loss", "source": SHIPPED_DOC}],
        "measures": [{
            "id": "device-lock", "title": {"de": "Gerätesperre", "en": "Device lock"},
            "description": {"de": "Tablets sperren sich selbst.", "en": "Tablets lock themselves."},
            "protection_goals": ["confidentiality"], "source": SHIPPED_DOC,
            "effects": [{"risk": "tablet-loss", "likelihood": 1}, {"risk": "identity-theft", "severity": 1}],
        }],
    }
    path = tmp_path / "extension.yaml"
    path.write_text(yaml.safe_dump(ext, allow_unicode=True), encoding="utf-8")
    merged = load_catalogue("school-platform", path)
    assert merged.version == "1.1.0+musterau.1"
    assert merged.risk("tablet-loss").severity == 3
    assert "device-lock" in [m.id for m in merged.measures_for("identity-theft")]
    assert len(merged.risks) == len(cat.risks) + 1


SHIPPED_DOC = "000_edf2b4f1268cd816.txt"


def test_an_extension_must_not_redefine_ids(tmp_path, cat):
    ext = {"id": "x", "version": "1", "measures": [cat.measure("daily-backup").model_dump()]}
    path = tmp_path / "extension.yaml"
    path.write_text(yaml.safe_dump(ext, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValidationError, match="measures: id defined 2 times; ids must be unique"):
        load_catalogue("school-platform", path)
