"""HTML text shared by the reports, the overview, the batch index and the capture form."""

from __future__ import annotations

from html import escape
from typing import Any

# Outputs may carry {"riskkit": {"title": ..., "lang": ...}} metadata; the exported document takes its title from it.
META_KEY = "riskkit"


def esc(value: object) -> str:
    """Any value (often text a user typed) as HTML text: `<`, `>`, `&` and quotes escaped."""
    return escape(str(value), quote=True)


class Block:
    """An HTML block for a notebook output; optional metadata travels with it (the report title and language)."""

    def __init__(self, html: str, meta: dict[str, str] | None = None):
        self.html, self.meta = html, meta

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        return {"text/html": self.html}, ({META_KEY: self.meta} if self.meta else {})
