"""Small files, small diffs: a save changes only what changed and keeps the file's comments and style (ruamel.yaml
round trip); a new file is written in riskkit's stable style; the strict reader reads whatever is written."""

from __future__ import annotations

import difflib
import re

import pytest

import riskkit
from riskkit.model.yamlio import dump_yaml, parse_yaml, update_yaml

from conftest import SAMPLE


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_changing_one_likelihood_changes_exactly_that_line(district_dir):
    district = riskkit.load_district(district_dir)
    path = district_dir / "schools" / "gs-kleeblatt.yaml"
    before = path.read_text(encoding="utf-8")
    assert before.startswith("# Sample district") and before.count("\n#") >= 3  # a commented file
    school = district.school("gs-kleeblatt")
    old = school.risks["profiling"].likelihood
    school.risks["profiling"].likelihood = 4 if old != 4 else 3
    district.save_school(school)
    after = path.read_text(encoding="utf-8")
    assert changed_lines(before, after) == [f"-    likelihood: {old}",
                                            f"+    likelihood: {school.risks['profiling'].likelihood}"]
    lines = before.splitlines()
    at = next(i for i in range(lines.index("  profiling:"), len(lines)) if lines[i].startswith("    likelihood:"))
    assert after.splitlines()[at] == f"    likelihood: {school.risks['profiling'].likelihood}"  # in its place
    assert riskkit.load_district(district_dir).school("gs-kleeblatt") == school


def test_every_sample_file_saved_unchanged_is_byte_identical(district_dir):
    district = riskkit.load_district(district_dir)
    before = {p.name: p.read_bytes() for p in (district_dir / "schools").glob("*.y*ml")}
    assert len(before) == 12
    for school_id in district.schools:
        district.save_school(district.school(school_id))
    assert {p.name: p.read_bytes() for p in (district_dir / "schools").glob("*.y*ml")} == before


def test_a_new_school_file_is_written_in_the_stable_style(district_dir):
    district = riskkit.load_district(district_dir)
    school = district.school("gs-kleeblatt").model_copy(deep=True)
    school.school.id = "gs-neu"
    path = district.save_school(school)
    assert path.read_text(encoding="utf-8") == school.to_yaml() == dump_yaml(
        school.model_dump(mode="json", exclude_defaults=True))


def test_adding_and_removing_keeps_the_rest_and_its_comments(district_dir):
    district = riskkit.load_district(district_dir)
    path = district_dir / "schools" / "gs-kleeblatt.yaml"
    before = path.read_text(encoding="utf-8")
    school = district.school("gs-kleeblatt")
    entry = school.risks["data-loss"]
    entry.measures_in_place = [*entry.measures_in_place, "certified-hosting"]
    del school.risks["identity-theft"]
    district.save_school(school)
    after = path.read_text(encoding="utf-8")
    removed = [line for line in changed_lines(before, after) if line.startswith("-")]
    added = [line for line in changed_lines(before, after) if line.startswith("+")]
    assert all("identity-theft" in line or line.startswith("-    ") or "measures_in_place" in line for line in removed)
    assert len(added) == 1 and "certified-hosting" in added[0]
    assert [line for line in before.splitlines() if line.startswith("#")] == [
        line for line in after.splitlines() if line.startswith("#")]
    assert riskkit.load_district(district_dir).school("gs-kleeblatt") == school


TRICKY = ["yes", "no", "on", "off", "true", "False", "null", "~", "1:20", "0x1F", "1_000", "0o17", "010", "1e3",
          ".inf", "2026-03-12", " padded ", "# not a comment", "a: b", "- item", "NEL\x85here", "LS\u2028here",
          "PS\u2029here", "tab\there", "line\nbreak", "quote ' and \"", "@at", "`tick", "{flow}", "[list]", "%pct",
          "&anchor", "*alias", "!tag", "|pipe", ">fold", "ümlaut ß", "", "é\u0301"]


@pytest.mark.parametrize("value", TRICKY, ids=range(len(TRICKY)))
def test_the_strict_reader_reads_what_the_round_trip_writes(value):
    previous = "# a comment that stays\nname: old  # and this one\nflag: true\nwhen: 2026-01-01\nitems: [a, b]\n"
    data = {"name": value, "flag": False, "when": "2026-01-01", "items": ["a", value], "on": value, "extra": True}
    text = update_yaml(previous, data)
    read, problems = parse_yaml(text, "x.yaml")
    assert not problems and read == data, text
    assert text.startswith("# a comment that stays\nname: ")
    assert "when: 2026-01-01\n" in text  # unchanged: not quoted, still text to the reader
    assert re.search(r"^flag: false$", text, re.M) and re.search(r"^extra: true$", text, re.M)


def test_text_that_cannot_be_kept_is_written_anew():
    data = {"a": 1}
    assert update_yaml("", data) == dump_yaml(data)
    assert update_yaml("- a list\n", data) == dump_yaml(data)
    assert update_yaml("a: [unclosed\n", data) == dump_yaml(data)


def test_a_file_with_indented_lists_keeps_its_indentation():
    previous = "a:\n  - x\n  - y\nb: 1\n"
    assert update_yaml(previous, {"a": ["x", "y", "z"], "b": 1}) == "a:\n  - x\n  - y\n  - z\nb: 1\n"
    previous = "a:\n- x\nb: 1\n"
    assert update_yaml(previous, {"a": ["x", "z"], "b": 2}) == "a:\n- x\n- z\nb: 2\n"


def test_a_default_the_file_writes_out_stays(district_dir):
    district = riskkit.load_district(district_dir)
    path = district_dir / "schools" / "gs-sonnenhuegel.yaml"
    before = path.read_text(encoding="utf-8")
    assert "  operation: planned\n" in before  # the default value, written out by the school
    district.save_school(district.school("gs-sonnenhuegel"))
    assert path.read_text(encoding="utf-8") == before
    assert (SAMPLE / "schools" / "gs-sonnenhuegel.yaml").read_text(encoding="utf-8") == before
