"""Exceptions of riskkit: one base class, each subclass printable as clear lines."""

from __future__ import annotations

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


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class ValidationError(RiskkitError):
    """One or more problems in input files, all collected before raising."""

    exit_code = 2

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} found:"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


class UnknownIdError(RiskkitError, KeyError):
    """An id (school, risk, catalogue, ...) that does not exist; names the ids that do."""

    exit_code = 2

    def __init__(self, kind: str, value: str, known: Iterable[str]):
        self.kind, self.value, self.known = kind, value, sorted(known)
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"unknown {self.kind} {self.value!r}; known: {', '.join(self.known) or '(none)'}"
