"""Field types shared by the school and district files: strict models, ISO dates, safe school ids."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

_ID = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def check_school_id(value: str) -> str:
    """A school id becomes a file name: lowercase letters, digits, '-' and '_' only, no device names."""
    if not _ID.fullmatch(value):
        raise ValueError(
            "school id must be 1-64 characters a-z, 0-9, '-' or '_', starting and ending with a letter"
            " or digit (it becomes a file name)"
        )
    if value in _RESERVED:
        raise ValueError("school id must not be a reserved device name (con, prn, aux, nul, com0-9, lpt0-9)")
    return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip())):
        return value.strip() if isinstance(value, str) else value
    raise ValueError("must be a date written YYYY-MM-DD")


SchoolId = Annotated[str, Field(strict=True), AfterValidator(check_school_id)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Count = Annotated[int, Field(strict=True, ge=0, le=1_000_000)]


class StrictModel(BaseModel):
    """Unknown keys are errors; assignments are validated too (the capture form assigns)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)
