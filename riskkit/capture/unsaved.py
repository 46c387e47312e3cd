"""Typed work that survives a reload of the page: each school's unsaved draft, with what it was based on, kept in
the district's private folder (`.riskkit/unsaved/<school-id>.json`) until it is saved or discarded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from ..model.yamlio import write_atomic
from .access import private_folder
from .draft import Draft
from .state import FileStamp

FOLDER = "unsaved"


@dataclass
class Unsaved:
    """A draft not saved yet; `base` and `stamp`: the school file it started from (a later save merges with what
    was saved since)."""

    draft: Draft
    base: Draft
    stamp: FileStamp | None
    at: datetime


_ADAPTER = TypeAdapter(Unsaved)


def _path(district_dir: Path, school_id: str) -> Path:
    return private_folder(district_dir) / FOLDER / f"{school_id}.json"


def keep(district_dir: Path, school_id: str, unsaved: Unsaved) -> None:
    path = _path(district_dir, school_id)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    write_atomic(path, _ADAPTER.dump_json(unsaved))


def kept(district_dir: Path, school_id: str) -> Unsaved | None:
    """The school's kept draft; None if there is none or it cannot be read any more (e.g. after an update)."""
    try:
        return _ADAPTER.validate_json(_path(district_dir, school_id).read_bytes())
    except (OSError, ValidationError):
        return None


def forget(district_dir: Path, school_id: str) -> None:
    _path(district_dir, school_id).unlink(missing_ok=True)
