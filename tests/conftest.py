"""Shared fixtures: tmp copies of the sample district, so tests never write into data/."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "sample-district"
TODAY = date(2026, 11, 23)  # a fixed "today" so overdue checks do not drift with the calendar


@pytest.fixture
def district_dir(tmp_path: Path) -> Path:
    """A fresh copy of the sample district in the test's tmp dir."""
    target = tmp_path / "sample-district"
    shutil.copytree(SAMPLE, target)
    return target


@pytest.fixture(scope="module")
def module_district_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the sample district shared by a module's tests (for expensive renders)."""
    target = tmp_path_factory.mktemp("district") / "sample-district"
    shutil.copytree(SAMPLE, target)
    return target
