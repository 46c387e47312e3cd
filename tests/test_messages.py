"""German first: every message riskkit can produce has a German form (riskkit/data/messages.yaml), and a German
district sees its problems in German at the command line, in the overview and in the capture form."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
import yaml

import riskkit
from riskkit.model import messages
from riskkit.model.errors import MISSING, Problem, ValidationError
from riskkit.model.yamlio import parse_yaml

from conftest import REPO, SAMPLE, run_cli

PACKAGE = REPO / "riskkit"
# Words of an English sentence that no German message contains (checked as whole words, ids and paths removed).
ENGLISH = ("should", "must", "allowed", "unknown", "required", "input", "got", "found", "missing", "expected", "valid",
           "not", "the", "is", "and", "or", "error", "problems")
ERRORS = ("RiskkitError", "ValidationError", "ValueError", "JobError", "ReportError", "BrowserError", "FileConflict")


def _literal(node: ast.expr) -> str | None:
    """A message argument as a template ({} for each formatted value); None when it is no literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "\0" for v in node.values)
    return None


def _message_node(call: ast.Call) -> ast.expr | None:
    name = getattr(call.func, "id", None) or getattr(call.func, "attr", "")
    keywords = {k.arg: k.value for k in call.keywords}
    if name == "Problem":
        return keywords.get("message", call.args[3] if len(call.args) > 3 else None)
    if name == "problem" and len(call.args) == 2:  # sheets.intake: builder.problem(cell, message)
        return call.args[1]
    if name in ERRORS and call.args:
        return call.args[1] if name == "FileConflict" and len(call.args) > 1 else call.args[0]
    return None


