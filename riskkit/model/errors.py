"""Exceptions of riskkit: one base class, each subclass printable as clear lines."""

from __future__ import annotations

import reprlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class RiskkitError(Exception):
    """Base of every error riskkit raises on purpose; the CLI prints it and exits with `exit_code`."""

    exit_code = 1


class _Missing:
    """The value of a key that is not there at all (as opposed to a key whose value is null)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an input file: where it is, what was found and what is allowed."""

    file: str
    path: str
    value: Any
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        got = "" if self.value is MISSING else f" (got {_show(self.value)})"
        return f"{where}: {self.message}{got}"


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
        count = len(self.problems)
        lines = [f"{count} problem{'s' if count != 1 else ''} found:"]
        per_file: dict[str, int] = {}
        for problem in self.problems:
            per_file[problem.file] = per_file.get(problem.file, 0) + 1
            if per_file[problem.file] <= SHOWN_PER_FILE:
                lines.append(f"  {problem}")
        lines += [f"  {file}: {n - SHOWN_PER_FILE} more problems not shown"
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
