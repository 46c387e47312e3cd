"""Hostile YAML files (billion laughs, deep nesting, giant texts, huge files) are refused before anything is built,
with one short line naming the file and the place; every YAML riskkit reads goes through the same bounds."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from riskkit.model.errors import MISSING, Problem, ValidationError
from riskkit.model.yamlio import BOUNDS, parse_yaml, read_yaml

from conftest import files_of, run_cli


def billion_laughs(levels: int = 9) -> str:
    """Under 1 KB of YAML that expands to 9**levels strings."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    lines.append(f"school: {{id: evil, name: *a{levels - 1}, kind: primary}}")
    return "\n".join(lines) + "\n"


def refused_by_validate(district_dir: Path) -> list[str]:
    before = files_of(district_dir)
    result = run_cli("validate", district_dir, "--lang", "en")
    assert result.exit_code == 2, result.output
    assert files_of(district_dir) == before
    lines = result.output.splitlines()
    assert lines[0].startswith("error: "), lines
    return lines[1:]


def test_a_1kb_billion_laughs_school_file_is_refused_by_validate(district_dir):
    text = billion_laughs()
    assert len(text.encode()) < 1024
    evil = district_dir / "schools" / "evil.yaml"
    evil.write_text(text, encoding="utf-8")
    lines = refused_by_validate(district_dir)
    assert lines == [f"  {evil}: line 6, column 14: too many values (aliases expanded): at most 200000 allowed"]


@pytest.mark.parametrize("name,text,where,message", [
    ("aliases", "a: &a [" + "1," * 999 + "1]\nb: [" + ",".join(["*a"] * 300) + "]\n", "line 2, column 599",
     "too many values (aliases expanded): at most 200000 allowed"),
    ("deep-alias", "a: &a " + "[" * 20 + "]" * 20 + "\nb: " + "[" * 12 + "*a" + "]" * 12 + "\n", "line 2, column 16",
     "nested too deeply: at most 32 levels allowed"),
    ("deep", "x: " + "[" * 40 + "]" * 40 + "\n", "line 1, column 35", "nested too deeply: at most 32 levels allowed"),
    ("long", "x: " + "y" * 100_001 + "\n", "line 1, column 4", "text of 100001 characters; at most 100000 allowed"),
    ("many", "x: [" + ",".join(["1"] * 200_001) + "]\n", "line 1, column 399999", "too many values (aliases expanded): at most 200000 allowed"),
])
def test_each_bound_is_named_with_its_place(name, text, where, message):
    data, problems = parse_yaml(text, f"{name}.yaml")
    assert data is None
    assert len(problems) == 1
    assert (problems[0].path, problems[0].message.split(";")[0]) == (where, message.split(";")[0])
    assert len(str(problems[0])) < 200


def test_aliases_within_bounds_still_read():
    assert parse_yaml("a: &a [1, 2]\nb: [*a, *a]\n", "ok.yaml") == ({"a": [1, 2], "b": [[1, 2], [1, 2]]}, [])


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"# " + b"x" * BOUNDS.max_bytes + b"\n")
    assert read_yaml(path) == (None, [Problem(str(path), "", MISSING, f"file too large: at most {BOUNDS.max_bytes} bytes allowed")])


def test_an_integer_too_long_for_python_is_a_problem_not_a_crash():
    data, problems = parse_yaml("likelihood: " + "9" * 5000 + "\n", "big.yaml")
    assert data is None and problems[0].message.startswith("not valid YAML: Exceeds the limit")


@pytest.mark.parametrize("target", ["district.yaml", "extension.yaml", "matrix.yaml"])
def test_district_extension_and_matrix_files_are_bounded_too(district_dir, target):
    config = district_dir / "district.yaml"
    text = config.read_text(encoding="utf-8")
    if target == "district.yaml":
        config.write_text(text + billion_laughs().replace("school:", "x:"), encoding="utf-8")
    else:
        key = "catalogue_extension" if target == "extension.yaml" else "matrix"
        config.write_text(text + f"{key}: {target}\n", encoding="utf-8")
        (district_dir / target).write_text(billion_laughs(), encoding="utf-8")
    result = run_cli("validate", district_dir, "--lang", "en")
    assert result.exit_code == 2, result.output
    assert f"{district_dir / target}: line " in result.output
    assert "too many values (aliases expanded)" in result.output
    assert len(result.output) < 500


def test_a_school_file_with_thousands_of_unknown_keys_prints_a_bounded_message(district_dir):
    evil = district_dir / "schools" / "wide.yaml"
    evil.write_text("".join(f"k{i}: [[[[{'x' * 50}]]]]\n" for i in range(5000)), encoding="utf-8")
    lines = refused_by_validate(district_dir)
    assert len(lines) <= 25
    assert lines[-1] == f"  {evil}: {5000 + 3 - 20} more problems not shown"
    assert max(map(len, lines)) < 250


def test_validation_error_keeps_every_problem_but_shows_a_few_per_file():
    problems = [Problem("a.yaml", f"k{i}", "v" * 10_000, "bad") for i in range(100)] + [Problem("b.yaml", "", 1, "bad")]
    error = ValidationError(problems)
    assert len(error.problems) == 101
    text = str(error)
    assert text.splitlines()[0] == "101 problems found:"
    assert "  a.yaml: 80 more problems not shown" in text and "  b.yaml: bad (got 1)" in text
    assert len(text) < 3000



@pytest.mark.parametrize("text", [
    billion_laughs(), billion_laughs(5), "a: &a [" + "1," * 999 + "1]\nb: [" + ",".join(["*a"] * 199) + "]\n",
    "a: &a [" + "1," * 999 + "1]\nb: [" + ",".join(["*a"] * 200) + "]\n", "x: " + "[" * 31 + "]" * 31 + "\n",
    "x: " + "[" * 32 + "]" * 32 + "\n", "a: &a " + "[" * 20 + "]" * 20 + "\nb: " + "[" * 11 + "*a" + "]" * 11 + "\n",
    "a: &a " + "[" * 20 + "]" * 20 + "\nb: " + "[" * 12 + "*a" + "]" * 12 + "\n", "x: " + "y" * 99_990 + "\n",
    "a: &a [1, *a]\n", (Path(__file__).parent.parent / "data/sample-district/schools/bbs-musterau.yaml").read_text(),
])
def test_the_check_on_composed_nodes_agrees_with_the_parser_stream(text):
    """Ordinary files are checked on the composed document (one parse), long ones and any found over a bound on
    the parser's stream (which places the problem): both must count alike, at the bounds and over them."""
    import yaml

    from riskkit.model.yamlio import StrictLoader, _bounds_problem, _exceeds

    bounds = replace(BOUNDS, max_chars=99_995)
    assert _exceeds(yaml.compose(text, Loader=StrictLoader), bounds) == (_bounds_problem(text, "t", bounds) is not None)
