"""Shared fixtures: tmp copies of the sample district, so tests never write into data/; the CLI run in-process; the
browser riskkit finds (fails under CI=true when missing); one offline-HTML check."""

from __future__ import annotations

import os
import re
import shutil
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from riskkit.cli import main

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


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The Chromium riskkit itself would drive (`find_browser`: BROWSER_PATH, else chromium/chrome on PATH).

    Without one, browser tests skip on a developer machine but FAIL under `CI=true`, so CI cannot pass without them.
    """
    from riskkit.reports.browser import BrowserNotFoundError, find_browser

    try:
        return find_browser()
    except BrowserNotFoundError as exc:
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail(f"CI=true but no browser for the browser tests: {exc}")
        pytest.skip(str(exc))


def run_cli(*args: object) -> Result:
    """`riskkit ARGS` in-process; a RiskkitError becomes its exit code, any other exception fails the test."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]  # the axe-core rules of WCAG 2.1 A and AA (BITV 2.0)


def axe_violations(page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on a Playwright page, one line each: rule, impact, help, first elements."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    return [f"{v['id']} ({v['impact']}): {v['help']}: {[n['target'] for n in v['nodes'][:3]]}"
            for v in result.response["violations"]]


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes, to assert that nothing changed."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# A remote address in an attribute, an @import or a remote url() anywhere in the raw text (also inside SVG).
REMOTE = re.compile(
    r"""(src|href|srcset|data|poster|action)\s*=\s*["']?\s*(https?:)?//|@import|url\(\s*['"]?\s*(https?:)?//""", re.I
)
REMOTE_VALUE = re.compile(r"^\s*(https?:)?//", re.I)
URL_ATTRIBUTES = ("src", "srcset", "data", "poster", "action", "href")


class Tags(HTMLParser):
    """Every start tag with its attributes (entities decoded), and the text outside <style>."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self._in_style = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if not self._in_style:
            self.text.append(data)


def assert_offline(html: str, name: object = "") -> None:
    """An exported page loads nothing from other hosts: no remote address in the raw text or in any parsed URL
    attribute, and a Content-Security-Policy that denies everything by default."""
    found = REMOTE.search(html)
    assert found is None, (name, found and found.group(0))
    tags = Tags(html).tags
    for tag, attrs in tags:
        for key in URL_ATTRIBUTES:
            assert not REMOTE_VALUE.match(attrs.get(key) or ""), (name, tag, attrs)
    csp = [a["content"] for t, a in tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and csp[0].startswith("default-src 'none';"), (name, csp)
