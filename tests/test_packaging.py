"""pyproject.toml (pip) and environment.yml (conda) must declare the same dependencies with the same ranges."""

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
    pip = dict(_split(r) for r in project["dependencies"] + project["optional-dependencies"]["test"])
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
