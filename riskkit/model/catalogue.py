"""The risk catalogue: platform modules, risks with severity, and the measures (TOMs) that lower them."""

from __future__ import annotations

from collections import Counter
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError as PydanticValidationError, model_validator

from .errors import Problem, UnknownIdError, ValidationError
from .i18n import NonEmptyStr, Text
from .method import Level
from .yamlio import parse_yaml, pydantic_problems, read_yaml

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=64)]
DamageKind = Literal["physical", "material", "non-material"]
ProtectionGoal = Literal[
    "data-minimisation", "availability", "integrity", "confidentiality",
    "unlinkability", "transparency", "intervenability",
]
Reduction = Annotated[int, Field(strict=True, ge=0, le=3)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Entry(_Model):
    """Anything with an id and a bilingual title (documents, modules, risk sources)."""

    id: NonEmptyStr
    title: Text


class Risk(_Model):
    id: Id
    title: Text
    description: Text
    damage_kinds: Annotated[list[DamageKind], Field(min_length=1)]
    protection_goals: Annotated[list[ProtectionGoal], Field(min_length=1)]
    modules: Annotated[list[Id], Field(min_length=1)]
    risk_sources: Annotated[list[Id], Field(min_length=1)]
    affected_data: Text
    severity: Level
    severity_reason: Text
    source: NonEmptyStr


class Effect(_Model):
    """How a measure lowers one risk: by n levels of likelihood and/or severity."""

    risk: Id
    likelihood: Reduction = 0
    severity: Reduction = 0

    @model_validator(mode="after")
    def _lowers_something(self) -> Effect:
        if self.likelihood == 0 and self.severity == 0:
            raise ValueError("an effect must lower likelihood or severity by at least 1")
        return self


class Measure(_Model):
    id: Id
    title: Text
    description: Text
    protection_goals: Annotated[list[ProtectionGoal], Field(min_length=1)]
    source: NonEmptyStr
    effects: Annotated[list[Effect], Field(min_length=1)]

    def effect_on(self, risk_id: str) -> Effect | None:
        return next((e for e in self.effects if e.risk == risk_id), None)


class Extension(_Model):
    """A district's additions to a shipped catalogue: its own modules, risks and measures."""

    id: Id
    version: NonEmptyStr
    documents: list[Entry] = []
    modules: list[Entry] = []
    risk_sources: list[Entry] = []
    risks: list[Risk] = []
    measures: list[Measure] = []


class Catalogue(Extension):
    """A versioned, bilingual risk catalogue."""

    title: Text
    description: Text

    @cached_property
    def risks_by_id(self) -> dict[str, Risk]:
        return {r.id: r for r in self.risks}

    @cached_property
    def measures_by_id(self) -> dict[str, Measure]:
        return {m.id: m for m in self.measures}

    @property
    def ref(self) -> str:
        """`id@version`, as reports and manifests cite it."""
        return f"{self.id}@{self.version}"

    def risk(self, risk_id: str) -> Risk:
        try:
            return self.risks_by_id[risk_id]
        except KeyError:
            raise UnknownIdError("risk", risk_id, self.risks_by_id) from None

    def measure(self, measure_id: str) -> Measure:
        try:
            return self.measures_by_id[measure_id]
        except KeyError:
            raise UnknownIdError("measure", measure_id, self.measures_by_id) from None

    def measures_for(self, risk_id: str) -> list[Measure]:
        """The measures whose effects name this risk, in catalogue order."""
        return [m for m in self.measures if m.effect_on(risk_id)]

    def module(self, module_id: str) -> Entry:
        return next(m for m in self.modules if m.id == module_id)


def shipped_catalogues() -> list[str]:
    """Ids of the catalogues shipped with riskkit."""
    folder = resources.files("riskkit") / "data" / "catalogues"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_catalogue(ref: str | Path = "school-platform", extension: Path | None = None) -> Catalogue:
    """Load a shipped catalogue by id (or a catalogue file by path), optionally with a district extension.

    Raises ValidationError listing every problem (file, key path, value, what is allowed).
    """
    catalogue, problems = read_catalogue(ref, extension)
    if problems:
        raise ValidationError(problems)
    return catalogue


def read_catalogue(ref: str | Path, extension: Path | None = None) -> tuple[Catalogue | None, list[Problem]]:
    """Like `load_catalogue`, but returns the problems instead of raising."""
    if isinstance(ref, Path) or ref.endswith((".yaml", ".yml")):
        name = str(ref)
        data, problems = read_yaml(Path(ref))
    elif ref in shipped_catalogues():
        source = resources.files("riskkit") / "data" / "catalogues" / f"{ref}.yaml"
        name = f"riskkit/data/catalogues/{ref}.yaml"
        data, problems = parse_yaml(source.read_text(encoding="utf-8"), name)
    else:
        raise UnknownIdError("catalogue", str(ref), shipped_catalogues())
    catalogue = None if problems else _validate(Catalogue, data, name, problems)
    if catalogue is not None and extension is not None:
        ext_data, ext_problems = read_yaml(extension)
        problems += ext_problems
        ext = None if ext_problems else _validate(Extension, ext_data, str(extension), problems)
        if ext is not None:
            catalogue = _merge(catalogue, ext)
            name = f"{name} + {extension}"
    if catalogue is not None:
        problems += reference_problems(catalogue, name)
    return (None if problems else catalogue), problems


def _validate(model: type[_Model], data: Any, name: str, problems: list[Problem]) -> Any:
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        problems += pydantic_problems(exc, name)
        return None


def _merge(base: Catalogue, ext: Extension) -> Catalogue:
    merged = base.model_dump()
    for key in ("documents", "modules", "risk_sources", "risks", "measures"):
        merged[key] += [item.model_dump() for item in getattr(ext, key)]
    merged["version"] = f"{base.version}+{ext.id}.{ext.version}"
    return Catalogue.model_validate(merged)


def reference_problems(cat: Catalogue, name: str) -> list[Problem]:
    """Duplicate ids and references to ids the catalogue does not define."""
    problems = []
    for key in ("documents", "modules", "risk_sources", "risks", "measures"):
        for item_id, count in Counter(item.id for item in getattr(cat, key)).items():
            if count > 1:
                problems.append(Problem(name, key, item_id, f"id defined {count} times; ids must be unique"))

    def check(path: str, value: str, known: list[str]) -> None:
        if value not in known:
            problems.append(Problem(name, path, value, f"unknown id; allowed: {', '.join(known)}"))

    documents = [d.id for d in cat.documents]
    modules = [m.id for m in cat.modules]
    sources = [s.id for s in cat.risk_sources]
    risks = [r.id for r in cat.risks]
    for i, risk in enumerate(cat.risks):
        check(f"risks[{i}].source", risk.source, documents)
        for j, module in enumerate(risk.modules):
            check(f"risks[{i}].modules[{j}]", module, modules)
        for j, source in enumerate(risk.risk_sources):
            check(f"risks[{i}].risk_sources[{j}]", source, sources)
    for i, measure in enumerate(cat.measures):
        check(f"measures[{i}].source", measure.source, documents)
        for j, effect in enumerate(measure.effects):
            check(f"measures[{i}].effects[{j}].risk", effect.risk, risks)
    return problems
