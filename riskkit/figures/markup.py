"""HTML and plotly text shared by the reports, the overview, the batch index and the capture form.

Markup is built by escaping by construction: Jinja2 templates (package files under `figures/templates/`) with
autoescape on, and `Markup` only for HTML riskkit itself made (a rendered template, a drawn SVG). Plotly reads
its own pseudo-HTML (`<br>`, `<a href>`, `<b>`, `<sup>`, ...) in titles, names, tick and hover texts, so every text
that goes into a figure passes through `plotly_text`.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from html import escape
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ..model.catalogue import Effect, Risk
from ..model.i18n import Lang, date_text, label

# Outputs may carry {"riskkit": {"title": ..., "lang": ...}} metadata; the exported document takes its title from it.
META_KEY = "riskkit"


def esc(value: object) -> str:
    """Any value (often text a user typed) as HTML text: `<`, `>`, `&` and quotes escaped."""
    return escape(str(value), quote=True)


def plotly_text(value: object) -> str:
    """Text for a plotly title, name, tick or hover text: `&`, `<` and `>` as entities, so plotly shows them as
    typed instead of reading them as its tags (a link, a line break, bold)."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plotly_lines(*lines: object) -> str:
    """Several texts for plotly, each escaped, one per line (joined by plotly's own `<br>`)."""
    return "<br>".join(plotly_text(line) for line in lines)


def text_label(key: str, lang: str, **values: object) -> Markup:
    """A label with its {placeholders} filled: the label and every value are escaped, a `Markup` value is kept."""
    return Markup(escape(label(key, lang))).format(**values)


@cache
def environment() -> Environment:
    """The template environment: autoescape for every template, undefined names are errors."""
    env = Environment(
        loader=PackageLoader("riskkit.figures", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.do"],
    )
    env.globals.update(label=label, text_label=text_label, date_text=date_text)
    return env


def render(template: str, **context: Any) -> Markup:
    """A template from `figures/templates/` rendered with `context`; the result is trusted markup."""
    return Markup(environment().get_template(template).render(**context).strip())


def macro(template: str, name: str, *args: Any, **kwargs: Any) -> Markup:
    """One macro of a template called with arguments (small fragments such as a form message)."""
    return Markup(getattr(environment().get_template(template).module, name)(*args, **kwargs).strip())


class Block:
    """An HTML block for a notebook output; optional metadata travels with it (the report title and language)."""

    def __init__(self, html: str, meta: dict[str, str] | None = None):
        self.html, self.meta = html, meta

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        return {"text/html": str(self.html)}, ({META_KEY: self.meta} if self.meta else {})


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
