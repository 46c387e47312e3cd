"""pyproject.toml (pip) and environment.yml (conda) must declare the same dependencies (extras included) with the same
ranges; CI bounds every test's time and installs the optional Dask extra."""

import re
import tomllib

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
    for entry in env["dependencies"]:
        if isinstance(entry, str) and not entry.startswith(("python=", "pip")):
            name, spec = _split(entry)
            conda[CONDA_NAMES.get(name, name)] = spec
    assert conda == pip


def test_jsonschema_is_pinned_below_4_25():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert any(re.fullmatch(r"jsonschema.*<4\.25", d.replace(" ", "")) for d in project["dependencies"])


def test_every_test_is_bounded_in_time_and_make_test_installs_the_dask_extra():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["pytest"]["ini_options"]["timeout"] >= 60
    assert any(r.startswith("pytest-timeout") for r in config["project"]["optional-dependencies"]["test"])
    assert "'.[test,dask]'" in (REPO / "Makefile").read_text(encoding="utf-8")
