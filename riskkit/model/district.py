"""A district: its settings, catalogue, matrix and every school's assessment, with tables for analysts."""

from __future__ import annotations

import multiprocessing
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from . import method
from .assessment import Migrated, RiskResult, SchoolAssessment, read_school_file, save_school
from .catalogue import Catalogue, read_catalogue
from .errors import Problem, RiskkitError, UnknownIdError, ValidationError
from .assessment import SchoolKind
from .dsfa import ThresholdAnswer
from .fields import IsoDate
from .i18n import LANGUAGES, Lang, NonEmptyStr, Text, label
from .status import STEPS, DsfaStatus, Threshold, dsfa_status, threshold
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


class Authority(_Model):
    """The school authority (Schulträger): often processor or contract partner for the platform."""

    name: NonEmptyStr
    role: NonEmptyStr | None = None
    contact: NonEmptyStr | None = None


class Processor(_Model):
    """A processor (Art. 28 GDPR) of the platform, with its agreement, sub-processors and hosting."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=64)]
    name: NonEmptyStr
    role: NonEmptyStr
    agreement_date: IsoDate | None = None
    sub_processors: list[NonEmptyStr] = []
    hosting: NonEmptyStr | None = None


class Council(_Model):
    """A body representing data subjects whose views are sought (Art. 35(9)); its name as the state calls it."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=64)]
    title: Text


DEFAULT_COUNCILS = ("parents", "pupils", "staff")


class DistrictConfig(_Model):
    """`data/<district>/district.yaml`."""

    name: NonEmptyStr
    dpo: Officer
    catalogue: NonEmptyStr = "school-platform"
    catalogue_extension: str | None = None
    matrix: str | None = None
    language: Lang = "de"
    review_interval_months: Annotated[int, Field(strict=True, ge=1, le=60)] = 12
    state: NonEmptyStr | None = None
    legal_reference: Text | None = None
    school_authority: Authority | None = None
    processors: list[Processor] = []
    school_kinds: dict[SchoolKind, Text] = {}
    councils: list[Council] | None = None
    threshold: dict[str, ThresholdAnswer] = {}

    def council_list(self) -> list[Council]:
        """The councils whose views a school records; the district names them, else riskkit's generic names."""
        if self.councils is not None:
            return self.councils
        return [Council(id=c, title=Text(de=label(f"council.{c}", "de"), en=label(f"council.{c}", "en")))
                for c in DEFAULT_COUNCILS]

    def kind_name(self, kind: str, lang: Lang) -> str:
        """A school kind as this district's state names it."""
        return self.school_kinds[kind][lang] if kind in self.school_kinds else label(f"kind.{kind}", lang)


@dataclass
class District:
    """A loaded, validated district. `schools` maps school id -> assessment, sorted by id."""

    path: Path
    config: DistrictConfig
    catalogue: Catalogue
    matrix: Matrix
    schools: dict[str, SchoolAssessment] = field(default_factory=dict)
    migrations: dict[str, Migrated] = field(default_factory=dict)  # schools read through the migration table
    _evaluated: dict[str, tuple[SchoolAssessment, list[RiskResult]]] = field(default_factory=dict, repr=False)

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
        """Inherent and residual risk of every catalogue risk at this school (computed once per loaded assessment)."""
        assessment = self.school(school_id)
        cached = self._evaluated.get(school_id)
        if cached is None or cached[0] is not assessment:
            migrated = self.migrations.get(school_id)
            results = assessment.evaluate(self.catalogue, self.matrix, migrated.from_version if migrated else None)
            cached = self._evaluated[school_id] = (assessment, results)
        return cached[1]

    def status(self, school_id: str) -> DsfaStatus:
        """Where the school's DSFA stands (draft, complete, advised, decided) and what blocks the next step."""
        return dsfa_status(self.catalogue, self.config, self.school(school_id), self.evaluate(school_id))

    def threshold(self, school_id: str) -> Threshold:
        return threshold(self.catalogue, self.config, self.school(school_id))

    def next_review(self, school_id: str) -> date:
        return method.next_review(self.school(school_id).assessed_on, self.config.review_interval_months)

    def save_school(self, assessment: SchoolAssessment, under_lock: Callable[[Path], None] | None = None) -> Path:
        """Validate and atomically write a school's file under its lock (see `assessment.save_school`), then keep it
        in this district."""
        path = save_school(assessment, self.schools_dir, self.catalogue, under_lock)
        self.schools = dict(sorted({**self.schools, assessment.school.id: assessment}.items()))
        self.migrations.pop(assessment.school.id, None)
        return path

    def results(self, today: date | None = None) -> pd.DataFrame:
        """One row per school and catalogue risk; risks a school has not assessed have empty levels."""
        import pandas as pd

        today = today or date.today()
        rows = []  # tuples in RESULT_COLUMNS order: a table of a million rows is built without a dict per row
        for school_id, assessment in self.schools.items():
            next_review = self.next_review(school_id)
            school, assessed_on, overdue = assessment.school, assessment.assessed_on, next_review < today
            for r in self.evaluate(school_id):
                applicable, entry = r.applicable, r.entry
                assessed = applicable and entry is not None
                in_place = entry.in_place() if assessed else []
                rows.append((
                    school_id, school.name, school.kind, r.risk.id, applicable, assessed,
                    entry.likelihood if assessed else None,
                    r.severity if applicable else None,
                    r.severity_source != "catalogue" if applicable else False,
                    r.inherent_level,
                    [m for m, _ in in_place],
                    [m for m, part in in_place if part],
                    [p.measure for p in entry.measures_planned] if assessed else [],
                    r.residual_likelihood, r.residual_severity, r.residual_level,
                    r.override is not None, r.residual_level == "high",
                    entry.reason if assessed else None,
                    assessed_on, next_review, overdue,
                ))
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
            "open": (results["applicable"] & ~results["assessed"]).groupby(results["school_id"], sort=False).sum(),
            "not_applicable": grouped["applicable"].apply(lambda s: int((~s).sum())),
            **{f"residual_{level}": counts[level] for level in RISK_LEVELS},
            "prior_consultation": grouped["prior_consultation"].any(),
        })
        statuses = {school_id: self.status(school_id) for school_id in self.schools}
        frame["status"] = pd.Categorical([statuses[i].step for i in frame.index], categories=STEPS, ordered=True)
        frame["blockers"] = [statuses[i].blockers_text(self.config.language) for i in frame.index]
        frame.index.name = "school_id"
        return frame


