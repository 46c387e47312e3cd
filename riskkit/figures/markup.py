"""HTML text shared by the reports, the overview, the batch index and the capture form."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from ..model.catalogue import Effect, Risk
from ..model.i18n import Lang, label

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


def risk_numbers(risks: Iterable[Risk]) -> dict[str, str]:
    """The one numbering of risks, R1, R2, ... in catalogue order: reports, overview, form, terminal and questionnaire."""
    return {risk.id: f"R{i}" for i, risk in enumerate(risks, start=1)}


def level_chip(level: str | None, text: str, title: str | None = None) -> str:
    """A risk level as a chip: coloured by the stylesheet's `level-<level>` class (`level-open` when not assessed),
    its text written out (colour never stands alone), `title` as a tooltip."""
    tip = f' title="{esc(title)}"' if title else ""
    return f'<span class="level level-{esc(level or "open")}"{tip}>{esc(text)}</span>'


def effect_text(effect: Effect, lang: Lang) -> str:
    """What a measure does to one risk, as report, form and terminal write it: `-1 Wahrscheinlichkeit, -1 Schwere`."""
    return ", ".join(f"-{n} {label(f'effect.{dim}', lang)}"
                     for dim, n in (("likelihood", effect.likelihood), ("severity", effect.severity)) if n)
