"""A district: its settings, catalogue, matrix and every school's assessment, with tables for analysts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from . import method
from .assessment import RiskResult, SchoolAssessment, read_school, save_school
from .catalogue import Catalogue, read_catalogue
from .errors import Problem, RiskkitError, UnknownIdError, ValidationError
from .i18n import Lang, NonEmptyStr
from .method import RISK_LEVELS, Matrix
from .yamlio import pydantic_problems, read_yaml

if TYPE_CHECKING:
    import pandas as pd

DISTRICT_FILE = "district.yaml"
SCHOOLS_DIR = "schools"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Officer(_Model):
    """The district's school data-protection officer."""

    name: NonEmptyStr
    email: str | None = None
    phone: str | None = None


class DistrictConfig(_Model):
    """`data/<district>/district.yaml`."""

    name: NonEmptyStr
    dpo: Officer
    catalogue: NonEmptyStr = "school-platform"
    catalogue_extension: str | None = None
    matrix: str | None = None
    language: Lang = "de"
    review_interval_months: Annotated[int, Field(strict=True, ge=1, le=60)] = 12


@dataclass
class District:
    """A loaded, validated district. `schools` maps school id -> assessment, sorted by id."""

    path: Path
    config: DistrictConfig
    catalogue: Catalogue
    matrix: Matrix
    schools: dict[str, SchoolAssessment] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The folder name; reports go to `reports/<district-id>/`."""
        return self.path.resolve().name

    @property
    def schools_dir(self) -> Path:
        return self.path / SCHOOLS_DIR

    def school(self, school_id: str) -> SchoolAssessment:
        try:
            return self.schools[school_id]
        except KeyError:
            raise UnknownIdError("school", school_id, self.schools) from None

    def evaluate(self, school_id: str) -> list[RiskResult]:
        """Inherent and residual risk of every catalogue risk at this school."""
        return self.school(school_id).evaluate(self.catalogue, self.matrix)

    def next_review(self, school_id: str) -> date:
        return method.next_review(self.school(school_id).assessed_on, self.config.review_interval_months)

    def save_school(self, assessment: SchoolAssessment, under_lock: Callable[[Path], None] | None = None) -> Path:
        """Validate and atomically write a school's file under its lock (see `assessment.save_school`), then keep it
        in this district."""
        path = save_school(assessment, self.schools_dir, self.catalogue, under_lock)
        self.schools = dict(sorted({**self.schools, assessment.school.id: assessment}.items()))
        return path

    def results(self, today: date | None = None) -> pd.DataFrame:
        """One row per school and catalogue risk; risks a school has not assessed have empty levels."""
        import pandas as pd

        today = today or date.today()
        rows = []
        for school_id, assessment in self.schools.items():
            next_review = self.next_review(school_id)
            for r in self.evaluate(school_id):
                rows.append({
                    "school_id": school_id,
                    "school_name": assessment.school.name,
                    "school_kind": assessment.school.kind,
                    "risk_id": r.risk.id,
                    "assessed": r.assessed,
                    "likelihood": r.likelihood,
                    "severity": r.severity,
                    "inherent_level": r.inherent_level,
                    "measures_in_place": list(r.entry.measures_in_place) if r.entry else [],
                    "measures_planned": [p.measure for p in r.entry.measures_planned] if r.entry else [],
                    "residual_likelihood": r.residual_likelihood,
                    "residual_severity": r.residual_severity,
                    "residual_level": r.residual_level,
                    "overridden": r.overridden,
                    "prior_consultation": r.prior_consultation,
                    "reason": r.entry.reason if r.entry else None,
                    "assessed_on": assessment.assessed_on,
                    "next_review": next_review,
                    "review_overdue": next_review < today,
                })
        frame = pd.DataFrame(rows, columns=RESULT_COLUMNS)
        for column in ("likelihood", "severity", "residual_likelihood", "residual_severity"):
            frame[column] = frame[column].astype("Int64")
        for column in ("inherent_level", "residual_level"):
            frame[column] = pd.Categorical(frame[column], categories=RISK_LEVELS, ordered=True)
        return frame

    def summary(self, today: date | None = None) -> pd.DataFrame:
        """One row per school: residual levels counted, open risks, review date, Art. 36 flag."""
        import pandas as pd

        results = self.results(today)
        counts = pd.crosstab(results["school_id"], results["residual_level"]).reindex(
            index=list(self.schools), columns=list(RISK_LEVELS), fill_value=0
        )
        grouped = results.groupby("school_id", sort=False)
        frame = pd.DataFrame({
            "school_name": grouped["school_name"].first(),
            "school_kind": grouped["school_kind"].first(),
            "assessed_on": grouped["assessed_on"].first(),
            "next_review": grouped["next_review"].first(),
            "review_overdue": grouped["review_overdue"].first(),
            "open": grouped["assessed"].apply(lambda s: int((~s).sum())),
            **{f"residual_{level}": counts[level] for level in RISK_LEVELS},
            "prior_consultation": grouped["prior_consultation"].any(),
        })
        frame.index.name = "school_id"
        return frame


RESULT_COLUMNS = [
    "school_id", "school_name", "school_kind", "risk_id", "assessed", "likelihood", "severity", "inherent_level",
    "measures_in_place", "measures_planned", "residual_likelihood", "residual_severity", "residual_level",
    "overridden", "prior_consultation", "reason", "assessed_on", "next_review", "review_overdue",
]


def load_district(path: str | Path, only: Iterable[str] | None = None) -> District:
    """Load and validate a district folder; raises ValidationError with every problem of every file.

    `only` loads just these schools (e.g. the one a report is about), which keeps large districts fast.
    """
    district, problems = read_district(path, only)
    if problems:
        raise ValidationError(problems)
    return district


def read_district(path: str | Path, only: Iterable[str] | None = None) -> tuple[District, list[Problem]]:
    """Load a district, keeping its valid schools and returning the problems of the invalid school files.

    Raises ValidationError only when district.yaml, the catalogue or the matrix is invalid (nothing can be judged then).
    """
    path = Path(path)
    config_file = path / DISTRICT_FILE
    if not config_file.is_file():
        raise RiskkitError(f"{path}: not a district folder (no {DISTRICT_FILE} in it)")
    data, problems = read_yaml(config_file)
    config = None
    if not problems:
        try:
            config = DistrictConfig.model_validate(data)
        except PydanticValidationError as exc:
            problems = pydantic_problems(exc, str(config_file))
    if config is None:
        raise ValidationError(problems)

    catalogue, matrix = _catalogue_and_matrix(path, config, str(config_file), problems)
    district_problems = bool(problems)
    schools: dict[str, SchoolAssessment] = {}
    if catalogue is not None:
        files = _school_files(path / SCHOOLS_DIR, problems)
        if only is not None:
            wanted = set(only)
            for school_id in sorted(wanted - {f.stem for f in files}):
                raise UnknownIdError("school", school_id, [f.stem for f in files])
            files = [f for f in files if f.stem in wanted]
        for school_file in files:
            assessment, school_problems = read_school(school_file, catalogue)
            problems += school_problems
            if assessment is not None:
                schools[assessment.school.id] = assessment
    if district_problems:
        raise ValidationError(problems)
    return District(path, config, catalogue, matrix, dict(sorted(schools.items()))), problems


def _catalogue_and_matrix(
    path: Path, config: DistrictConfig, name: str, problems: list[Problem]
) -> tuple[Catalogue | None, Matrix | None]:
    extension = path / config.catalogue_extension if config.catalogue_extension else None
    try:
        catalogue, catalogue_problems = read_catalogue(config.catalogue, extension)
    except UnknownIdError as exc:
        catalogue, catalogue_problems = None, [Problem(name, "catalogue", exc.value, f"unknown catalogue; shipped: {', '.join(exc.known)}")]
    problems += catalogue_problems
    try:
        matrix = method.load_matrix(path / config.matrix if config.matrix else None)
    except ValidationError as exc:
        matrix = None
        problems += exc.problems
    return catalogue, matrix


def school_files(folder: Path) -> list[Path]:
    """Every school file in a district's schools folder, sorted (*.yaml, *.yml; hidden and temp files skipped)."""
    if not folder.is_dir():
        return []
    return [f for f in sorted(folder.iterdir())
            if f.suffix in (".yaml", ".yml") and not f.name.startswith(".") and f.is_file()]


def _school_files(folder: Path, problems: list[Problem]) -> list[Path]:
    """The school files, one per id; two files for one id are a problem."""
    by_id: dict[str, list[Path]] = defaultdict(list)
    for file in school_files(folder):
        by_id[file.stem.casefold()].append(file)
    for files in by_id.values():
        if len(files) > 1:
            names = ", ".join(f.name for f in files)
            problems.append(Problem(str(folder), "", names, "duplicate school id: one file per school"))
    return [files[0] for files in by_id.values() if len(files) == 1]
