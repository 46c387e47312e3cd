"""The catalogue: platform modules with their processing description, risks with severity, the measures (TOMs) that
lower them, and the DSFA's question sets (threshold criteria, necessity and rights), with migrations between versions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import cache, cached_property
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
    """Anything with an id and a bilingual title (risk sources, data subjects)."""

    id: NonEmptyStr
    title: Text


class Document(Entry):
    """A source document the catalogue cites, with its public address where it has one."""

    url: str | None = None


class Fact(Text):
    """A fact of the processing description, citing the document it comes from."""

    source: NonEmptyStr


class Processing(_Model):
    """The systematic description of one module's processing (Art. 35(7)(a) GDPR)."""

    purposes: list[Fact] = []
    data_categories: list[Fact] = []
    data_subjects: list[Id] = []
    recipients: list[Fact] = []
    retention: list[Fact] = []
    storage: list[Fact] = []
    legal_bases: list[Id] = []
    processors: list[Fact] = []


class Module(Entry):
    """A platform module; a mandatory one cannot be switched off by a school."""

    mandatory: bool = False
    processing: Processing = Processing()


class LegalBasis(Entry):
    article: Text
    note: Text | None = None


class DataCategory(Entry):
    """A category of data a school may declare it also processes on the platform; `special`: Art. 9 GDPR."""

    special: bool = False


class SeverityRule(_Model):
    """Declared extra data raise the severity of these risks to at least `severity`."""

    category: Id
    risks: Annotated[list[Id], Field(min_length=1)]
    severity: Level
    reason: Text


Answer = Literal["yes", "no", "unknown"]


class ThresholdCriterion(Entry):
    """A criterion of the threshold analysis. `list`: on the authorities' list, one yes requires a DSFA;
    `criterion`: two or more yes require one."""

    kind: Literal["criterion", "list"] = "criterion"
    guidance: Text
    reference: Text
    platform_answer: Answer = "unknown"
    platform_reason: Text | None = None


QuestionStatus = Literal["met", "partly", "not-met", "not-applicable"]


class DefaultAnswer(_Model):
    """The vendor's standard answer, offered for the school to confirm or replace."""

    status: QuestionStatus
    text: Text
    source: NonEmptyStr


QuestionPart = Literal["lawfulness", "principles", "rights", "necessity"]
QUESTION_PARTS: tuple[QuestionPart, ...] = ("lawfulness", "principles", "rights", "necessity")


class Question(Entry):
    """A question of Art. 35(7)(b) in the part of the EDPB template it belongs to: lawfulness, the principles of
    Art. 5(1) and data protection by design, data subjects' rights (with processors and transfers), necessity."""

    part: QuestionPart
    guidance: Text
    reference: Text
    default: DefaultAnswer | None = None


class Terms(_Model):
    """Words that identify a measure in a text, per language."""

    de: list[NonEmptyStr] = []
    en: list[NonEmptyStr] = []


class Migration(_Model):
    """How ids of an older catalogue version map to this one: renamed (`a: b`), split (`a: [b, c]`), removed (`a: null`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_version: NonEmptyStr = Field(alias="from")
    risks: dict[str, Id | list[Id] | None] = {}
    measures: dict[str, Id | None] = {}


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
    sources: list[NonEmptyStr] = []
    since: NonEmptyStr | None = None


class Reductions(_Model):
    likelihood: Reduction = 0
    severity: Reduction = 0


class Effect(_Model):
    """How a measure lowers one risk: by n levels of likelihood and/or severity; `partial`: what it counts for when
    the school has it only in part (default: nothing)."""

    risk: Id
    likelihood: Reduction = 0
    severity: Reduction = 0
    partial: Reductions = Reductions()

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
    terms: Terms = Terms()
    effects: Annotated[list[Effect], Field(min_length=1)]

    def effect_on(self, risk_id: str) -> Effect | None:
        return self.effects_by_risk.get(risk_id)

    @cached_property
    def effects_by_risk(self) -> dict[str, Effect]:
        return {e.risk: e for e in reversed(self.effects)}  # the first effect on a risk counts


class Extension(_Model):
    """A district's additions to a shipped catalogue: its own modules, risks and measures."""

    id: Id
    version: NonEmptyStr
    documents: list[Document] = []
    data_subjects: list[Entry] = []
    legal_bases: list[LegalBasis] = []
    extra_data_categories: list[DataCategory] = []
    severity_rules: list[SeverityRule] = []
    modules: list[Module] = []
    risk_sources: list[Entry] = []
    threshold_criteria: list[ThresholdCriterion] = []
    questions: list[Question] = []
    risks: list[Risk] = []
    measures: list[Measure] = []


