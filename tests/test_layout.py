"""The package's shape: sub-packages by surface, imports one way, shipped notebooks equal to the copies users open."""

import ast
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "riskkit"
# Each layer may import itself and the layers listed; `riskkit` (the top) re-exports and may import the model.
ALLOWED = {
    "model": {"model"},
    "notebooks": {"notebooks"},
    "figures": {"figures", "model"},
    "reports": {"reports", "figures", "model", "notebooks"},
    "sheets": {"sheets", "figures", "model"},
    "capture": {"capture", "figures", "model", "notebooks", "reports", "sheets"},
    "cli": {"cli", "capture", "figures", "model", "notebooks", "reports", "sheets"},
}


def _imported_layers(path: Path) -> set[str]:
    """The riskkit sub-packages a module imports (absolute or relative, at any depth of the file)."""
    module = path.relative_to(REPO).with_suffix("").parts
    package = module[:-1] if path.name != "__init__.py" else module[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                target = base + (node.module.split(".") if node.module else [])
                if not node.module:  # `from .. import x`: x may be a sub-package
                    target = [*base, node.names[0].name]
            else:
                target = (node.module or "").split(".")
        elif isinstance(node, ast.Import):
            target = node.names[0].name.split(".")
        else:
            continue
        if target[:1] == ["riskkit"] and len(target) > 1 and (PACKAGE / target[1]).is_dir():
            found.add(target[1])
    return found


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        layer = path.relative_to(PACKAGE).parts[0]
        if layer in ALLOWED:
            yield layer, path


@pytest.mark.parametrize(("layer", "path"), list(_modules()), ids=lambda v: str(v))
def test_imports_run_one_way(layer, path):
    wrong = _imported_layers(path) - ALLOWED[layer]
    assert not wrong, f"{path.relative_to(REPO)} ({layer}) imports {sorted(wrong)}; allowed: {sorted(ALLOWED[layer])}"


def test_the_import_rule_catches_a_lower_layer_importing_a_higher_one(tmp_path, monkeypatch):
    bad = PACKAGE / "model" / "_layer_probe.py"
    bad.write_text("from ..reports.render import ReportRenderer\n", encoding="utf-8")
    try:
        assert _imported_layers(bad) - ALLOWED["model"] == {"reports"}
    finally:
        bad.unlink()


def test_every_module_sits_in_a_sub_package():
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert loose == []


def test_every_sub_package_says_what_it_may_import():
    for layer in ALLOWED:
        doc = ast.get_docstring(ast.parse((PACKAGE / layer / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "May import" in doc, layer


def test_no_plotly_private_api():
    private = ("_send_animate_msg", "_perform_plotly_restyle", "._config")
    used = [f"{p.relative_to(REPO)}: {name}" for p in PACKAGE.rglob("*.py")
            for name in private if name in p.read_text(encoding="utf-8")]
    assert used == []


@pytest.mark.parametrize("name", ["school_report.ipynb", "district_overview.ipynb", "capture.ipynb"])
def test_the_notebooks_users_open_equal_the_shipped_ones(name):
    from riskkit.notebooks import notebook_path

    assert (REPO / "notebooks" / name).read_bytes() == notebook_path(name).read_bytes()
