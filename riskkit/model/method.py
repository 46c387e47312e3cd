"""The assessment method: DSK risk matrix (likelihood x severity), residual risk, review dates."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import cache
from numbers import Integral
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field, ValidationError as PydanticValidationError, model_validator

from .errors import Problem, ValidationError
from .i18n import Lang, Text
from .yamlio import parse_yaml, pydantic_problems, read_yaml

LEVELS = (1, 2, 3, 4)
RISK_LEVELS = ("low", "medium", "high")
Level = Annotated[int, Field(strict=True, ge=1, le=4)]
RiskLevel = Literal["low", "medium", "high"]
FourLevels = Annotated[dict[Level, Text], Field(min_length=4, max_length=4)]


class Matrix(BaseModel):
    """A 4x4 risk matrix with level names and guidance, loaded from YAML."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    title: Text
    note: Text | None = None
    levels: FourLevels
    likelihood_guidance: FourLevels
    severity_guidance: FourLevels
    risk_levels: dict[RiskLevel, Text]
    max_reduction: Annotated[int, Field(strict=True, ge=0, le=3)] = 2
    table: Annotated[dict[Level, Annotated[list[RiskLevel], Field(min_length=4, max_length=4)]], Field(min_length=4, max_length=4)]

    @model_validator(mode="after")
    def _monotone(self) -> Matrix:
        rank = {name: i for i, name in enumerate(RISK_LEVELS)}
        for s in LEVELS:
            for l in LEVELS:
                here = rank[self.table[s][l - 1]]
                if (l > 1 and rank[self.table[s][l - 2]] > here) or (s > 1 and rank[self.table[s - 1][l - 1]] > here):
                    raise ValueError(
                        f"table must not fall as likelihood or severity rise (at severity {s}, likelihood {l})"
                    )
        if set(self.risk_levels) != set(RISK_LEVELS):
            raise ValueError(f"risk_levels must name exactly {', '.join(RISK_LEVELS)}")
        return self

    def classify(self, likelihood: int, severity: int) -> RiskLevel:
        """Risk level of a likelihood and a severity (each 1-4)."""
        likelihood, severity = _level("likelihood", likelihood), _level("severity", severity)
        return self.table[severity][likelihood - 1]

    def level_name(self, level: int, lang: Lang) -> str:
        return self.levels[level][lang]

    def risk_level_name(self, risk_level: RiskLevel, lang: Lang) -> str:
        return self.risk_levels[risk_level][lang]


def _level(name: str, value: object) -> int:
    """The value as a level 1-4; integers of any kind (numpy's too) are fine, bools and floats are not."""
    if type(value) is int and 1 <= value <= 4:  # the common case, without the slower checks below
        return value
    if isinstance(value, bool) or not isinstance(value, Integral) or value not in LEVELS:
        raise ValueError(f"{name} must be an integer 1-4, got {value!r}")
    return int(value)


def load_matrix(path: Path | None = None) -> Matrix:
    """Load a matrix from YAML; without a path, the DSK default shipped with riskkit."""
    if path is None:
        return default_matrix()
    data, problems = read_yaml(Path(path))
    return _build_matrix(data, str(path), problems)


@cache
def default_matrix() -> Matrix:
    """The default matrix: the staircase based on DSK short paper no. 18 (see its `note`)."""
    source = resources.files("riskkit") / "data" / "matrices" / "dsk-kp18.yaml"
    data, problems = parse_yaml(source.read_text(encoding="utf-8"), str(source))
    return _build_matrix(data, str(source), problems)


def _build_matrix(data: object, name: str, problems: list[Problem]) -> Matrix:
    if not problems:
        try:
            return Matrix.model_validate(data)
        except PydanticValidationError as exc:
            problems = pydantic_problems(exc, name)
    raise ValidationError(problems)


def classify(likelihood: int, severity: int, matrix: Matrix | None = None) -> RiskLevel:
    """Risk level ("low", "medium" or "high") of likelihood x severity; DSK default matrix unless given."""
    return (matrix or default_matrix()).classify(likelihood, severity)


def residual(
    likelihood: int, severity: int, reductions: Iterable[tuple[int, int]], max_reduction: int = 2
) -> tuple[int, int]:
    """Likelihood and severity after measures: (likelihood, severity) reductions add up, capped, never below 1."""
    cut_l = cut_s = 0
    for dl, ds in reductions:
        cut_l, cut_s = cut_l + dl, cut_s + ds
    return (
        max(1, likelihood - min(cut_l, max_reduction)),
        max(1, severity - min(cut_s, max_reduction)),
    )


def next_review(assessed_on: date, interval_months: int) -> date:
    """The review date by the district's policy (`review_interval_months`). The GDPR asks for a review when the risk
    changes (Art. 35(11)); a fixed interval is the district's rule, not a legal deadline."""
    return assessed_on + relativedelta(months=interval_months)