class Catalogue(Extension):
    """A versioned, bilingual risk catalogue."""

    title: Text
    description: Text
    migrations: list[Migration] = []

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

    @cached_property
    def measures_by_risk(self) -> dict[str, list[Measure]]:
        """Per risk id, the measures whose effects name it, in catalogue order (looked up once per file and risk)."""
        by_risk: dict[str, list[Measure]] = {}
        for measure in self.measures:
            for risk_id in dict.fromkeys(e.risk for e in measure.effects):
                by_risk.setdefault(risk_id, []).append(measure)
        return by_risk

    def measures_for(self, risk_id: str) -> list[Measure]:
        """The measures whose effects name this risk, in catalogue order."""
        return list(self.measures_by_risk.get(risk_id, ()))

    @cached_property
    def modules_by_id(self) -> dict[str, Module]:
        return {m.id: m for m in self.modules}

    @cached_property
    def mandatory_modules(self) -> frozenset[str]:
        return frozenset(m.id for m in self.modules if m.mandatory)

    def module(self, module_id: str) -> Module:
        return self.modules_by_id[module_id]

    def document(self, document_id: str) -> Document:
        return next(d for d in self.documents if d.id == document_id)

    def severity_floor(self, risk_id: str, categories: Iterable[str]) -> SeverityRule | None:
        """The rule that raises this risk's severity most for the declared data categories, if any."""
        declared = set(categories)
        rules = [r for r in self.severity_rules if r.category in declared and risk_id in r.risks]
        return max(rules, key=lambda r: r.severity, default=None)


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
        catalogue = None if problems else _validate(Catalogue, data, name, problems)
    elif ref in shipped_catalogues():
        name = f"riskkit/data/catalogues/{ref}.yaml"
        catalogue, shipped_problems = _shipped(ref)
        problems = list(shipped_problems)
    else:
        raise UnknownIdError("catalogue", str(ref), shipped_catalogues())
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


@cache
def _shipped(ref: str) -> tuple[Catalogue | None, tuple[Problem, ...]]:
    """A catalogue shipped with riskkit, parsed and validated once per process (a kernel rendering one report after
    another reads it once, not once per school: ~0.15 s each)."""
    name = f"riskkit/data/catalogues/{ref}.yaml"
    data, problems = parse_yaml((resources.files("riskkit") / "data" / "catalogues" / f"{ref}.yaml").read_text(
        encoding="utf-8"), name)
    return (None if problems else _validate(Catalogue, data, name, problems)), tuple(problems)


LISTS = (
    "documents", "data_subjects", "legal_bases", "extra_data_categories", "modules", "risk_sources",
    "threshold_criteria", "questions", "risks", "measures",
)


def _validate(model: type[_Model], data: Any, name: str, problems: list[Problem]) -> Any:
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        problems += pydantic_problems(exc, name)
        return None


def _merge(base: Catalogue, ext: Extension) -> Catalogue:
    merged = base.model_dump(by_alias=True)
    for key in (*LISTS, "severity_rules"):
        merged[key] += [item.model_dump(by_alias=True) for item in getattr(ext, key)]
    merged["version"] = f"{base.version}+{ext.id}.{ext.version}"
    return Catalogue.model_validate(merged)


def reference_problems(cat: Catalogue, name: str) -> list[Problem]:
    """Duplicate ids and references to ids the catalogue does not define."""
    problems = []
    for key in LISTS:
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
    subjects = [s.id for s in cat.data_subjects]
    bases = [b.id for b in cat.legal_bases]
    categories = [c.id for c in cat.extra_data_categories]
    for i, module in enumerate(cat.modules):
        processing = module.processing
        for field in ("purposes", "data_categories", "recipients", "retention", "storage", "processors"):
            for j, fact in enumerate(getattr(processing, field)):
                check(f"modules[{i}].processing.{field}[{j}].source", fact.source, documents)
        for j, subject in enumerate(processing.data_subjects):
            check(f"modules[{i}].processing.data_subjects[{j}]", subject, subjects)
        for j, basis in enumerate(processing.legal_bases):
            check(f"modules[{i}].processing.legal_bases[{j}]", basis, bases)
    for i, rule in enumerate(cat.severity_rules):
        check(f"severity_rules[{i}].category", rule.category, categories)
        for j, risk_id in enumerate(rule.risks):
            check(f"severity_rules[{i}].risks[{j}]", risk_id, risks)
    for i, question in enumerate(cat.questions):
        if question.default:
            check(f"questions[{i}].default.source", question.default.source, documents)
    for i, risk in enumerate(cat.risks):
        for j, source in enumerate([risk.source, *risk.sources]):
            check(f"risks[{i}].source" if j == 0 else f"risks[{i}].sources[{j - 1}]", source, documents)
        for j, module in enumerate(risk.modules):
            check(f"risks[{i}].modules[{j}]", module, modules)
        for j, source in enumerate(risk.risk_sources):
            check(f"risks[{i}].risk_sources[{j}]", source, sources)
    for i, measure in enumerate(cat.measures):
        check(f"measures[{i}].source", measure.source, documents)
        for j, effect in enumerate(measure.effects):
            check(f"measures[{i}].effects[{j}].risk", effect.risk, risks)
    return problems + double_counting_problems(cat, name)


def double_counting_problems(cat: Catalogue, name: str) -> list[Problem]:
    """A severity reason describes the harm without measures: it must not name a measure that lowers that risk."""
    problems = []
    for i, measure in enumerate(cat.measures):
        for effect in measure.effects:
            risk = cat.risks_by_id.get(effect.risk)
            if risk is None:
                continue
            for lang in ("de", "en"):
                reason = risk.severity_reason[lang].casefold()
                for term in getattr(measure.terms, lang):
                    if term.casefold() in reason:
                        problems.append(Problem(
                            name, f"risks[{cat.risks.index(risk)}].severity_reason.{lang}", term,
                            f"the severity reason names measure {measure.id!r}, which lowers this risk: describe the"
                            " harm without measures, or the measure counts twice",
                        ))
    return problems
