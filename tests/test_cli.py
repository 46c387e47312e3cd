import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from riskkit.cli import main

from conftest import SAMPLE

RISKKIT = Path(sys.executable).parent / "riskkit"


@pytest.fixture
def run():
    def invoke(*args):
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return invoke


def test_validate_prints_a_summary_per_school(run):
    result = run("validate", SAMPLE, "--today", "2026-11-23")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Landkreis Musterau (fiktiv): 12 Schulen, Katalog school-platform@1.1.0, Methode dsk-kp18"
    row = next(line for line in lines if line.startswith("rs-an-der-aue "))
    assert row.endswith("nein    2026-06-10 (überfällig)")
    row = next(line for line in lines if line.startswith("gs-kleeblatt "))
    assert row.split()[1:14].count("-") == 3
    assert "Vorherige Konsultation nötig: 4/12 (bbs-musterau, gs-sonnenhuegel, igs-musterau-nord, obs-wiesental)" in lines
    assert "  R5 vc-recording: Aufzeichnung oder Weitergabe von Videokonferenzen" in lines


def test_validate_in_english(run):
    result = run("validate", SAMPLE, "--lang", "en", "--today", "2026-11-23")
    assert result.exit_code == 0
    assert "Prior consultation needed: 4/12" in result.output
    assert "Legend: l = low risk, m = medium risk, H = high risk, - = open" in result.output


def test_validate_lists_all_errors_and_exits_non_zero(run, district_dir):
    school = district_dir / "schools" / "gs-am-lindenweg.yaml"
    data = yaml.safe_load(school.read_text(encoding="utf-8"))
    data["risks"]["profiling"]["likelihood"] = 9
    data["risks"]["data-loss"]["measures_in_place"].append("teleportation")
    school.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(district_dir), "--lang", "en"])
    assert result.exit_code == 2
    assert "error: 2 problems found:" in result.output
    assert f"{school}: risks.profiling.likelihood: Input should be less than or equal to 4 (got 9)" in result.output
    assert "(got 'teleportation')" in result.output
    assert "Traceback" not in result.output


def test_validate_of_a_folder_that_is_no_district(run, tmp_path):
    result = CliRunner().invoke(main, ["validate", str(tmp_path), "--lang", "en"])
    assert result.exit_code == 1
    assert "not a district folder (no district.yaml in it)" in result.output


def test_catalogue_lists_risks_and_measures(run):
    result = run("catalogue", "--lang", "en")
    assert result.exit_code == 0
    assert "  vc-recording             4  Recording or redistribution of video conferences" in result.output
    assert "two-factor-auth" in result.output and "identity-theft -1 likelihood" in result.output


def test_console_script_exit_codes(district_dir):
    ok = subprocess.run([RISKKIT, "validate", SAMPLE], capture_output=True, text=True)
    assert ok.returncode == 0 and "gs-am-lindenweg" in ok.stdout
    (district_dir / "district.yaml").write_text("name: [broken\n", encoding="utf-8")
    bad = subprocess.run([RISKKIT, "validate", district_dir, "--lang", "en"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "district.yaml: line 2, column 1: not valid YAML" in bad.stderr


def test_help_does_not_import_heavy_libraries():
    code = "import sys, riskkit.cli; print(sorted(m for m in ('pandas', 'plotly', 'papermill', 'nbconvert', 'openpyxl') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ})
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("args", [
    ["report", SAMPLE, "gs-kleeblatt", "--format", "html,docx"],
    ["report", SAMPLE, "gs-kleeblatt", "--format", ","],
    ["batch", SAMPLE, "--formats", "pdf,odt"],
])
def test_an_unknown_report_format_is_invalid_input_exit_2(args, tmp_path):
    result = subprocess.run([RISKKIT, *map(str, args), "--out", tmp_path / "out"], capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert "allowed: html, pdf" in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_cli_knows_the_renderer_formats():
    from riskkit.cli import REPORT_FORMATS
    from riskkit.reports.render import FORMATS

    assert REPORT_FORMATS == FORMATS


def test_scheduler_without_dask_is_a_clear_usage_error(tmp_path):
    code = ("import sys; sys.modules['distributed'] = None; import importlib.util as u; "
            "u.find_spec = (lambda f: lambda name, *a: None if name == 'distributed' else f(name, *a))(u.find_spec); "
            "from riskkit.cli import main; main()")
    result = subprocess.run([sys.executable, "-c", code, "batch", str(SAMPLE), "--scheduler", "tcp://127.0.0.1:1",
                             "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert "pip install 'riskkit[dask]'" in result.stderr
    assert not (tmp_path / "out").exists()
