"""The notebooks riskkit runs (school report, district overview, capture form), shipped as package data.

`notebooks/` at the top of the source tree holds copies for users to open; a test keeps them identical.
May import: nothing of riskkit.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SCHOOL_REPORT = "school_report.ipynb"
DISTRICT_OVERVIEW = "district_overview.ipynb"
CAPTURE = "capture.ipynb"
NAMES = (SCHOOL_REPORT, DISTRICT_OVERVIEW, CAPTURE)


def notebook_path(name: str) -> Path:
    """The installed copy of a shipped notebook (a real file: papermill and Voilà need a path)."""
    if name not in NAMES:
        raise ValueError(f"notebook must be one of {', '.join(NAMES)}, got {name!r}")
    return Path(str(resources.files(__name__) / name))
