"""Earlier versions of school files: before a file is replaced (a save in the form, an import, a migration, a
restore) its previous text is kept in `schools/.history/<id>.<stamp><suffix>` (the last KEEP per school); a broken
file can be put back to one."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from .locks import school_lock
from .yamlio import write_atomic

HISTORY_DIR = ".history"
STAMP = "%Y%m%dT%H%M%S%fZ"
KEEP = 20  # versions kept per school; older ones are removed when a new one is kept


def stamp(now: datetime | None = None) -> str:
    """A UTC time stamp for history file names; they sort by time."""
    return (now or datetime.now(timezone.utc)).strftime(STAMP)


def keep_previous(file: Path, when: str | None = None) -> Path:
    """Copy a school file into the history before it is replaced; returns the copy."""
    previous = file.parent / HISTORY_DIR / f"{file.stem}.{when or stamp()}{file.suffix}"
    write_atomic(previous, file.read_bytes())
    for _, old in versions(file.parent, file.stem)[KEEP:]:
        old.unlink(missing_ok=True)
    return previous


def versions(folder: Path, school_id: str) -> list[tuple[datetime, Path]]:
    """The kept versions of a school's file, newest first, with the time each was replaced."""
    found = []
    for path in (Path(folder) / HISTORY_DIR).glob(f"{school_id}.*"):
        try:
            found.append((datetime.strptime(path.name[len(school_id) + 1:].split(".")[0], STAMP)
                          .replace(tzinfo=timezone.utc), path))
        except ValueError:
            continue  # not one of ours
    return sorted(found, reverse=True)


def restore(folder: Path, school_id: str, version: Path, file: Path) -> None:
    """Put a kept version back as the school's file (under the school's lock); the replaced file is kept too."""
    with school_lock(folder, school_id):
        if file.exists():
            keep_previous(file)
        write_atomic(file, Path(version).read_bytes())
