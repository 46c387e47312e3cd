"""Packaging: pyproject.toml (pip) and environment.yml (conda) declare the same dependencies (extras included) with
the same ranges; CI bounds every test's time and installs the optional Dask extra; a built wheel holds every file the
package reads."""

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import yaml

from conftest import REPO

CONDA_NAMES: dict[str, str] = {}  # conda-forge name -> PyPI name, where they differ


def _split(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", requirement.strip()).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def test_pip_and_conda_declare_the_same_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = [r for group in project["optional-dependencies"].values() for r in group]
    pip = dict(_split(r) for r in project["dependencies"] + extras)
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    conda = {}
    for entry in env["dependencies"]:  # conda packages, and a `pip:` list for what conda-forge does not have
        for item in entry["pip"] if isinstance(entry, dict) else [entry]:
            if not item.startswith(("python=", "pip")):
                name, spec = _split(item)
                conda[CONDA_NAMES.get(name, name)] = spec
    assert conda == pip


def test_jsonschema_is_pinned_below_4_25():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert any(re.fullmatch(r"jsonschema.*<4\.25", d.replace(" ", "")) for d in project["dependencies"])


def test_the_wheel_carries_notebooks_templates_data_and_the_live_matrix(tmp_path):
    """A wheel built from a copy of the source holds every file the installed package reads at run time."""
    source = tmp_path / "src"
    skip = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                                  ".hypothesis")
    shutil.copytree(REPO, source, ignore=lambda folder, names: skip(folder, names) | (
        {"reports"} if Path(folder) == REPO else set()))  # rendered reports at the top, not riskkit/reports
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(source)],
                   check=True, capture_output=True)
    wheel, = (tmp_path / "dist").glob("riskkit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = [p.relative_to(REPO).as_posix() for p in (REPO / "riskkit").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts]
    assert sorted(set(shipped) - names) == []  # every file of the package, .py or data
    for name in ["riskkit/notebooks/school_report.ipynb", "riskkit/notebooks/district_overview.ipynb",
                 "riskkit/notebooks/capture.ipynb", "riskkit/reports/templates/riskkit_report/index.html.j2",
                 "riskkit/reports/templates/riskkit_report/static/report.css",
                 "riskkit/capture/templates/voila/templates/riskkit-capture/index.html.j2",
                 "riskkit/capture/templates/voila/templates/riskkit-capture/conf.json",
                 "riskkit/capture/livematrix.js", "riskkit/capture/livematrix.css", "riskkit/data/labels.yaml",
                 "riskkit/data/catalogues/school-platform.yaml", "riskkit/data/matrices/dsk-kp18.yaml"]:
        assert name in names
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/entry_points.txt")))
    assert "riskkit = riskkit.cli:main" in entry_points.decode()


def test_every_test_is_bounded_in_time_and_make_test_installs_the_dask_extra():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["pytest"]["ini_options"]["timeout"] >= 60
    assert any(r.startswith("pytest-timeout") for r in config["project"]["optional-dependencies"]["test"])
    assert "'.[test,dask]'" in (REPO / "Makefile").read_text(encoding="utf-8")
