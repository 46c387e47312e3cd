"""Exceptions of riskkit: one base class, each subclass printable as clear lines."""

from __future__ import annotations

import reprlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .i18n import Lang


class RiskkitError(Exception):
    """Base of every error riskkit raises on purpose; the CLI prints it and exits with `exit_code`."""

    exit_code = 1

    def text(self, lang: Lang) -> str:
        """The message in `lang` (riskkit/data/messages.yaml)."""
        from .messages import translate

        return translate(str(self), lang)


class _Missing:
    """The value of a key that is not there at all (as opposed to a key whose value is null)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an input file: where it is, what was found and what is allowed.

    `message` is English; `text(lang)` writes the problem in German or English. A problem found by pydantic keeps
    its error type (`code`) and context (`ctx`), from which the German is written.
    """

    file: str
    path: str
    value: Any
    message: str
    code: str = field(default="", compare=False)
    ctx: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        got = "" if self.value is MISSING else f" (got {_show(self.value)})"
        return f"{where}: {self.message}{got}"

    def text(self, lang: Lang) -> str:
        """The problem in `lang`: place, message, the value found and, for a level, the levels allowed."""
        from .messages import frame, level_hint, place, pydantic_text, translate

        path = place(self.path, lang)
        where = f"{self.file}: {path}" if path else self.file
        message = (pydantic_text(self.code, dict(self.ctx), self.message, lang) if self.code
                   else translate(self.message, lang))
        got = "" if self.value is MISSING else f" ({frame('got', lang, value=_show(self.value))})"
        hint = level_hint(self.code, self.path, lang)
        return f"{where}: {message}{got}{'; ' + hint if hint else ''}"


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 3, 80, 80
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 6
SHOWN_PER_FILE = 20


def _show(value: Any) -> str:
    """A short repr: bounded work and length however large or nested the value is."""
    text = _SHORT.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class ValidationError(RiskkitError):
    """One or more problems in input files, all collected before raising."""

    exit_code = 2

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return self.text("en", canonical=True)

    def text(self, lang: Lang, canonical: bool = False) -> str:
        """Every problem in `lang`, at most SHOWN_PER_FILE per file; `canonical`: each problem's English `str`."""
        from .messages import frame

        count = len(self.problems)
        lines = [frame("found_one", lang) if count == 1 else frame("found_many", lang, count=count)]
        per_file: dict[str, int] = {}
        for problem in self.problems:
            per_file[problem.file] = per_file.get(problem.file, 0) + 1
            if per_file[problem.file] <= SHOWN_PER_FILE:
                lines.append(f"  {problem if canonical else problem.text(lang)}")
        lines += [f"  {file}: {frame('not_shown', lang, count=n - SHOWN_PER_FILE)}"
                  for file, n in per_file.items() if n > SHOWN_PER_FILE]
        return "\n".join(lines)


class UnknownIdError(RiskkitError, KeyError):
    """An id (school, risk, catalogue, ...) that does not exist; names the ids that do."""

    exit_code = 2

    def __init__(self, kind: str, value: str, known: Iterable[str]):
        self.kind, self.value, self.known = kind, value, sorted(known)
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"unknown {self.kind} {self.value!r}; known: {', '.join(self.known) or '(none)'}"
