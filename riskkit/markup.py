"""HTML text shared by the reports, the overview, the batch index and the capture form."""

from __future__ import annotations

from html import escape


def esc(value: object) -> str:
    """Any value (often text a user typed) as HTML text: `<`, `>`, `&` and quotes escaped."""
    return escape(str(value), quote=True)