def source_messages() -> list[tuple[str, str]]:
    """(where, template) of every message literal the package writes into a Problem or an error it raises."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and (arg := _message_node(node)) is not None:
                template = _literal(arg)
                if template is not None and re.search(r"[A-Za-z]", template):  # not only composed ("{}: {}")
                    if getattr(node.func, "id", "") == "FileConflict":  # FileConflict(path, message): "path: message"
                        template = f"\0: {template}"
                    found.append((f"{path.relative_to(REPO)}:{node.lineno}", template))
    return found


SOURCE = source_messages()


def test_the_source_scan_finds_the_messages():
    templates = [t for _, t in SOURCE]
    assert len(SOURCE) > 80
    assert "measure listed more than once" in templates and "unknown risk id; allowed: \0" in templates


def _entries_of_shape(template: str) -> list[str]:
    """The catalogue's English templates (other than the generic "{key}: {message}") that fit the source template;
    a value in the source may stand for words of the template ("unknown {kind}; ..." -> "unknown module; ...")."""
    shape = re.compile(".+".join(map(re.escape, template.split("\0"))), re.DOTALL)
    filled = lambda english: re.sub(r"(?<!\{)\{\w+\}(?!\})", "X7", english).replace("{{", "{").replace("}}", "}")
    return [t.english for t in messages.catalogue().messages if t.literal_length > 2 and shape.fullmatch(filled(t.english))]


@pytest.mark.parametrize("where,template", SOURCE, ids=[w for w, _ in SOURCE])
def test_every_message_in_the_source_has_a_german_entry(where, template):
    entries = _entries_of_shape(template)
    assert entries, f"{where}: no entry in riskkit/data/messages.yaml for {template!r}"
    for english in entries:
        filled = re.sub(r"(?<!\{)\{\w+\}(?!\})", "X7", english).replace("{{", "{").replace("}}", "}")
        assert messages.translate(filled, "de") != filled


def test_every_german_template_names_the_same_values_as_its_english():
    data, problems = parse_yaml((PACKAGE / "data" / "messages.yaml").read_text(encoding="utf-8"), "messages.yaml")
    assert not problems
    fields = lambda text: sorted(re.findall(r"(?<!\{)\{(\w+)\}(?!\})", text))
    for block in ("messages", "places"):
        for english, german in data[block].items():
            assert fields(english) == fields(german), english
    for frame in data["frame"].values():
        assert fields(frame["de"]) == fields(frame["en"])


def test_each_pydantic_type_listed_is_known_to_pydantic_and_reads_german():
    from pydantic_core import PydanticKnownError

    catalogue = messages.catalogue()
    known = [t for t in catalogue.pydantic if t not in ("invalid_key",)]
    for code in known:
        PydanticKnownError(code, {"le": 4, "ge": 1, "lt": 1, "gt": 1, "min_length": 1, "max_length": 9,
                                  "expected": "'a'", "error": "e", "pattern": "p", "field_type": "List",
                                  "actual_length": 0, "expected_tags": "a", "tag": "t", "discriminator": "d",
                                  "class_name": "C"})
    assert {"int_type", "less_than_equal", "literal_error", "missing", "extra_forbidden", "date_from_datetime_parsing",
            "string_too_short"} <= set(catalogue.pydantic)


def broken_district(tmp_path: Path) -> Path:
    """The sample district with one of each kind of problem in a school file, and a file that is no YAML."""
    folder = tmp_path / "district"
    shutil.copytree(SAMPLE, folder)
    school = folder / "schools" / "gs-am-lindenweg.yaml"
    data = yaml.safe_load(school.read_text(encoding="utf-8"))
    data["school"]["kind"] = "gymnasium"
    data["assessed_on"] = "12.03.2026"
    data["extra"] = 1
    data["platform"]["modules"]["telepathy"] = {}
    data["platform"]["modules"]["mail"]["legal_basis"] = "whim"
    data["platform"]["extra_data"] = ["horoscope"]
    data["dsfa"]["threshold"] = {"astrology": True}
    risks = data["risks"]
    risks["profiling"]["likelihood"] = "hoch"
    risks["data-loss"]["likelihood"] = 9
    risks["vc-recording"]["likelihood"] = 0
    risks["vc-content-exposure"]["likelihood"] = 2.5
    risks["data-loss"]["measures_in_place"] += ["teleportation", "usage-rules", "daily-backup"]
    risks["identity-theft"]["measures_planned"][0]["due"] = "2027-02-30"
    risks["identity-theft"]["measures_planned"].append({"measure": "usage-rules", "owner": "", "due": "2027-01-01"})
    risks["identity-theft"]["measures_in_place"].append({"measure": "two-factor-auth"})
    risks["mail-misdirected"]["severity"] = {"level": 1, "reason": "weniger"}
    del risks["vc-operator-data"]["reason"]
    risks["ghost-risk"] = {"likelihood": 1, "reason": "x"}
    school.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    (folder / "schools" / "broken.yaml").write_text("school: [unclosed\n", encoding="utf-8")
    (folder / "schools" / "tabs.yaml").write_text("school:\n\tid: tabs\n", encoding="utf-8")
    (folder / "schools" / "latin.yaml").write_bytes("school: Grundschule Müllerstraße\n".encode("cp1252"))
    return folder


def english_words(text: str, *remove: str) -> set[str]:
    for part in remove:
        text = text.replace(part, "")
    text = re.sub(r"'[^']*'|`[^`]*`|[\w.-]+\.ya?ml|\b[a-z0-9]+(?:[-_.][a-z0-9]+)+\b", "", text)  # values, files, ids
    return {w for w in re.findall(r"[A-Za-z]+", text) if w.lower() in ENGLISH}


@pytest.fixture
def broken(tmp_path) -> tuple[Path, list[Problem]]:
    folder = broken_district(tmp_path)
    with pytest.raises(ValidationError) as exc:
        riskkit.load_district(folder)
    return folder, exc.value.problems


def test_every_problem_of_a_broken_district_reads_german(broken):
    folder, problems = broken
    assert len(problems) >= 18
    for problem in problems:
        german = problem.text("de")
        assert problem.code in messages.catalogue().pydantic or messages.find(problem.message), problem
        assert not english_words(german, problem.file), german
        assert problem.text("en").startswith(str(problem)), problem  # English: the canonical message, maybe a hint


def test_a_level_problem_names_the_levels_in_both_languages(broken):
    _, problems = broken
    hoch = next(p for p in problems if p.value == "hoch")
    assert hoch.text("de").endswith("risks.profiling.likelihood: muss eine ganze Zahl sein (angegeben: 'hoch'); "
                                    "erlaubt: 1 (geringfügig), 2 (überschaubar), 3 (substanziell), 4 (groß)")
    assert hoch.text("en").endswith("risks.profiling.likelihood: Input should be a valid integer (got 'hoch'); "
                                    "allowed: 1 (negligible), 2 (limited), 3 (significant), 4 (major)")
    kind = next(p for p in problems if p.path == "school.kind")
    assert kind.text("de").endswith("school.kind: muss einer dieser Werte sein: 'primary', 'secondary', 'grammar', "
                                    "'comprehensive', 'special-needs', 'vocational' oder 'other' (angegeben: 'gymnasium')")
    date = next(p for p in problems if p.path == "assessed_on")
    assert "assessed_on: muss ein Datum in der Form JJJJ-MM-TT sein (angegeben: '12.03.2026')" in date.text("de")
    syntax = next(p for p in problems if p.file.endswith("broken.yaml"))
    assert syntax.text("de").endswith("broken.yaml: Zeile 2, Spalte 1: kein gültiges YAML: erwartetes ',' oder ']' "
                                      "nicht gefunden")


def test_validate_in_german_shows_no_english_sentence(broken):
    folder, _ = broken
    result = run_cli("validate", folder, "--lang", "de")
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0].startswith("Fehler: ") and lines[0].endswith(" Probleme gefunden:")
    assert not english_words(result.output, str(folder)), result.output
    by_default = run_cli("validate", folder)  # the district's language: German
    assert by_default.output == result.output
    english = run_cli("validate", folder, "--lang", "en")
    assert english.output.startswith("error: ") and {"should", "unknown", "allowed"} <= {
        w.lower() for w in english_words(english.output, str(folder))}


def test_a_folder_that_is_no_district_is_named_in_german(tmp_path):
    result = run_cli("validate", tmp_path)
    assert result.exit_code == 1
    assert result.output == f"Fehler: {tmp_path}: kein Kreis-Ordner (keine district.yaml darin)\n"


def test_an_english_district_speaks_english_unless_told_otherwise(broken):
    folder, _ = broken
    config = folder / "district.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("language: de", "language: en"), encoding="utf-8")
    assert run_cli("validate", folder).output.startswith("error: ")
    assert run_cli("validate", folder, "--lang", "de").output.startswith("Fehler: ")


def test_import_lists_its_problems_in_german(district_dir, tmp_path):
    csv = tmp_path / "schulen.csv"
    csv.write_text(
        "school_id;school_name;school_kind;assessed_on;assessed_by;risk_id;likelihood;reason;measures_in_place;farbe\n"
        "gs-neu;GS Neu;Gymnasiun;2026-13-01;Anna;identity-theft;hoch;Grund;teleportation;rot\n"
        "gs-neu;GS Neu;primary;2026-10-01;Anna;ghost;2;;;\n", encoding="utf-8")
    result = run_cli("import", csv, district_dir)
    assert result.exit_code == 2
    assert "Fehler: 1 Problem gefunden:" in result.output or "Probleme gefunden:" in result.output
    problems = result.output.split("gefunden:", 1)[1]
    assert "Zeile 1, Spalte farbe: unbekannte Spalte; erlaubt:" in problems
    assert not english_words(problems, str(csv)), problems


def test_the_overview_gaps_and_the_capture_form_show_problems_in_german(broken):
    from riskkit.capture import capture_form
    from riskkit.reports.overview import load_overview

    folder, _ = broken
    gaps = load_overview(folder, "de", report_formats=["html"]).gaps().html
    assert "schools/broken.yaml: Zeile 2, Spalte 1: kein gültiges YAML" in gaps
    header = capture_form(folder).widget.children[0].value
    assert "risks.data-loss.likelihood: muss kleiner oder gleich 4 sein (angegeben: 9)" in header


def test_a_pydantic_message_without_its_type_is_still_translated():
    problem = Problem("f.yaml", "risks.x.likelihood", 9, "Input should be less than or equal to 4")
    assert problem.text("de") == "f.yaml: risks.x.likelihood: muss kleiner oder gleich 4 sein (angegeben: 9)"
    assert Problem("f.yaml", "", MISSING, "Field required").text("de") == "f.yaml: Pflichtangabe fehlt"
    assert Problem("f.yaml", "", MISSING, "no template writes this").text("de") == "f.yaml: no template writes this"
