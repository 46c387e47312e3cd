"""riskkit's messages in the user's language: the English message as the code writes it is matched against the
templates of `data/messages.yaml` and written out in German; pydantic's errors are written from their type and
context."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from string import Formatter
from typing import Any

from .i18n import Lang


@dataclass(frozen=True)
class Template:
    """One English template, the pattern that matches what it produces, and its German form."""

    english: str
    pattern: re.Pattern
    german: str

    @classmethod
    def of(cls, english: str, german: str) -> Template:
        regex = ""
        for literal, name, _, _ in Formatter().parse(english):
            regex += re.escape(literal) + (f"(?P<{name}>.*?)" if name is not None else "")
        return cls(english, re.compile(regex, re.DOTALL), german)

    @property
    def literal_length(self) -> int:
        return sum(len(literal) for literal, *_ in Formatter().parse(self.english))


@dataclass(frozen=True)
class Catalogue:
    """The message catalogue of `data/messages.yaml`."""

    messages: tuple[Template, ...]
    places: tuple[Template, ...]
    pydantic: dict[str, str]
    level_keys: frozenset[str]
    level_types: frozenset[str]
    frame: dict[str, dict[str, str]]


@cache
def catalogue() -> Catalogue:
    from .yamlio import parse_yaml

    source = resources.files("riskkit") / "data" / "messages.yaml"
    data, problems = parse_yaml(source.read_text(encoding="utf-8"), str(source))
    if problems:
        raise RuntimeError(str(problems[0]))

    def templates(block: dict[str, str]) -> tuple[Template, ...]:  # the most specific (most literal text) first
        return tuple(sorted((Template.of(en, de) for en, de in block.items()), key=lambda t: -t.literal_length))

    return Catalogue(templates({**_pydantic_english(data["pydantic"]), **data["messages"]}), templates(data["places"]),
                     data["pydantic"],
                     frozenset(data["levels"]["keys"]), frozenset(data["levels"]["types"]), data["frame"])


def _pydantic_english(german: dict[str, str]) -> dict[str, str]:
    """pydantic's English message template of each error type -> the German, for messages that lost their type."""
    from pydantic_core import PydanticKnownError

    context = {"le": 0, "ge": 0, "lt": 0, "gt": 0, "min_length": 0, "max_length": 0, "actual_length": 0,
               "expected": "", "error": "", "pattern": "", "field_type": "", "expected_tags": "", "tag": "",
               "discriminator": "", "class_name": ""}
    templates = {}
    for code, text in german.items():
        try:
            templates[PydanticKnownError(code, context).message_template] = text
        except (KeyError, TypeError, ValueError):  # a type pydantic raises only as a custom error
            continue
    return templates


def find(message: str, templates: tuple[Template, ...] | None = None) -> tuple[Template, dict[str, str]] | None:
    """The template that produced `message` and the values it was filled with; None if no template did."""
    for template in catalogue().messages if templates is None else templates:
        match = template.pattern.fullmatch(message)
        if match:
            return template, match.groupdict()
    return None


@lru_cache(maxsize=4096)
def translate(message: str, lang: Lang) -> str:
    """`message` in `lang`: English as it is; German from its template (values that are messages translated too),
    or as it is when no template matches."""
    if lang == "en":
        return message
    return _german(message, catalogue().messages)


def place(where: str, lang: Lang) -> str:
    """A place in a file ("line 3, column 5", "row 2, column likelihood") in `lang`."""
    return where if lang == "en" else _german(where, catalogue().places)


def _german(text: str, templates: tuple[Template, ...]) -> str:
    found = find(text, templates)
    if found is None:
        return text
    template, values = found
    return template.german.format_map({k: _value(k, v) if v != text else v for k, v in values.items()})


def _value(name: str, value: str) -> str:
    """A value carried into a German message: itself translated; pydantic's "'a' or 'b'" as "'a' oder 'b'"."""
    value = translate(value, "de")
    return value.replace("' or '", "' oder '") if name == "expected" else value


def frame(key: str, lang: Lang, **values: Any) -> str:
    """A fixed piece of a problem list ("3 problems found:", "got ...") in `lang`."""
    return catalogue().frame[key][lang].format(**values)


def pydantic_text(code: str, ctx: dict[str, Any], message: str, lang: Lang) -> str:
    """A pydantic error of type `code` in `lang`: pydantic's own English `message`, or the German written from the
    type and its context; an unknown type or a custom message (value errors) goes through `translate`."""
    if lang == "en":
        return message
    german = catalogue().pydantic.get(code)
    if german is None:
        text = translate(message, lang)
        return text if text != message or code == "value_error" else frame("invalid_value", lang)
    try:
        return german.format_map({k: _value(k, str(v)) for k, v in ctx.items()})
    except (KeyError, IndexError, ValueError):
        return frame("invalid_value", lang)


def level_hint(code: str, path: str, lang: Lang) -> str:
    """"allowed: 1 (negligible), 2 (limited), ..." when a problem of type `code` at `path` is about a level."""
    cat = catalogue()
    key = re.split(r"[.\[]", path)[-1] if path else ""
    if code not in cat.level_types or key not in cat.level_keys:
        return ""
    from .method import default_matrix

    levels = default_matrix().levels
    return frame("allowed_levels", lang, levels=", ".join(f"{n} ({levels[n][lang]})" for n in sorted(levels)))
