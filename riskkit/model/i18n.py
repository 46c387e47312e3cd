"""Bilingual texts: the `Text` model used by every data file, the shipped interface labels, and dates and numbers
written the way each language writes them (Babel's locale data)."""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib import resources
from typing import Annotated, Literal

from babel.dates import format_date
from babel.numbers import format_decimal
from pydantic import BaseModel, ConfigDict, StringConstraints

Lang = Literal["de", "en"]
LANGUAGES: tuple[Lang, ...] = ("de", "en")
TEXT_LIMIT = 5000  # characters of one text in a data file (a reason, an answer); longer texts are refused, the limit named
NonEmptyStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_LIMIT)]


class Text(BaseModel):
    """A text in German and English; `text[lang]` picks one."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    de: NonEmptyStr
    en: NonEmptyStr

    def __getitem__(self, lang: Lang) -> str:
        if lang not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
        return getattr(self, lang)


@cache
def _labels() -> dict[str, Text]:
    from .yamlio import parse_yaml

    source = resources.files("riskkit") / "data" / "labels.yaml"
    data, problems = parse_yaml(source.read_text(encoding="utf-8"), str(source))
    if problems:
        raise RuntimeError(str(problems[0]))
    return {key: Text(**value) for key, value in data.items()}


def label(key: str, lang: Lang) -> str:
    """The interface label `key` in `lang` (labels live in riskkit/data/labels.yaml)."""
    try:
        return _labels()[key][lang]
    except KeyError:
        from .errors import UnknownIdError

        raise UnknownIdError("label", key, _labels()) from None


def counted_key(key: str, count: int) -> str:
    """The form of label `key` for `count` things: `key.one` for exactly one where the label has it, else `key`."""
    return f"{key}.one" if count == 1 and f"{key}.one" in _labels() else key


def counted_label(key: str, count: int, lang: Lang) -> str:
    """The label for `count` things (see `counted_key`), `{count}` filled in; other placeholders stay."""
    return label(counted_key(key, count), lang).replace("{count}", str(count))


def date_text(day: date, lang: Lang) -> str:
    """A date as the language writes it: 29.11.2026, Nov 29, 2026."""
    return format_date(day, format="medium", locale=lang)


def number_text(value: float, lang: Lang, decimals: int = 0) -> str:
    """A number as the language writes it, with thousands separators: 5.210 / 2,5 (de), 5,210 / 2.5 (en)."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=lang)
