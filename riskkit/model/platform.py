"""The platform as a school runs it: modules in use and for whom, hosting, operation, size, extra data categories."""

from __future__ import annotations

from typing import Literal

from .fields import Count, IsoDate, StrictModel
from .i18n import NonEmptyStr

Hosting = Literal["own-server", "cloud"]
Operation = Literal["planned", "running"]
HOSTINGS: tuple[Hosting, ...] = ("own-server", "cloud")
OPERATIONS: tuple[Operation, ...] = ("planned", "running")


class ModuleUse(StrictModel):
    """One module the school has switched on: its legal basis and, optionally, for which groups."""

    legal_basis: NonEmptyStr | None = None
    groups: NonEmptyStr | None = None


class Platform(StrictModel):
    """`platform:` of a school file. Modules not listed are switched off at this school."""

    hosting: Hosting | None = None
    operation: Operation = "planned"
    running_since: IsoDate | None = None
    pupils: Count | None = None
    staff: Count | None = None
    extra_data: list[NonEmptyStr] = []
    modules: dict[str, ModuleUse] = {}
