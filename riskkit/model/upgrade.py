"""`riskkit migrate`: rewrite school files assessed against an older catalogue version to the current one.

Each rewritten file is saved atomically; its previous version is kept in `schools/.history/` first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .assessment import Migrated
from .district import SCHOOLS_DIR, District, school_files
from .history import keep_previous, stamp
from .i18n import Lang, label


@dataclass(frozen=True)
class Upgrade:
    school_id: str
    file: Path
    migrated: Migrated
    previous: Path | None = None  # the history copy, once written


def upgrade_district(district: District, dry_run: bool = False, now: datetime | None = None) -> list[Upgrade]:
    """Rewrite every school file the district read through the catalogue's migration table (none on a dry run)."""
    when = stamp(now)
    files = {f.stem: f for f in school_files(district.path / SCHOOLS_DIR)}
    done = []
    for school_id, migrated in sorted(district.migrations.items()):
        upgrade = Upgrade(school_id, files[school_id], migrated)
        if not dry_run:
            upgrade = Upgrade(school_id, upgrade.file, migrated, keep_previous(upgrade.file, when))
            district.save_school(district.school(school_id))
        done.append(upgrade)
    return done


def upgrade_report(upgrades: list[Upgrade], lang: Lang, dry_run: bool) -> str:
    """The lines `riskkit migrate` prints: one per school, its changes indented below."""
    if not upgrades:
        return label("migrate.none", lang)
    lines = []
    for u in upgrades:
        head = label("migrate.would" if dry_run else "migrate.done", lang).format(school=u.school_id, file=u.file)
        lines.append(head)
        lines += [f"  - {label(f'migrate.{c.key}', lang).format(**c.values)}" for c in u.migrated.changes]
        if u.previous:
            lines.append(f"  {label('migrate.previous', lang).format(file=u.previous)}")
    return "\n".join(lines)
