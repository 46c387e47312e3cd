"""The capture form builds no markup from text by hand: every HTML fragment comes from an autoescaping template
(riskkit/figures/templates/form.html.j2, summary.html.j2), every plotly text through markup.plotly_text."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import riskkit.capture

CAPTURE = Path(riskkit.capture.__file__).parent
TAG = re.compile(r"<\s*/?\s*[a-zA-Z]")


def markup_fstrings(source: str) -> list[int]:
    """Lines of f-strings whose literal parts hold an HTML tag (or a plotly `<br>`)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if TAG.search(literal):
                lines.append(node.lineno)
    return lines


def test_no_fstring_assembles_markup_in_the_capture_package():
    found = {path.name: markup_fstrings(path.read_text(encoding="utf-8")) for path in sorted(CAPTURE.glob("*.py"))}
    assert {name: lines for name, lines in found.items() if lines} == {}
    assert len(found) >= 8  # every module of the package was read


def test_the_check_finds_an_fstring_with_markup():
    assert markup_fstrings('x = f"<b>{name}</b>"\ny = f"{a} - {b}"\nz = "<b>plain</b>"') == [1]


def test_no_module_of_the_capture_package_uses_hand_escaping():
    for path in CAPTURE.glob("*.py"):
        assert not re.search(r"\besc\(", path.read_text(encoding="utf-8")), path.name
