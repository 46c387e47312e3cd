"""Text for spreadsheet cells (CSV and XLSX written by the exports and beside the district overview)."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Prefix an apostrophe to text a spreadsheet would run as a formula, and to text that starts with one.

    Import drops one leading apostrophe from CSV cells, so the round trip gives the text back unchanged.
    """
    return "'" + text if text.startswith((*FORMULA_START, "'")) else text