RESULT_COLUMNS = [
    "school_id", "school_name", "school_kind", "risk_id", "applicable", "assessed", "likelihood", "severity",
    "severity_raised", "inherent_level", "measures_in_place", "measures_partial", "measures_planned",
    "residual_likelihood", "residual_severity", "residual_level",
    "overridden", "prior_consultation", "reason", "assessed_on", "next_review", "review_overdue",
]


def district_language(path: str | Path) -> Lang:
    """The language named in a district folder's district.yaml, read leniently (German when it cannot be read)."""
    data = read_yaml(Path(path) / DISTRICT_FILE)[0]
    lang = data.get("language") if isinstance(data, dict) else None
    return lang if lang in LANGUAGES else "de"


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
    migrations: dict[str, Migrated] = {}
    if catalogue is not None:
        problems += config_problems(config, catalogue, str(config_file))
        district_problems = bool(problems)
        files = _school_files(path / SCHOOLS_DIR, problems)
        if only is not None:
            wanted = set(only)
            for school_id in sorted(wanted - {f.stem for f in files}):
                raise UnknownIdError("school", school_id, [f.stem for f in files])
            files = [f for f in files if f.stem in wanted]
        for school_file, (assessment, school_problems, migrated) in zip(files, read_school_files(files, catalogue)):
            problems += school_problems + council_problems(config, assessment, school_file)
            if assessment is not None:
                schools[assessment.school.id] = assessment
                if migrated:
                    migrations[assessment.school.id] = migrated
    if district_problems:
        raise ValidationError(problems)
    return District(path, config, catalogue, matrix, dict(sorted(schools.items())), migrations), problems


# Below this many files one process reads them all; above, a pool of processes reads chunks of CHUNK_FILES (starting
# a worker costs ~1 s, reading a file ~2-4 ms, so the pool pays off from about two thousand files).
PARALLEL_FILES = 2_000
CHUNK_FILES = 500
_reader_catalogue: Catalogue | None = None


def read_school_files(
    files: Sequence[Path], catalogue: Catalogue, workers: int | None = None
) -> list[tuple[SchoolAssessment | None, list[Problem], Migrated | None]]:
    """`read_school_file` for each file, in order: in this process for a few files, in a pool of `workers` processes
    (default: one per core) for many. Each file is read and checked exactly as alone, so the problems are the same."""
    count = min(workers or os.cpu_count() or 1, -(-len(files) // CHUNK_FILES))
    if len(files) < PARALLEL_FILES or count < 2 or multiprocessing.current_process().daemon:
        return [read_school_file(f, catalogue) for f in files]
    chunks = [list(files[i:i + CHUNK_FILES]) for i in range(0, len(files), CHUNK_FILES)]
    with ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_init_reader, initargs=(catalogue,)) as pool:
        return [item for chunk in pool.map(_read_chunk, chunks) for item in chunk]


def _init_reader(catalogue: Catalogue) -> None:
    global _reader_catalogue
    _reader_catalogue = catalogue


def _read_chunk(files: list[Path]) -> list[tuple[SchoolAssessment | None, list[Problem], Migrated | None]]:
    assert _reader_catalogue is not None
    return [read_school_file(f, _reader_catalogue) for f in files]


def council_problems(config: DistrictConfig, assessment: SchoolAssessment | None, file: Path) -> list[Problem]:
    """Views recorded for councils the district does not name."""
    if assessment is None:
        return []
    known = [c.id for c in config.council_list()]
    return [Problem(str(file), f"dsfa.views.{council}", council, f"unknown council; allowed: {', '.join(known)}")
            for council in assessment.dsfa.views if council not in known]


def config_problems(config: DistrictConfig, catalogue: Catalogue, file: str) -> list[Problem]:
    """Threshold answers of district.yaml for criteria the catalogue does not have."""
    known = [c.id for c in catalogue.threshold_criteria]
    return [Problem(file, f"threshold.{criterion}", criterion, f"unknown threshold criterion; allowed: {', '.join(known)}")
            for criterion in config.threshold if criterion not in known]


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
